"""Turnovers for cleaners: who leaves, who arrives next, and the window between them. One message per turnover and
cleaner, edited when the dates change and struck through when the departing stay is cancelled.

A turnover's identity is its departing stay (one departure, one cleaning): when the next arrival changes, the same
message is edited. compute_turnovers() is pure; refresh_turnovers() brings the stored TurnoverMessage rows in line
with it and queues the sends and edits through the outbox (kind "turnover").
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.alerts import AlertKind, add_outbox_rows, outbox_row
from domain.audit import audit
from domain.properties import MANAGE_ROLES, visible
from domain.time import property_today
from storage.models import INSTALLATION_ROLES, Booking, Outbox, Property, PropertyAccess, TurnoverMessage, User, hosted

log = logging.getLogger("lumina.turnovers")

HORIZON_DAYS = 30  # new turnover messages only this far ahead; an existing one is kept up to date however far


@dataclass(frozen=True, slots=True)
class Stay:
    id: int
    check_in: date
    check_out: date
    platform: str = "other"
    guests: int | None = None  # a cleaner learns how many, never who: no names, phones or prices


@dataclass(frozen=True, slots=True)
class Turnover:
    departing: Stay
    arriving: Stay | None  # None: nothing booked after this departure yet

    @property
    def day(self) -> date:
        return self.departing.check_out


def compute_turnovers(stays: Iterable[Stay], *, today: date) -> list[Turnover]:
    """One turnover per departure from `today` on, paired with the first arrival on or after that day.

    Overlapping stays (the same stay echoed by two platforms, or a real double booking) form one occupied block:
    the cleaning happens when the whole block ends, after the stay that leaves last (lowest id on a tie).
    """
    blocks: list[list[Stay]] = []
    end: date | None = None
    for stay in sorted(stays, key=lambda s: (s.check_in, s.check_out, s.id)):
        if end is not None and stay.check_in < end:  # half-open: leaving and arriving the same day do not overlap
            blocks[-1].append(stay)
            end = max(end, stay.check_out)
        else:
            blocks.append([stay])
            end = stay.check_out
    turnovers = []
    for index, block in enumerate(blocks):
        departing = min(block, key=lambda s: (-s.check_out.toordinal(), s.id))
        if departing.check_out < today:
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else []
        arriving = min(following, key=lambda s: (s.check_in, s.id)) if following else None
        turnovers.append(Turnover(departing, arriving))
    return turnovers


def _stay_content(stay: Stay | None) -> dict[str, Any] | None:
    if stay is None:
        return None
    return {
        "booking_id": stay.id,
        "check_in": stay.check_in.isoformat(),
        "check_out": stay.check_out.isoformat(),
        "platform": stay.platform,
        "guests": stay.guests,
    }


def turnover_content(turnover: Turnover, prop: Property, *, cancelled: bool = False) -> dict[str, Any]:
    """What a cleaner's message says, as JSON-safe data (the outbox payload); its hash tells whether to edit."""
    return {
        "property": prop.name,
        "day": turnover.day.isoformat(),
        "checkout_time": prop.checkout_time.strftime("%H:%M"),
        "checkin_time": prop.checkin_time.strftime("%H:%M"),
        "departing": _stay_content(turnover.departing),
        "arriving": _stay_content(turnover.arriving),
        "cancelled": cancelled,
    }


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def stay_of(booking: Booking) -> Stay:
    return Stay(
        id=booking.id,
        check_in=booking.check_in,
        check_out=booking.check_out,
        platform=booking.source,
        guests=booking.guests_count,
    )


# --- keeping the stored messages in line -------------------------------------------------------------------


async def cleaners_of(session: AsyncSession, property_id: int) -> Sequence[User]:
    query = (
        select(User)
        .join(PropertyAccess, PropertyAccess.user_id == User.id)
        .where(PropertyAccess.property_id == property_id, PropertyAccess.role == "cleaner", User.is_active.is_(True))
    )
    return (await session.scalars(query.order_by(User.id))).all()


async def refresh_turnovers(
    session: AsyncSession, prop: Property, *, now: datetime, today: date | None = None, horizon_days: int = HORIZON_DAYS
) -> int:
    """Create, edit or strike the cleaners' turnover messages of one property. Returns the outbox rows queued.

    Runs inside the caller's transaction (the sync of a feed, or the periodic refresh); idempotent.
    """
    cleaners = await cleaners_of(session, prop.id)
    if not cleaners:
        return 0
    if today is None:
        today = property_today(prop, now)
    live = (
        await session.scalars(
            select(Booking).where(
                Booking.property_id == prop.id,
                hosted(),
                Booking.kind == "reservation",
                Booking.check_out >= today,
            )
        )
    ).all()
    turnovers = {t.departing.id: t for t in compute_turnovers([stay_of(b) for b in live], today=today)}
    existing = (
        await session.scalars(
            select(TurnoverMessage).where(
                TurnoverMessage.property_id == prop.id,
                TurnoverMessage.user_id.in_([c.id for c in cleaners]),
            )
        )
    ).all()
    gone_ids = {tm.departing_booking_id for tm in existing if tm.departing_booking_id not in turnovers}
    gone_ids |= {tm.arriving_booking_id for tm in existing if tm.arriving_booking_id}
    gone_ids.discard(None)
    known = {b.id: b for b in live}
    missing = [i for i in gone_ids if i is not None and i not in known]
    if missing:
        for booking in (await session.scalars(select(Booking).where(Booking.id.in_(missing)))).all():
            known[booking.id] = booking

    horizon = today + timedelta(days=horizon_days)
    queued = 0
    for cleaner in cleaners:
        mine = {tm.departing_booking_id: tm for tm in existing if tm.user_id == cleaner.id}
        for departing_id, turnover in turnovers.items():
            tm = mine.get(departing_id)
            if tm is None and turnover.day > horizon:
                continue
            content = turnover_content(turnover, prop)
            digest = content_hash(content)
            if tm is None:
                tm = await _new_message(session, cleaner, prop, turnover, digest)
                if tm is None:  # another transaction made it first; it queues the message
                    continue
            elif tm.text_hash == digest or tm.done_at is not None:
                continue  # unchanged, or done: the cleaner's "✅ Done" stays as it is
            else:
                tm.arriving_booking_id = turnover.arriving.id if turnover.arriving else None
                tm.text_hash, tm.cancelled = digest, False
            queued += await _queue(session, cleaner, prop, tm, content, digest, now=now)
        for old in mine.values():
            if (
                old.departing_booking_id in turnovers
                or old.cancelled
                or old.departing_booking_id is None
                or old.done_at
            ):
                continue
            departing = known.get(old.departing_booking_id)
            if departing is not None and departing.check_out < today:
                continue  # an old turnover: leave its message alone
            queued += await _strike(session, cleaner, prop, old, departing, known, now=now)
    return queued


async def _new_message(
    session: AsyncSession, cleaner: User, prop: Property, turnover: Turnover, digest: str
) -> TurnoverMessage | None:
    values = {
        "user_id": cleaner.id,
        "property_id": prop.id,
        "departing_booking_id": turnover.departing.id,
        "arriving_booking_id": turnover.arriving.id if turnover.arriving else None,
        "chat_id": cleaner.telegram_id,
        "message_id": None,
        "text_hash": digest,
        "cancelled": False,
    }
    # ON CONFLICT DO NOTHING: two feeds of one property synced at once (PostgreSQL) must not fail each other.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(TurnoverMessage).values(values).on_conflict_do_nothing().returning(TurnoverMessage.id)
    new_id = await session.scalar(statement)
    return None if new_id is None else await session.get(TurnoverMessage, new_id)


async def _strike(
    session: AsyncSession,
    cleaner: User,
    prop: Property,
    tm: TurnoverMessage,
    departing: Booking | None,
    known: dict[int, Booking],
    *,
    now: datetime,
) -> int:
    """The departure no longer happens (cancelled, or swallowed by an overlapping stay): strike the message."""
    tm.cancelled = True
    if departing is None:  # the booking row itself is gone: nothing left to describe
        tm.text_hash = "deleted"
        return 0
    arriving = known.get(tm.arriving_booking_id) if tm.arriving_booking_id else None
    turnover = Turnover(stay_of(departing), stay_of(arriving) if arriving is not None else None)
    content = turnover_content(turnover, prop, cancelled=True)
    tm.text_hash = content_hash(content)
    return await _queue(session, cleaner, prop, tm, content, tm.text_hash, now=now)


async def _queue(
    session: AsyncSession,
    cleaner: User,
    prop: Property,
    tm: TurnoverMessage,
    content: dict[str, Any],
    digest: str,
    *,
    now: datetime,
) -> int:
    # An older version still waiting is superseded: the cleaner only ever needs the newest text. A row already
    # being sent is left alone (the delivery job edits after it, in order).
    await session.execute(
        update(Outbox)
        .where(
            Outbox.user_id == cleaner.id,
            Outbox.kind == "turnover",
            Outbox.booking_id == tm.departing_booking_id,
            Outbox.status == "pending",
        )
        .values(status="skipped", last_error="superseded by a newer version")
    )
    row = outbox_row(
        cleaner,
        "turnover",
        f"turnover:{tm.id}:{digest[:16]}:{now.strftime('%Y%m%dT%H%M%S%f')}",
        now=now,
        payload={**content, "turnover_message_id": tm.id},
        property_id=prop.id,
        booking_id=tm.departing_booking_id,
    )
    return await add_outbox_rows(session, [row])


async def refresh_all(session: AsyncSession, *, now: datetime) -> int:
    """The periodic pass: turnovers entering the horizon, cleaners added since, direct bookings changed in chat."""
    query = (
        select(Property)
        .where(
            Property.archived_at.is_(None),
            Property.id.in_(select(PropertyAccess.property_id).where(PropertyAccess.role == "cleaner")),
        )
        .order_by(Property.id)
    )
    queued = 0
    for prop in (await session.scalars(query)).all():
        queued += await refresh_turnovers(session, prop, now=now)
    return queued


# --- the cleaner's "✅ Done" --------------------------------------------------------------------------------------


async def turnover_for(
    session: AsyncSession, user: User, message_id: int, *, manage: bool = False
) -> TurnoverMessage | None:
    """A turnover message of `user`'s, while they are still a cleaner of its property and it still happens.
    (`manage` is the access lookup's argument: a cleaner's own message is theirs to act on.)"""
    access = select(PropertyAccess.id).where(
        PropertyAccess.user_id == user.id,
        PropertyAccess.property_id == TurnoverMessage.property_id,
        PropertyAccess.role == "cleaner",
    )
    query = select(TurnoverMessage).where(
        TurnoverMessage.id == message_id,
        TurnoverMessage.user_id == user.id,
        TurnoverMessage.cancelled.is_(False),
        access.exists(),
    )
    return await session.scalar(query)


async def mark_done(
    session: AsyncSession, tm: TurnoverMessage, cleaner: User, *, now: datetime, photo: str | None = None
) -> int:
    """The cleaning is done (once; a photo may follow): the owners and the property's managers are told."""
    first = tm.done_at is None
    if first:
        tm.done_at = now
        await audit(session, cleaner, "turnover.done", "property", tm.property_id, {"turnover_id": tm.id}, now=now)
    elif photo is None:
        return 0
    prop = await session.get(Property, tm.property_id)
    departing = await session.get(Booking, tm.departing_booking_id) if tm.departing_booking_id else None
    if prop is None or departing is None:
        return 0
    payload = {
        "cleaner": cleaner.first_name,
        "property": prop.name,
        "day": departing.check_out.isoformat(),
        "at": now.isoformat(),
        "timezone": prop.timezone,
        "photo": photo,
    }
    managers = select(PropertyAccess.user_id).where(
        PropertyAccess.property_id == prop.id, PropertyAccess.role.in_(MANAGE_ROLES)
    )
    looking_after = or_(User.role.in_(INSTALLATION_ROLES), User.id.in_(managers))
    told = (await session.scalars(select(User).where(User.is_active.is_(True), looking_after))).all()
    key = f"turnover_done:{tm.id}:" + ("photo" if photo else "done")
    rows = [
        outbox_row(person, AlertKind.TURNOVER_DONE, f"{key}:{person.id}", now=now, payload=payload, property_id=prop.id)
        for person in told
    ]
    return await add_outbox_rows(session, rows)


async def todays_turnovers(
    session: AsyncSession, user: User, today: date
) -> list[tuple[Property, str, datetime | None]]:
    """The turnovers leaving today at the properties `user` manages: (property, cleaner's name, when done)."""
    departing = aliased(Booking)
    query = (
        select(Property, User.first_name, TurnoverMessage.done_at)
        .join(TurnoverMessage, TurnoverMessage.property_id == Property.id)
        .join(User, User.id == TurnoverMessage.user_id)
        .join(departing, departing.id == TurnoverMessage.departing_booking_id)
        .where(departing.check_out == today, TurnoverMessage.cancelled.is_(False), visible(user, manage=True))
        .order_by(Property.name, User.first_name)
    )
    return [(prop, name, done) for prop, name, done in (await session.execute(query)).all()]
