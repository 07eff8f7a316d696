"""Keep a property's stored conflicts equal to its real overlaps: open new ones once, close vanished ones once,
never duplicate a pair, and respect what the host decided (resolved, echo) until the dates change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.model import Kind, Platform
from domain.conflicts import ALERTING, ConflictClass, Overlap, Span, find_conflicts
from domain.outbox import queue_alert
from storage.models import Booking, Conflict, Feed, Property

LIVE = ("active", "missing")  # a missing stay is not cancelled until confirmed, so it still blocks its nights


@dataclass(frozen=True, slots=True)
class ConflictEvent:
    """What a check did, for logs, `lumina replay` and tests."""

    event: Literal["opened", "closed"]
    conflict_id: int
    klass: str
    stays: tuple[Booking, Booking]
    alert: bool


async def live_spans(session: AsyncSession, property_id: int, *, today: date) -> tuple[list[Span], dict[int, Booking]]:
    rows = (
        await session.execute(
            select(Booking, Feed.blocks_are_echo)
            .outerjoin(Feed, Booking.feed_id == Feed.id)
            .where(Booking.property_id == property_id, Booking.status.in_(LIVE), Booking.check_out > today)
        )
    ).all()
    spans, bookings = [], {}
    for booking, echo_feed in rows:
        bookings[booking.id] = booking
        spans.append(
            Span(
                id=booking.id,
                source=f"feed:{booking.feed_id}" if booking.feed_id else "direct",
                platform=Platform(booking.source)
                if booking.source in Platform.__members__.values()
                else Platform.OTHER,
                kind=Kind(booking.kind),
                check_in=booking.check_in,
                check_out=booking.check_out,
                first_seen=booking.first_seen_at or booking.created_at,
                echo_feed=bool(echo_feed),
            )
        )
    return spans, bookings


def _platform(source: str) -> Platform:
    try:
        return Platform(source)
    except ValueError:
        return Platform.OTHER


async def check_property(session: AsyncSession, prop: Property, *, now: datetime, today: date) -> list[ConflictEvent]:
    spans, bookings = await live_spans(session, prop.id, today=today)
    found = {(o.a.id, o.b.id): o for o in find_conflicts(spans, today=today)}
    stored = {
        (c.booking_a_id, c.booking_b_id): c
        for c in (await session.scalars(select(Conflict).where(Conflict.property_id == prop.id))).all()
    }
    events: list[ConflictEvent] = []
    for pair, overlap in found.items():
        conflict = stored.get(pair)
        if conflict is None:
            conflict = _new_conflict(prop, overlap, now)
            session.add(conflict)
            await session.flush()
            events.append(await _opened(session, prop, conflict, overlap, bookings, now=now))
        elif conflict.status == "open":
            conflict.klass, conflict.severity = overlap.klass.value, overlap.severity
            conflict.overlap_start, conflict.overlap_end = overlap.start, overlap.end
        elif conflict.status == "closed" or conflict.dates_key != overlap.dates_key:
            # back after it had gone, or a decision the host made about other dates: a new conflict in all but id
            _reopen(conflict, overlap, now)
            events.append(await _opened(session, prop, conflict, overlap, bookings, now=now))
    for pair, conflict in stored.items():
        if conflict.status == "open" and pair not in found:
            conflict.status, conflict.closed_at = "closed", now
            events.append(await _closed(session, prop, conflict, now=now))
    return events


def _new_conflict(prop: Property, overlap: Overlap, now: datetime) -> Conflict:
    return Conflict(
        property_id=prop.id,
        booking_a_id=overlap.a.id,
        booking_b_id=overlap.b.id,
        klass=overlap.klass.value,
        severity=overlap.severity,
        status="open",
        dates_key=overlap.dates_key,
        overlap_start=overlap.start,
        overlap_end=overlap.end,
        opened_at=now,
    )


def _reopen(conflict: Conflict, overlap: Overlap, now: datetime) -> None:
    conflict.klass, conflict.severity, conflict.status = overlap.klass.value, overlap.severity, "open"
    conflict.dates_key, conflict.overlap_start, conflict.overlap_end = overlap.dates_key, overlap.start, overlap.end
    conflict.opened_at, conflict.closed_at, conflict.snoozed_until, conflict.note = now, None, None, None


async def _opened(
    session: AsyncSession,
    prop: Property,
    conflict: Conflict,
    overlap: Overlap,
    bookings: dict[int, Booking],
    *,
    now: datetime,
) -> ConflictEvent:
    klass = ConflictClass(conflict.klass)
    alert = klass in ALERTING
    if alert:
        await queue_alert(
            session,
            prop,
            "conflict_opened",
            f"conflict:{conflict.id}:open:{now.isoformat()}",
            now=now,
            urgent=klass is ConflictClass.DOUBLE_BOOKING,
            payload={
                "conflict_id": conflict.id,
                "class": klass.value,
                "severity": conflict.severity,
                "start": overlap.start.isoformat(),
                "end": overlap.end.isoformat(),
                "booking_ids": [overlap.a.id, overlap.b.id],
            },
        )
    return ConflictEvent("opened", conflict.id, klass.value, (bookings[overlap.a.id], bookings[overlap.b.id]), alert)


async def _closed(session: AsyncSession, prop: Property, conflict: Conflict, *, now: datetime) -> ConflictEvent:
    alert = ConflictClass(conflict.klass) in ALERTING
    if alert:
        await queue_alert(
            session,
            prop,
            "conflict_closed",
            f"conflict:{conflict.id}:closed:{now.isoformat()}",
            now=now,
            payload={
                "conflict_id": conflict.id,
                "class": conflict.klass,
                "booking_ids": [conflict.booking_a_id, conflict.booking_b_id],
            },
        )
    a = await session.get(Booking, conflict.booking_a_id)
    b = await session.get(Booking, conflict.booking_b_id)
    assert a is not None and b is not None
    return ConflictEvent("closed", conflict.id, conflict.klass, (a, b), alert)
