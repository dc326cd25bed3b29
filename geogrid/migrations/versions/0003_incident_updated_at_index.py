"""Index incidents.updated_at: the statistics snapshot reads what changed since its last look.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the index."""
    op.create_index(op.f("ix_incidents_updated_at"), "incidents", ["updated_at"], unique=False)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(op.f("ix_incidents_updated_at"), table_name="incidents")
