"""What each role sees on maps (OGC features and vector tiles): the Scope their queries filter by."""

from __future__ import annotations

from fastapi import Depends

from api.deps import CurrentUser, Principal
from api.errors import ForbiddenError
from geogrid import access
from geogrid.store.spatial import Scope


def scope_of(user: Principal) -> Scope:
    """The store's Scope for the user's map view (geogrid.access.map_view); 403 for a role without maps."""
    if not access.sees_maps(user):
        raise ForbiddenError("department staff see the cases dispatched to them, not the grid maps")
    view = access.map_view(user)
    return Scope() if view.everything else Scope(area=view.area, grid=view.grid)


async def map_scope(user: CurrentUser) -> Scope:
    """The signed-in user's map scope.

    async: it does no I/O, so it runs on the event loop instead of a worker thread.
    """
    return scope_of(user)


MapScope = Depends(map_scope)
