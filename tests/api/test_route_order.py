"""The incidents router is matched first (api.app.ROUTERS): that is safe only while no path of its routes is also a
path of another router's, so that every request still reaches the route it reached in any order."""

from __future__ import annotations

import re

from starlette.routing import compile_path

from api.app import ROUTERS
from api.routers import incidents


def paths(module: object) -> list[str]:
    return [route.path for route in module.router.routes if getattr(route, "path", None)]


def example(path: str) -> str:
    """A concrete path the route path matches (each parameter as 123)."""
    return re.sub(r"\{[^}]+\}", "123", path)


def test_incidents_are_matched_first_and_share_no_path_with_another_router() -> None:
    assert ROUTERS[0] is incidents
    ours = [(path, compile_path(path)[0]) for path in paths(incidents)]
    shared = []
    for module in ROUTERS[1:]:
        for path in paths(module):
            theirs = compile_path(path)[0]
            shared += [(mine, path) for mine, pattern in ours
                       if pattern.match(example(path)) or theirs.match(example(mine))]
    assert shared == []
