"""What the numbers read: the properties' facts and their stays over a window of dates, as plain rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, case, exists, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LIVE_STATUSES, Booking, BookingChange, Property

# Guest stays that happened or will (live, or ended: platforms drop stays after check-out) and cancelled ones;
# blocks that stand or stood. Echoes of another source's stay, tentative holds and availability windows are left out.
COUNTED_STATUSES = (*LIVE_STATUSES, "ended", "cancelled")

_BOOKINGS: Table = Booking.__table__  # type: ignore[assignment]
_CHANGES: Table = BookingChange.__table__  # type: ignore[assignment]
_PROPERTIES: Table = Property.__table__  # type: ignore[assignment]

# When the guest booked is known for direct bookings (made here) and for stays a sync saw arrive as news (a "new"
# change that alerted); a stay found in a feed's first download was booked at some unknown earlier time.
_SEEN_AS_NEWS = exists().where(
    _CHANGES.c.booking_id == _BOOKINGS.c.id, _CHANGES.c.change == "new", _CHANGES.c.alert.is_(True)
)
_BOOKED_AT = case(
    (_BOOKINGS.c.source == "direct", _BOOKINGS.c.first_seen_at),
    (_SEEN_AS_NEWS, _BOOKINGS.c.first_seen_at),
    else_=None,
).label("booked_at")

_STAY_COLUMNS = (
    _BOOKINGS.c.id,
    _BOOKINGS.c.property_id,
    _BOOKINGS.c.source,
    _BOOKINGS.c.kind,
    _BOOKINGS.c.status,
    _BOOKINGS.c.check_in,
    _BOOKINGS.c.check_out,
    _BOOKINGS.c.price,
    _BOOKINGS.c.currency,
    _BOOKINGS.c.guests_count,
    _BOOKINGS.c.echo_nights,
)


def _stays_query(property_ids: Sequence[int], start: date, end: date, *, with_booked_at: bool) -> Any:
    columns = (*_STAY_COLUMNS, _BOOKED_AT) if with_booked_at else _STAY_COLUMNS
    return select(*columns).where(
        _BOOKINGS.c.property_id.in_(list(property_ids)),
        _BOOKINGS.c.echo_of_id.is_(None),
        _BOOKINGS.c.check_in < end,
        _BOOKINGS.c.check_out > start,
        or_(
            and_(_BOOKINGS.c.kind == "reservation", _BOOKINGS.c.status.in_(COUNTED_STATUSES)),
            and_(_BOOKINGS.c.kind == "block", _BOOKINGS.c.status.in_((*LIVE_STATUSES, "ended"))),
        ),
    )


async def stay_rows(session: AsyncSession, property_ids: Sequence[int], start: date, end: date) -> list[Row[Any]]:
    """Guest stays and blocks of these properties sharing a night with [start, end), with `booked_at` (or None)."""
    if not property_ids:
        return []
    query = _stays_query(property_ids, start, end, with_booked_at=True).order_by(_BOOKINGS.c.id)
    return list((await session.execute(query)).all())


async def export_rows(session: AsyncSession, property_ids: Sequence[int], start: date, end: date) -> list[Row[Any]]:
    """The guest stays (live, ended and cancelled) of the period for a file, with their property's name, in order."""
    if not property_ids:
        return []
    query = (
        select(
            *_STAY_COLUMNS, _PROPERTIES.c.name.label("property_name"), _PROPERTIES.c.currency.label("property_currency")
        )
        .join(_PROPERTIES, _PROPERTIES.c.id == _BOOKINGS.c.property_id)
        .where(
            _BOOKINGS.c.property_id.in_(list(property_ids)),
            _BOOKINGS.c.echo_of_id.is_(None),
            _BOOKINGS.c.kind == "reservation",
            _BOOKINGS.c.status.in_(COUNTED_STATUSES),
            _BOOKINGS.c.check_in < end,
            _BOOKINGS.c.check_out > start,
        )
        .order_by(_PROPERTIES.c.name, _BOOKINGS.c.property_id, _BOOKINGS.c.check_in, _BOOKINGS.c.id)
    )
    return list((await session.execute(query)).all())
