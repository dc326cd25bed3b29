"""The reason a plan version was published although it breaks a count limit, kept with the version.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add plan_versions.publish_reason (empty for every version published before)."""
    with op.batch_alter_table("plan_versions") as batch:
        batch.add_column(sa.Column("publish_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("plan_versions") as batch:
        batch.drop_column("publish_reason")
