"""Alembic migrations of the geogrid store."""
