"""Lookups several routers share, answering 404: they live in the store (``geogrid.store.grids``)."""

from __future__ import annotations

from geogrid.store.grids import check_community, community_plan

__all__ = ["check_community", "community_plan"]
