"""Index the open cases by state, level and street: the case desk's queue (geogrid.store.desk.awaiting) reads
the few open cases at a level among a million, mostly closed ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status <> 'closed' AND grid_code IS NOT NULL")


def upgrade() -> None:
    """Add a partial index of the open, located cases (state, level, street, deadline), on both stores: a street's
    counts per state are read from it alone, and its most urgent cases of each state in deadline order."""
    op.create_index("ix_incidents_open_queue", "incidents", ["status", "level", "street_code", "deadline_at"],
                    unique=False,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_incidents_open_queue", table_name="incidents")
