"""Partition jobs in the store, so that every API worker and instance sees every job.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    """Create the table, with one unfinished job per community at most."""
    op.create_table(
        "partition_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("community_code", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partition_jobs")),
    )
    op.create_index(op.f("ix_partition_jobs_community_code"), "partition_jobs", ["community_code"], unique=False)
    op.create_index("uq_partition_jobs_active", "partition_jobs", ["community_code"], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("uq_partition_jobs_active", table_name="partition_jobs")
    op.drop_index(op.f("ix_partition_jobs_community_code"), table_name="partition_jobs")
    op.drop_table("partition_jobs")
