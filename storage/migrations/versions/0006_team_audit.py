"""team and audit: invites can be revoked and say when they were made; audit events name their property and,
for a job, the job; a cleaner marks a turnover done

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("turnover_messages") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("property_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("actor", sa.String(length=32), nullable=True))
        batch.create_index(batch.f("ix_audit_log_property_id"), ["property_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("turnover_messages") as batch:
        batch.drop_column("done_at")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index(batch.f("ix_audit_log_property_id"))
        batch.drop_column("actor")
        batch.drop_column("property_id")
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("created_at")
