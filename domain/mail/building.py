"""The building's side: which addresses get a property's guest authorizations, when, and what they were last told.

A mail is queued as a request (the mail outbox row: kind, booking, recipients, a snapshot of what the building is
told); the mail job renders its authorization and text when it first takes the row, then keeps those bytes for any
retry. What was last sent for a booking is the snapshot of its newest sent row, so a change of dates, guests or
plate (or a cancellation) is found by comparing snapshots, whoever made the change (a sync, a person).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.booking_fields import display_guest
from domain.bookings import guests_of
from domain.inputs import InputError, parse_email
from domain.outbox import queue_alert
from storage.models import Booking, MailOutbox, MailSettings, Outbox, Property, User

MODES = ("auto", "ask", "never")
KINDS = ("authorization", "revision", "cancellation", "test")
NOTICE_KINDS = ("authorization", "revision", "cancellation")
MAX_ADDRESSES = 5
RECENT_DAYS = 2  # stays that ended longer ago than this are no business of the building any more


@dataclass(frozen=True, slots=True)
class BuildingMail:
    """A property's mail settings as used (defaults applied)."""

    property_id: int
    addresses: tuple[str, ...]
    mode: str
    locale: str
    body: str | None

    @property
    def can_send(self) -> bool:
        return bool(self.addresses) and self.mode != "never"


async def building_mail(session: AsyncSession, prop: Property) -> BuildingMail:
    """The property's settings; without any, the building e-mail given when the property was added, on request."""
    row = await session.get(MailSettings, prop.id)
    if row is None:
        addresses = (prop.building_email,) if prop.building_email else ()
        return BuildingMail(prop.id, addresses, "ask", "pt_BR", None)
    return BuildingMail(prop.id, tuple(row.addresses or ()), row.mode, row.locale, row.body)


def parse_addresses(text: str) -> list[str]:
    """One or more addresses, separated by commas, semicolons, spaces or lines."""
    parts = [p for p in text.replace(";", ",").replace("\n", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise InputError("email_format")
    if len(parts) > MAX_ADDRESSES:
        raise InputError("count_range", low=1, high=MAX_ADDRESSES)
    seen: list[str] = []
    for part in parts:
        address = parse_email(part)
        if address.lower() not in (s.lower() for s in seen):
            seen.append(address)
    return seen


async def update_settings(
    session: AsyncSession, prop: Property, *, user: User, now: datetime, **changes: Any
) -> BuildingMail:
    """Change some of addresses / mode / locale / body (None body: back to the default text)."""
    current = await building_mail(session, prop)
    row = await session.get(MailSettings, prop.id)
    if row is None:
        row = MailSettings(property_id=prop.id, addresses=list(current.addresses), mode=current.mode,
                           locale=current.locale, body=None)  # fmt: skip
        session.add(row)
    for key, value in changes.items():
        if key == "mode" and value not in MODES:
            raise ValueError(value)
        if key not in ("addresses", "mode", "locale", "body"):
            raise ValueError(key)
        setattr(row, key, list(value) if key == "addresses" else value)
    row.updated_at = now
    await session.flush()
    await audit(session, user, "property.mail", "property", prop.id, {"fields": sorted(changes)}, now=now)
    return await building_mail(session, prop)


# --- what the building is told ---------------------------------------------------------------------------------


async def snapshot(session: AsyncSession, booking: Booking) -> dict[str, Any]:
    """The facts of a stay the building cares about; a change in any of them deserves a revised authorization."""
    guests = await guests_of(session, booking)
    main = display_guest(booking)
    names = [g.full_name for g in guests] or ([main] if main else [])
    return {
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "guests_count": booking.guests_count,
        "vehicle_plate": booking.vehicle_plate,
        "guests": names,
    }


def snapshot_key(snap: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(snap, sort_keys=True).encode()).hexdigest()[:16]


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Which of dates / guests / plate differ, in that order."""
    fields = []
    if (before.get("check_in"), before.get("check_out")) != (after.get("check_in"), after.get("check_out")):
        fields.append("dates")
    if before.get("guests_count") != after.get("guests_count") or before.get("guests") != after.get("guests"):
        fields.append("guests")
    if before.get("vehicle_plate") != after.get("vehicle_plate"):
        fields.append("plate")
    return fields


def new_message_id(sender: str) -> str:
    domain = sender.rpartition("@")[2] or "lumina.invalid"
    return f"<{secrets.token_hex(12)}@{domain}>"


async def queue_mail(
    session: AsyncSession,
    prop: Property,
    booking: Booking | None,
    kind: str,
    *,
    recipients: list[str],
    key: str,
    now: datetime,
    sender: str,
    user: User | None = None,
    snap: dict[str, Any] | None = None,
) -> MailOutbox | None:
    """A request for the mail job; None if a mail with this key was queued before (never twice)."""
    if kind not in KINDS:
        raise ValueError(kind)
    if await session.scalar(select(MailOutbox.id).where(MailOutbox.idempotency_key == key)) is not None:
        return None
    row = MailOutbox(
        idempotency_key=key, property_id=prop.id, booking_id=booking.id if booking else None,
        user_id=user.id if user else None, kind=kind, recipients=list(recipients), subject="", body="",
        message_id=new_message_id(sender), snapshot=snap, status="pending", attempts=0, created_at=now,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    if user is not None:
        await audit(session, user, "mail.queued", "booking" if booking else "property",
                    booking.id if booking else prop.id, {"mail_id": row.id, "kind": kind}, now=now)  # fmt: skip
    return row


async def last_notice(session: AsyncSession, booking_id: int) -> MailOutbox | None:
    """The newest authorization, revision or cancellation sent, or on its way, for this booking."""
    query = (
        select(MailOutbox)
        .where(MailOutbox.booking_id == booking_id, MailOutbox.kind.in_(NOTICE_KINDS),
               MailOutbox.status.in_(("pending", "sending", "sent")))
        .order_by(MailOutbox.id.desc())
        .limit(1)
    )  # fmt: skip
    return await session.scalar(query)


async def queue_notice(
    session: AsyncSession, prop: Property, booking: Booking, settings: BuildingMail, *, now: datetime, sender: str,
    user: User | None = None, kind: str | None = None, again: str | None = None,
) -> MailOutbox | None:  # fmt: skip
    """The authorization (or, after one, a revision; for a cancelled stay, a cancellation notice) of the booking as
    it is now. None when the building was already told exactly this, unless `again` (a key part that makes one
    deliberate re-send once: the pressed message's id, say)."""
    snap = await snapshot(session, booking)
    previous = await last_notice(session, booking.id)
    told = previous is not None and previous.snapshot == snap and (previous.kind == "cancellation") == (
        booking.status == "cancelled")
    if told and again is None:
        return None
    if told and previous is not None and kind is None:
        kind = previous.kind  # the same mail again, on purpose (the building lost it, say)
    if kind is None:
        if booking.status == "cancelled":
            kind = "cancellation"
        else:
            kind = "authorization" if previous is None or previous.kind == "cancellation" else "revision"
    key = f"{kind}:{booking.id}:{snapshot_key(snap)}" + (f":{again}" if again else "")
    return await queue_mail(session, prop, booking, kind, recipients=list(settings.addresses), key=key, now=now,
                            sender=sender, user=user, snap=snap)  # fmt: skip


# --- watching for changes after an authorization was sent -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """A booking whose building was told something that is no longer true."""

    booking: Booking
    prop: Property
    notice: MailOutbox  # the last one sent
    now_snapshot: dict[str, Any]
    fields: list[str]  # dates | guests | plate, or ["cancelled"]


async def outdated_notices(session: AsyncSession, *, today: date) -> list[Pending]:
    """Bookings whose last sent authorization or revision no longer matches them (or that were cancelled since)."""
    newest = (
        select(func.max(MailOutbox.id))
        .where(MailOutbox.kind.in_(NOTICE_KINDS), MailOutbox.booking_id.is_not(None),
               MailOutbox.status.in_(("pending", "sending", "sent")))  # a failed mail told the building nothing
        .group_by(MailOutbox.booking_id)
    )
    rows = await session.execute(
        select(MailOutbox, Booking, Property)
        .join(Booking, Booking.id == MailOutbox.booking_id)
        .join(Property, Property.id == Booking.property_id)
        .where(MailOutbox.id.in_(newest), MailOutbox.status == "sent", MailOutbox.kind != "cancellation",
               Booking.check_out >= today - timedelta(days=RECENT_DAYS), Property.archived_at.is_(None))
    )  # fmt: skip
    found = []
    for notice, booking, prop in rows.all():
        if booking.status == "cancelled":
            found.append(Pending(booking, prop, notice, await snapshot(session, booking), ["cancelled"]))
            continue
        if booking.status not in ("active", "missing"):
            continue
        now_snap = await snapshot(session, booking)
        fields = changed_fields(notice.snapshot or {}, now_snap)
        if fields:
            found.append(Pending(booking, prop, notice, now_snap, fields))
    return found


async def asked_before(session: AsyncSession, key_prefix: str) -> bool:
    query = select(Outbox.id).where(Outbox.idempotency_key.startswith(key_prefix)).limit(1)
    return await session.scalar(query) is not None


async def tell(
    session: AsyncSession, prop: Property, kind: str, key: str, *, now: datetime, payload: dict[str, Any],
    user_id: int | None = None, booking_id: int | None = None,
) -> int:  # fmt: skip
    """A chat message about the building's mail: to the person who asked for it, else to everyone who gets the
    property's alerts. Idempotent by `key`."""
    if await asked_before(session, f"{key}:"):
        return 0
    if user_id is None:
        return await queue_alert(session, prop, kind, key, now=now, payload=payload, booking_id=booking_id)
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return await queue_alert(session, prop, kind, key, now=now, payload=payload, booking_id=booking_id)
    row_key = f"{key}:{user.id}"
    if await session.scalar(select(Outbox.id).where(Outbox.idempotency_key == row_key)) is not None:
        return 0
    session.add(Outbox(idempotency_key=row_key, user_id=user.id, chat_id=user.telegram_id, kind=kind,
                       property_id=prop.id, booking_id=booking_id, payload={"property": prop.name, **payload},
                       status="pending", attempts=0, created_at=now))  # fmt: skip
    await session.flush()
    return 1
