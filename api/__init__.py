"""geogrid's HTTP API: FastAPI routers over the store, under /api/v1."""
