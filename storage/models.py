"""The whole data model. Changes go through Alembic migrations (storage/migrations), never create_all in production."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    and_,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def _now_default() -> Any:
    return text("CURRENT_TIMESTAMP")


class AppState(Base):
    """Small key/value facts about this installation (e.g. the one-time setup code's hash)."""

    __tablename__ = "app_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=_now_default())


# Who sees the whole installation (every property, the team, the settings); everyone else sees the properties
# property_access gives them, each with its role (PROPERTY_ROLES). The rights of each role: domain/team.py.
INSTALLATION_ROLES = ("owner", "co_owner")
PROPERTY_ROLES = ("manager", "cleaner", "viewer")


def whole_installation(user: User) -> bool:
    return user.role in INSTALLATION_ROLES


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    # owner, co_owner: the whole installation; anything else ("viewer"): only the properties in property_access
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    locale: Mapped[str] = mapped_column(String(8), default="pt_BR")
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once the user blocked the bot
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    summary_hour: Mapped[int | None] = mapped_column(Integer)
    alert_kinds: Mapped[list[Any] | None] = mapped_column()  # None = all kinds
    monthly_stats: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))  # on the 1st
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class Property(Base):
    __tablename__ = "properties"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    checkin_time: Mapped[time] = mapped_column(Time, default=time(15, 0))
    checkout_time: Mapped[time] = mapped_column(Time, default=time(11, 0))
    capacity: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    # Per night, in `currency`: /stats estimates stays without a price with it, always shown apart from real prices.
    default_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    building_contact_name: Mapped[str | None] = mapped_column(String(120))
    building_email: Mapped[str | None] = mapped_column(String(254))
    export_token: Mapped[str] = mapped_column(String(64), unique=True)  # secret part of the export URLs
    export_guest_names: Mapped[bool] = mapped_column(Boolean, default=False)
    private_info: Mapped[dict[str, Any] | None] = mapped_column()  # door codes, Wi-Fi: only in check-in documents
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())

    feeds: Mapped[list[Feed]] = relationship(back_populates="property", lazy="raise")


class PropertyAccess(Base):
    __tablename__ = "property_access"
    __table_args__ = (UniqueConstraint("user_id", "property_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # manager | cleaner | viewer


class Invite(Base):
    """A single-use link to join: a role on some properties (co_owner: the whole installation). Only the code's
    hash is kept."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    property_ids: Mapped[list[Any]] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class Feed(Base):
    """One platform export URL of one property, with its health."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("property_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(16), default="other")
    label: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    blocks_are_echo: Mapped[bool] = mapped_column(Boolean, default=False)  # host said: this feed's blocks mirror
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # of the last good body, minus DTSTAMP lines
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(64))  # a reason code, localized when shown
    last_error_detail: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    in_trouble: Mapped[bool] = mapped_column(Boolean, default=False)  # a trouble alert went out, recovery pending
    suspicious_since: Mapped[datetime | None] = mapped_column()  # last good download lost many stays at once
    next_sync_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())

    property: Mapped[Property] = relationship(back_populates="feeds", lazy="raise")


# A stay holds its nights while it is active or missing (absent from its feed, its cancellation not confirmed yet).
LIVE_STATUSES = ("active", "missing")


def hosted() -> ColumnElement[bool]:
    """The live stays a person deals with: a stay that only mirrors another source's stay (a Booking.com closure
    of an Airbnb guest's nights) is that stay's echo, shown once, as the stay it mirrors."""
    return and_(Booking.status.in_(LIVE_STATUSES), Booking.echo_of_id.is_(None))


class Booking(Base):
    """A stay or a block: from a feed (feed_id set) or entered in LUMINA (source "direct")."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("feed_id", "uid"),  # one booking per feed and stay identity
        UniqueConstraint("export_uid"),
        Index("ix_bookings_property_dates", "property_id", "check_in", "check_out"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # airbnb | booking | vrbo | agoda | other | direct
    kind: Mapped[str] = mapped_column(String(16))  # reservation | block | tentative | window
    # active | missing (absent from the feed, cancellation not yet confirmed) | cancelled | ended
    status: Mapped[str] = mapped_column(String(16), default="active")
    uid: Mapped[str | None] = mapped_column(String(255))
    export_uid: Mapped[str] = mapped_column(String(80))  # stable across date edits, used in our export feeds
    check_in: Mapped[date] = mapped_column(Date)
    check_out: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(String(255), default="")
    reservation_code: Mapped[str | None] = mapped_column(String(32))
    phone_last4: Mapped[str | None] = mapped_column(String(8))
    feed_guest_name: Mapped[str | None] = mapped_column(String(200))  # as the feed gave it
    # Filled in by a person; a sync never writes these.
    guest_name: Mapped[str | None] = mapped_column(String(200))
    guest_phone: Mapped[str | None] = mapped_column(String(40))
    guest_email: Mapped[str | None] = mapped_column(String(254))
    guests_count: Mapped[int | None] = mapped_column(Integer)
    vehicle_plate: Mapped[str | None] = mapped_column(String(20))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    notes: Mapped[str | None] = mapped_column(Text)
    # Sync bookkeeping
    first_seen_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    missing_since: Mapped[datetime | None] = mapped_column()
    missing_count: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # Booking.com groups booked nights into runs (ICAL_FACTS §2.3): a stay merged into a neighbouring run is still
    # booked and waits here until its nights are its own event again or go free.
    absorbed_at: Mapped[datetime | None] = mapped_column()
    # Nights this stay holds only because another source held them first: the platform closing what was sold
    # elsewhere (Booking.com's "CLOSED - Not available" for an Airbnb guest). [[check_in, check_out], ...] ISO dates.
    echo_nights: Mapped[list[Any] | None] = mapped_column()
    # Set when every night is an echo: the stay is that other stay's mirror, not a guest of its own.
    echo_of_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())
    updated_at: Mapped[datetime | None] = mapped_column()

    guests: Mapped[list[Guest]] = relationship(
        back_populates="booking", lazy="raise", cascade="all, delete-orphan", order_by="Guest.position"
    )


class Guest(Base):
    __tablename__ = "guests"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # 0 = main guest
    full_name: Mapped[str] = mapped_column(String(200))
    document_type: Mapped[str | None] = mapped_column(String(20))  # CPF, RG, passport, ...
    document_number: Mapped[str | None] = mapped_column(String(40))
    nationality: Mapped[str | None] = mapped_column(String(60))
    birth_date: Mapped[date | None] = mapped_column(Date)

    booking: Mapped[Booking] = relationship(back_populates="guests", lazy="raise")


class Conflict(Base):
    """An incident: nights of one property held by two stays that should not share them. It follows its stays
    through re-cuts, merges and new UIDs (booking_a/b are the pair holding the contested nights now); a night
    contested again after the incident closed is a new row."""

    __tablename__ = "conflicts"
    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"), index=True)
    booking_a_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)  # lower id
    booking_b_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    klass: Mapped[str] = mapped_column(String(16))  # double_booking | echo | window | tentative | same_source
    severity: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | resolved | echo
    dates_key: Mapped[str] = mapped_column(String(64))  # both stays' dates when last (re)opened or resolved
    overlap_start: Mapped[date] = mapped_column(Date)
    overlap_end: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    snoozed_until: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))  # ok | not_modified | failed | suspicious
    http_status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(Integer)
    events: Mapped[int | None] = mapped_column(Integer)
    skipped: Mapped[int | None] = mapped_column(Integer)
    counts: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)


class BookingChange(Base):
    """Every change a sync (or a person) made to a booking, with before and after: the answer to 'why?'."""

    __tablename__ = "booking_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column()
    change: Mapped[str] = mapped_column(String(16))  # new | changed | cancelled | restored | ended | reissued | missing
    kind: Mapped[str] = mapped_column(String(16))
    uid: Mapped[str | None] = mapped_column(String(255))
    previous_uid: Mapped[str | None] = mapped_column(String(255))
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    alert: Mapped[bool] = mapped_column(Boolean, default=False)


class Outbox(Base):
    """Alerts waiting for delivery, written in the transaction of the change that caused them."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # breaks through quiet hours
    property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | dead
    not_before: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Found in "sending" after a crash and sent again: it may have arrived already, so the message says so.
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()


class TurnoverMessage(Base):
    """The one cleaner message per turnover, edited when dates change and struck through when cancelled."""

    __tablename__ = "turnover_messages"
    __table_args__ = (UniqueConstraint("user_id", "departing_booking_id", "arriving_booking_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))
    departing_booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    arriving_booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column()  # the cleaner pressed "Done": the message is not edited again


class DocumentTemplate(Base):
    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("property_id", "kind", "locale", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # authorization | checkin | receipt
    locale: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class Document(Base):
    """A generated document, kept so it can be sent again unchanged."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("document_templates.id", ondelete="SET NULL"))
    template_version: Mapped[str] = mapped_column(String(32))  # "default-1" or the uploaded version
    file_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    emailed_to: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column()


class AuditLog(Base):
    """Who changed what, when: append-only (storage/audit_guard.py), pruned after LUMINA_AUDIT_KEEP_DAYS."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str | None] = mapped_column(String(32))  # a job ("job:sync") when no person did it
    property_id: Mapped[int | None] = mapped_column(Integer, index=True)  # kept when the property is gone
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column()


class MailSettings(Base):
    """How one property's building gets its guest authorizations by e-mail."""

    __tablename__ = "mail_settings"
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True)
    addresses: Mapped[list[Any]] = mapped_column()  # the building's addresses (front desk, administrator)
    mode: Mapped[str] = mapped_column(String(8), default="ask")  # auto | ask (on request) | never
    locale: Mapped[str] = mapped_column(String(8), default="pt_BR")  # of the mail and its authorization
    body: Mapped[str | None] = mapped_column(Text)  # the host's own message; None = the localized default
    updated_at: Mapped[datetime | None] = mapped_column()


class MailOutbox(Base):
    """Mails waiting to go out through SMTP, and the record of every mail sent (kept: to, subject, time, message id
    and the attachment's SHA-256)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_pending", "status", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: automatic
    kind: Mapped[str] = mapped_column(String(16))  # authorization | revision | cancellation | test
    recipients: Mapped[list[Any]] = mapped_column()
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255))  # the Message-ID header, fixed when queued
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column()  # what the building is told (dates, guests, plate)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    smtp_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()


class PlatformMail(Base):
    """A platform's reservation mail read over IMAP (each message once: folder, UIDVALIDITY and UID)."""

    __tablename__ = "platform_mails"
    __table_args__ = (UniqueConstraint("folder", "uidvalidity", "uid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(16))  # airbnb | booking
    event: Mapped[str] = mapped_column(String(16))  # confirmed | changed | cancelled
    reservation_code: Mapped[str | None] = mapped_column(String(32), index=True)
    listing: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))  # filled | matched | unmatched | ignored | news
    property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    received_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class ListingMap(Base):
    """A platform's listing (its id or name in the mails) mapped once by the host to a property."""

    __tablename__ = "listing_map"
    __table_args__ = (UniqueConstraint("platform", "listing"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    listing: Mapped[str] = mapped_column(String(200))
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))
