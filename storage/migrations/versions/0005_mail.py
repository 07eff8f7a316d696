"""e-mail: building mail settings, the mail outbox (and record of mails sent), platform mails read, listing map

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_settings",
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_mail_settings_property_id_properties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("property_id", name=op.f("pk_mail_settings")),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("attachment_name", sa.String(length=200), nullable=True),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("attachment_sha256", sa.String(length=64), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("smtp_response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_mail_outbox_booking_id_bookings"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_mail_outbox_property_id_properties"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mail_outbox_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_mail_outbox_idempotency_key")),
    )
    op.create_index("ix_mail_outbox_pending", "mail_outbox", ["status", "not_before"])
    op.create_index(op.f("ix_mail_outbox_property_id"), "mail_outbox", ["property_id"])
    op.create_index(op.f("ix_mail_outbox_booking_id"), "mail_outbox", ["booking_id"])
    op.create_table(
        "platform_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("reservation_code", sa.String(length=32), nullable=True),
        sa.Column("listing", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_platform_mails_booking_id_bookings"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_platform_mails_property_id_properties"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_mails")),
        sa.UniqueConstraint("folder", "uidvalidity", "uid", name=op.f("uq_platform_mails_folder")),
    )
    op.create_index(op.f("ix_platform_mails_reservation_code"), "platform_mails", ["reservation_code"])
    op.create_table(
        "listing_map",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("listing", sa.String(length=200), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_listing_map_property_id_properties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_map")),
        sa.UniqueConstraint("platform", "listing", name=op.f("uq_listing_map_platform")),
    )


def downgrade() -> None:
    op.drop_table("listing_map")
    op.drop_index(op.f("ix_platform_mails_reservation_code"), table_name="platform_mails")
    op.drop_table("platform_mails")
    op.drop_index(op.f("ix_mail_outbox_booking_id"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_property_id"), table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_pending", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("mail_settings")
