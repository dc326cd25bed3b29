"""A data version row, raised at the commit of every audited change, in commit order.

The newest audit row's id cannot serve: ids come from a sequence, and on PostgreSQL a transaction
holding a smaller id may commit after one holding a larger id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table with its one row, starting from the newest audit row's id."""
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (id, version) SELECT 1, coalesce(max(id), 0) FROM audit_log")


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("data_version")
