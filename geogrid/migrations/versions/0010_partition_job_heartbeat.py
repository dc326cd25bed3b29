"""A partition job's heartbeat (its owner's lease), so that a job whose worker is gone on any host is failed.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add partition_jobs.heartbeat_at; an unfinished job of before has none, and its lease runs from its start."""
    with op.batch_alter_table("partition_jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("partition_jobs") as batch:
        batch.drop_column("heartbeat_at")
