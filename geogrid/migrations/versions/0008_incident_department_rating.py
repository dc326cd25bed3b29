"""The street's rating of the department's work on a case (assess, 一哨一考核), 1-5, kept on the case.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add incidents.department_rating, empty for every existing case."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("department_rating", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("department_rating")
