"""numbers: a property's default nightly rate (estimates for stays without a price), the monthly summary switch

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("properties") as batch:
        batch.add_column(sa.Column("default_rate", sa.Numeric(precision=12, scale=2), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("monthly_stats", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("monthly_stats")
    with op.batch_alter_table("properties") as batch:
        batch.drop_column("default_rate")
