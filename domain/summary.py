"""The daily summary at each user's chosen hour, in their local time: arrivals, departures and guests in house today
and tomorrow across the properties they hear about, open conflicts, calendars in trouble.

summary_due() and build_summary() are pure; queue_summaries() is the job's query, keyed `summary:<user>:<date>`
so a restart or a second run never sends one twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import outbox_row, queue_due, visible_alert_property_ids
from domain.conflicts import ALERTING
from domain.time import local_instant
from storage.models import Booking, Conflict, Feed, Property, User, hosted

GRACE = timedelta(hours=3)  # started late (the process was down at the hour): still worth sending until then


def summary_due(now: datetime, zone: ZoneInfo, hour: int | None, grace: timedelta = GRACE) -> date | None:
    """The local date whose summary is due at `now`, or None. Due from `hour`:00 local time for `grace`."""
    if hour is None:
        return None
    day = now.astimezone(zone).date()
    start = local_instant(day, time(hour, 0), zone)
    return day if start <= now < start + grace else None


@dataclass(frozen=True, slots=True)
class SummaryStay:
    booking_id: int
    property: str
    check_in: date
    check_out: date
    platform: str
    guest: str | None = None


def _item(stay: SummaryStay) -> dict[str, Any]:
    return {
        "booking_id": stay.booking_id,
        "property": stay.property,
        "platform": stay.platform,
        "guest": stay.guest,
        "check_in": stay.check_in.isoformat(),
        "check_out": stay.check_out.isoformat(),
    }


def build_summary(
    day: date,
    stays: Iterable[SummaryStay],
    *,
    conflicts: Iterable[dict[str, Any]] = (),
    feeds: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The summary as JSON-safe data (the outbox payload). In house: guests who neither arrive nor leave that day."""
    ordered = sorted(stays, key=lambda s: (s.property, s.check_in, s.booking_id))
    days = []
    for current in (day, day + timedelta(days=1)):
        days.append(
            {
                "date": current.isoformat(),
                "arrivals": [_item(s) for s in ordered if s.check_in == current],
                "departures": [_item(s) for s in ordered if s.check_out == current],
                "in_house": [_item(s) for s in ordered if s.check_in < current < s.check_out],
            }
        )
    return {"date": day.isoformat(), "days": days, "conflicts": list(conflicts), "feeds": list(feeds)}


async def summary_for(session: AsyncSession, user: User, day: date) -> dict[str, Any] | None:
    """None when the user hears about no property."""
    property_ids = await visible_alert_property_ids(session, user)
    if not property_ids:
        return None
    names: dict[int, str] = {
        prop_id: name
        for prop_id, name in await session.execute(
            select(Property.id, Property.name).where(Property.id.in_(property_ids))
        )
    }
    bookings = (
        await session.scalars(
            select(Booking).where(
                Booking.property_id.in_(property_ids),
                hosted(),
                Booking.kind == "reservation",
                Booking.check_in <= day + timedelta(days=1),
                Booking.check_out >= day,
            )
        )
    ).all()
    stays = [
        SummaryStay(b.id, names[b.property_id], b.check_in, b.check_out, b.source, b.guest_name or b.feed_guest_name)
        for b in bookings
    ]
    conflicts = (
        await session.scalars(
            select(Conflict)
            .where(
                Conflict.property_id.in_(property_ids),
                Conflict.status == "open",
                Conflict.klass.in_([c.value for c in ALERTING]),
                Conflict.overlap_end > day,
            )
            .order_by(Conflict.overlap_start, Conflict.id)
        )
    ).all()
    feeds = (
        await session.scalars(
            select(Feed)
            .where(Feed.property_id.in_(property_ids), Feed.enabled.is_(True), Feed.in_trouble.is_(True))
            .order_by(Feed.id)
        )
    ).all()
    return build_summary(
        day,
        stays,
        conflicts=[
            {
                "conflict_id": c.id,
                "property": names[c.property_id],
                "class": c.klass,
                "start": c.overlap_start.isoformat(),
                "end": c.overlap_end.isoformat(),
            }
            for c in conflicts
        ],
        feeds=[
            {
                "feed_id": f.id,
                "property": names[f.property_id],
                "platform": f.platform,
                "label": f.label,
                "reason": f.last_error,
            }
            for f in feeds
        ],
    )


async def queue_summaries(
    session: AsyncSession, *, now: datetime, default_zone: ZoneInfo, grace: timedelta = GRACE
) -> int:
    async def summary_row(user: User, day: date, key: str) -> dict[str, Any] | None:
        payload = await summary_for(session, user, day)
        return outbox_row(user, "summary", key, now=now, payload=payload) if payload is not None else None

    return await queue_due(
        session,
        select(User).where(User.is_active.is_(True), User.summary_hour.is_not(None)).order_by(User.id),
        default_zone=default_zone,
        due=lambda user, zone: summary_due(now, zone, user.summary_hour, grace),
        key=lambda user, day: f"summary:{user.id}:{day.isoformat()}",
        row=summary_row,
    )
