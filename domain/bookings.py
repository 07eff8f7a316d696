"""Bookings as people see and change them: day views, lists, the card, direct bookings and blocks, and the
details iCal never carries. Everything a person writes here is kept through every sync (feed_sync never
touches these fields)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.booking_fields import DETAILS
from domain.conflict_check import ConflictEvent, check_property
from domain.properties import manages, visible
from domain.time import property_today
from storage.models import Booking, BookingChange, Feed, Guest, Property, User, hosted

GUEST_KINDS = ("reservation", "tentative")


async def booking_for(session: AsyncSession, user: User, booking_id: int, *, manage: bool = False) -> Booking | None:
    """The booking if this user may see (or change) its property; None for any other reason."""
    query = select(Booking).join(Property, Property.id == Booking.property_id)
    return await session.scalar(query.where(Booking.id == booking_id, visible(user, manage=manage)))


@dataclass(frozen=True, slots=True)
class GuestStay:
    """A guest's stay (a reservation or a request, never a block) with its property: what documents and the
    building's e-mail are about."""

    booking: Booking
    property: Property


async def guest_stay_for(
    session: AsyncSession, user: User, booking_id: int, *, manage: bool = False
) -> GuestStay | None:
    """The stay and its property if it is a guest's and this user may see (or change) it; None otherwise."""
    query = select(Booking, Property).join(Property, Property.id == Booking.property_id)
    query = query.where(Booking.id == booking_id, Booking.kind.in_(GUEST_KINDS), visible(user, manage=manage))
    row = (await session.execute(query)).first()
    return GuestStay(*row) if row is not None else None


@dataclass(frozen=True, slots=True)
class Card:
    """Everything the booking card shows."""

    booking: Booking
    property: Property
    feed: Feed | None
    guests: list[Guest]
    can_manage: bool


async def card(session: AsyncSession, user: User, booking_id: int) -> Card | None:
    """The booking card if this user may see the booking; None for any other reason. One statement: a row per
    guest (or one without), each carrying the booking, its property and feed."""
    rows = (
        await session.execute(
            select(Booking, Property, Feed, manages(user), Guest)
            .join(Property, Property.id == Booking.property_id)
            .outerjoin(Feed, Feed.id == Booking.feed_id)
            .outerjoin(Guest, Guest.booking_id == Booking.id)
            .where(Booking.id == booking_id, visible(user))
            .order_by(Guest.position, Guest.id)
        )
    ).all()
    if not rows:
        return None
    booking, prop, feed, can_manage, _guest = rows[0]
    return Card(booking, prop, feed, [row[4] for row in rows if row[4] is not None], bool(can_manage))


@dataclass(slots=True)
class DayView:
    day: date
    arrivals: list[tuple[Property, Booking]] = field(default_factory=list)
    departures: list[tuple[Property, Booking]] = field(default_factory=list)
    in_house: list[tuple[Property, Booking]] = field(default_factory=list)


async def day_views(session: AsyncSession, user: User, first: date, days: int) -> list[DayView]:
    """Arrivals, departures and stays in progress on each of `days` days from `first` (dates in each property's
    own calendar), from one statement."""
    views = [DayView(first + timedelta(days=i)) for i in range(days)]
    rows = await session.execute(
        select(Property, Booking)
        .join(Booking, Booking.property_id == Property.id)
        .where(
            visible(user),
            hosted(),
            Booking.kind.in_(GUEST_KINDS),
            Booking.check_in <= views[-1].day,
            Booking.check_out >= first,
        )
        .order_by(Property.name, Booking.check_in)
    )
    for prop, booking in rows.all():
        for view in views:
            if booking.check_in == view.day:
                view.arrivals.append((prop, booking))
            elif booking.check_out == view.day:
                view.departures.append((prop, booking))
            elif booking.check_in < view.day < booking.check_out:
                view.in_house.append((prop, booking))
    return views


async def upcoming(
    session: AsyncSession, user: User, *, today: date, offset: int, limit: int
) -> tuple[list[tuple[Property, Booking]], int]:
    """Reservations not yet over, soonest first, a page at a time; and how many there are."""
    where = and_(
        visible(user),
        hosted(),
        Booking.kind.in_(GUEST_KINDS),
        Booking.check_out > today,
    )
    total = (
        await session.scalar(
            select(func.count()).select_from(Booking).join(Property, Property.id == Booking.property_id).where(where)
        )
        or 0
    )
    if not total:
        return [], 0
    rows = await session.execute(
        select(Property, Booking)
        .join(Booking, Booking.property_id == Property.id)
        .where(where)
        .order_by(Booking.check_in, Booking.id)
        .offset(offset)
        .limit(limit)
    )
    return [(p, b) for p, b in rows.all()], total


async def month_view(
    session: AsyncSession, user: User, property_id: int, first: date
) -> tuple[Property, list[Booking]] | None:
    """The property, if this user may see it, and its live stays and blocks (not windows) touching the month that
    starts at `first`, from one statement."""
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    in_month = and_(
        Booking.property_id == Property.id,
        hosted(),
        Booking.kind != "window",
        Booking.check_in < after,
        Booking.check_out > first,
    )
    query = select(Property, Booking).outerjoin(Booking, in_month).where(Property.id == property_id, visible(user))
    rows = (await session.execute(query.order_by(Booking.check_in, Booking.id))).all()
    if not rows:
        return None
    return rows[0][0], [booking for _prop, booking in rows if booking is not None]


async def guests_of(session: AsyncSession, booking: Booking) -> list[Guest]:
    query = select(Guest).where(Guest.booking_id == booking.id).order_by(Guest.position, Guest.id)
    return list((await session.scalars(query)).all())


@dataclass(frozen=True, slots=True)
class DirectResult:
    booking: Booking
    conflicts: list[ConflictEvent]


async def create_direct(
    session: AsyncSession,
    prop: Property,
    *,
    kind: str,
    check_in: date,
    check_out: date,
    user: User,
    now: datetime,
    guest_name: str | None = None,
) -> DirectResult:
    """A booking or block made in LUMINA. Conflicts are checked at once, in the same transaction."""
    booking = Booking(
        property_id=prop.id,
        feed_id=None,
        source="direct",
        kind=kind,
        status="active",
        uid=None,
        export_uid=f"{secrets.token_hex(16)}@lumina",
        check_in=check_in,
        check_out=check_out,
        summary="",
        guest_name=guest_name,
        currency=prop.currency,
        created_by=user.id,
        first_seen_at=now,
        created_at=now,
    )
    session.add(booking)
    await session.flush()
    session.add(
        BookingChange(booking_id=booking.id, user_id=user.id, at=now, change="new", kind=kind,
                      after=_dates(check_in, check_out), alert=False)
    )  # fmt: skip
    await audit(session, user, "booking.created", "booking", booking.id, _dates(check_in, check_out), now=now)
    return DirectResult(booking, await _check(session, prop, now))


async def move_direct(
    session: AsyncSession, booking: Booking, *, check_in: date, check_out: date, user: User, now: datetime
) -> DirectResult:
    """New dates for a direct booking; its export UID stays, so the platforms see a move, not a new stay."""
    if booking.source != "direct":
        raise PermissionError("only direct bookings can be moved in LUMINA")
    before = _dates(booking.check_in, booking.check_out)
    booking.check_in, booking.check_out, booking.updated_at = check_in, check_out, now
    session.add(
        BookingChange(booking_id=booking.id, user_id=user.id, at=now, change="changed", kind=booking.kind,
                      before=before, after=_dates(check_in, check_out), alert=False)
    )  # fmt: skip
    changed = {"before": before, "after": _dates(check_in, check_out)}
    await audit(session, user, "booking.moved", "booking", booking.id, changed, now=now)
    prop = await session.get(Property, booking.property_id)
    assert prop is not None
    return DirectResult(booking, await _check(session, prop, now))


async def cancel_direct(session: AsyncSession, booking: Booking, *, user: User, now: datetime) -> list[ConflictEvent]:
    if booking.source != "direct":
        raise PermissionError("feed bookings are cancelled on their platform")
    booking.status, booking.cancelled_at, booking.updated_at = "cancelled", now, now
    session.add(
        BookingChange(booking_id=booking.id, user_id=user.id, at=now, change="cancelled", kind=booking.kind,
                      after=_dates(booking.check_in, booking.check_out), alert=False)
    )  # fmt: skip
    await audit(session, user, "booking.cancelled", "booking", booking.id, None, now=now)
    prop = await session.get(Property, booking.property_id)
    assert prop is not None
    return await _check(session, prop, now)


async def _check(session: AsyncSession, prop: Property, now: datetime) -> list[ConflictEvent]:
    await session.flush()
    return await check_property(session, prop, now=now, today=property_today(prop, now))


async def set_detail(
    session: AsyncSession, booking: Booking, field_name: str, value: Any, *, user: User, now: datetime
) -> None:
    if field_name not in DETAILS:
        raise ValueError(field_name)
    before = getattr(booking, field_name)
    setattr(booking, field_name, value)
    booking.updated_at = now
    await audit(
        session,
        user,
        "booking.detail",
        "booking",
        booking.id,
        {"field": field_name, "changed": before != value},
        now=now,
    )  # fmt: skip  (values may be personal data: the audit log records that they changed, not what they are)


async def add_guest(
    session: AsyncSession,
    booking: Booking,
    *,
    full_name: str,
    document_type: str | None,
    document_number: str | None,
    user: User,
    now: datetime,
) -> Guest:
    position = await session.scalar(select(func.count()).select_from(Guest).where(Guest.booking_id == booking.id))
    guest = Guest(booking_id=booking.id, position=position or 0, full_name=full_name, document_type=document_type,
                  document_number=document_number)  # fmt: skip
    session.add(guest)
    await session.flush()
    await audit(session, user, "booking.guest_added", "booking", booking.id, {"guest_id": guest.id}, now=now)
    return guest


def nights(booking: Booking) -> int:
    return (booking.check_out - booking.check_in).days


def _dates(check_in: date, check_out: date) -> dict[str, str]:
    return {"check_in": check_in.isoformat(), "check_out": check_out.isoformat()}


async def taken_by(
    session: AsyncSession, prop: Property, check_in: date, check_out: date, *, exclude: int | None = None
) -> list[Booking]:
    """The guests' stays (reservations and requests) a new entry on [check_in, check_out) would overlap: what the
    host is asked about before a direct booking, a block or a move is saved over them."""
    stays = await stays_in_range(session, prop, check_in, check_out)
    return [s for s in stays if s.kind in GUEST_KINDS and s.id != exclude]


async def stays_in_range(session: AsyncSession, prop: Property, start: date, end: date) -> list[Booking]:
    """Live stays, blocks and holds sharing a night with [start, end), window blocks included."""
    query = select(Booking).where(
        Booking.property_id == prop.id,
        hosted(),
        Booking.check_in < end,
        Booking.check_out > start,
    )
    return list((await session.scalars(query.order_by(Booking.check_in))).all())
