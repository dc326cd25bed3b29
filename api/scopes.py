"""What each role sees on maps (OGC features and vector tiles): the Scope their queries filter by."""

from __future__ import annotations

from fastapi import Depends

from api.deps import CurrentUser, Principal
from api.errors import ForbiddenError
from geogrid.store.spatial import Scope


def scope_of(user: Principal) -> Scope:
    """Admins see everything; planners and leaders their area; a grid worker their own grid; department staff no map (403)."""
    if user.role == "department_staff":
        raise ForbiddenError("department staff see the cases dispatched to them, not the grid maps")
    if user.role == "admin":
        return Scope()
    if user.role == "grid_worker":
        return Scope(grid=user.scope)
    return Scope(area=user.scope)


async def map_scope(user: CurrentUser) -> Scope:
    """The signed-in user's map scope.

    async: it does no I/O, so it runs on the event loop instead of a worker thread.
    """
    return scope_of(user)


MapScope = Depends(map_scope)
