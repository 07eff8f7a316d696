"""stays on nights: absorbed runs, Booking.com echoes, conflicts as incidents

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("absorbed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("echo_nights", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("echo_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_bookings_echo_of_id_bookings"), "bookings", ["echo_of_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("conflicts") as batch:
        # One row per incident (a set of contested nights), no longer one per pair of stays: an incident follows
        # its stays through re-cuts and merges, and a night contested again after "resolved" is a new row.
        batch.drop_constraint(op.f("uq_conflicts_booking_a_id_booking_b_id"), type_="unique")
        batch.create_index(op.f("ix_conflicts_booking_a_id"), ["booking_a_id"])


def downgrade() -> None:
    with op.batch_alter_table("conflicts") as batch:
        batch.drop_index(op.f("ix_conflicts_booking_a_id"))
        batch.create_unique_constraint(
            op.f("uq_conflicts_booking_a_id_booking_b_id"), ["booking_a_id", "booking_b_id"]
        )
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint(op.f("fk_bookings_echo_of_id_bookings"), type_="foreignkey")
        batch.drop_column("echo_of_id")
        batch.drop_column("echo_nights")
        batch.drop_column("absorbed_at")
