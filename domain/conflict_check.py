"""Keep a property's stored conflicts equal to its real overlaps: open new ones once, close vanished ones once,
never duplicate a pair, and respect what the host decided (resolved, echo) until the dates change."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import AlertKind
from domain.calendar.echoes import from_json
from domain.calendar.model import Kind, Platform
from domain.conflicts import ALERTING, ConflictClass, Overlap, Span, find_conflicts, self_overlaps, severity
from domain.outbox import PropertyAlerts
from storage.models import LIVE_STATUSES, Booking, Conflict, Feed, Property

# The check reads rows through Core selects of the tables' columns, built once: it runs after every changed feed,
# and ORM entities (or ORM-enabled selects) cost several times the CPU. Entities are loaded only for the conflicts
# that change.
_BOOKINGS: Table = Booking.__table__  # type: ignore[assignment]
_CONFLICTS: Table = Conflict.__table__  # type: ignore[assignment]
_FEEDS: Table = Feed.__table__  # type: ignore[assignment]
_STAY_COLUMNS = tuple(_BOOKINGS.c[name] for name in ("id", "feed_id", "uid", "check_in", "check_out"))
_LIVE_SPANS = (
    select(
        *_STAY_COLUMNS,
        _BOOKINGS.c.source,
        _BOOKINGS.c.kind,
        func.coalesce(_BOOKINGS.c.first_seen_at, _BOOKINGS.c.created_at).label("first_seen"),
        _FEEDS.c.blocks_are_echo,
        _BOOKINGS.c.echo_nights,
    )
    .select_from(_BOOKINGS.outerjoin(_FEEDS, _BOOKINGS.c.feed_id == _FEEDS.c.id))
    .where(
        _BOOKINGS.c.property_id == bindparam("of_property"),
        _BOOKINGS.c.status.in_(LIVE_STATUSES),
        _BOOKINGS.c.check_out > bindparam("today"),
    )
)
_STORED_CONFLICTS = (
    select(
        *(
            _CONFLICTS.c[name]
            for name in (
                "id",
                "booking_a_id",
                "booking_b_id",
                "klass",
                "severity",
                "status",
                "dates_key",
                "overlap_start",
                "overlap_end",
            )
        )
    )
    .where(_CONFLICTS.c.property_id == bindparam("of_property"))
    .order_by(_CONFLICTS.c.id)
)


@dataclass(frozen=True, slots=True)
class StayRef:
    """One stay of a conflict as logs, `lumina replay` and tests show it: plain values, no database entity."""

    id: int
    feed_id: int | None
    uid: str | None
    check_in: date
    check_out: date


@dataclass(frozen=True, slots=True)
class ConflictEvent:
    """What a check did, for logs, `lumina replay` and tests."""

    event: Literal["opened", "closed"]
    conflict_id: int
    klass: str
    stays: tuple[StayRef, StayRef]
    alert: bool


def _contested(rows: Sequence[Row[Any]], today: date) -> tuple[list[Overlap], dict[int, StayRef]]:
    """The overlaps among the property's current stays (rows of _LIVE_SPANS), and the stays by id for the events.
    Pure: run in a worker thread, so a property with thousands of stays does not hold the event loop."""
    spans, stays = [], {}
    for row in rows:
        stays[row.id] = StayRef(row.id, row.feed_id, row.uid, row.check_in, row.check_out)
        spans.append(
            Span(
                id=row.id,
                source=f"feed:{row.feed_id}" if row.feed_id else "direct",
                platform=_PLATFORMS.get(row.source, Platform.OTHER),
                kind=_KINDS[row.kind],
                check_in=row.check_in,
                check_out=row.check_out,
                first_seen=row.first_seen,
                echo_feed=bool(row.blocks_are_echo),
                echo=tuple(from_json(row.echo_nights)),
            )
        )
    found = find_conflicts(spans, today=today)
    found += [_self_overlap(a, b, today) for a, b in self_overlaps(spans, today=today)]
    return found, stays


# Dict lookups: cheaper than Enum calls for every live stay of the property, after every changed feed.
_PLATFORMS = {platform.value: platform for platform in Platform}
_KINDS = {kind.value: kind for kind in Kind}


async def check_property(
    session: AsyncSession, prop: Property, *, now: datetime, today: date, alerts: PropertyAlerts | None = None
) -> list[ConflictEvent]:
    """Keep the property's incidents equal to its contested nights, in the caller's transaction. An incident opens
    (and pages) once, follows its stays silently through re-cuts, merges and new UIDs, and closes once when no
    night is contested any more. `alerts`: the caller's alert queue for this property and transaction."""
    alerts = alerts or PropertyAlerts(session, prop, now=now)
    live = (await session.execute(_LIVE_SPANS, {"of_property": prop.id, "today": today})).all()
    found, stays = await asyncio.to_thread(_contested, live, today)
    rows = (await session.execute(_STORED_CONFLICTS, {"of_property": prop.id})).all()
    current = [row for row in rows if row.status != "closed"]

    # Each overlap continues the incident that shares a stay and a night with it; the rest open new incidents.
    matched: dict[int, list[Overlap]] = {}
    fresh: list[list[Overlap]] = []
    for overlap in sorted(found, key=lambda o: -o.severity):
        row = next((r for r in current if _continues(r, overlap)), None)
        if row is not None:
            matched.setdefault(row.id, []).append(overlap)
            continue
        group = next((g for g in fresh if any(_touches(o, overlap) for o in g)), None)
        if group is None:
            fresh.append([overlap])
        else:
            group.append(overlap)

    closing = [row.id for row in current if row.id not in matched]
    entities = await _entities(session, [*matched, *closing])
    events: list[ConflictEvent] = []
    for conflict_id, overlaps in matched.items():
        conflict, worst = entities[conflict_id], overlaps[0]
        start, end = min(o.start for o in overlaps), max(o.end for o in overlaps)
        grew = start < conflict.overlap_start or end > conflict.overlap_end
        conflict.booking_a_id, conflict.booking_b_id = worst.a.id, worst.b.id
        conflict.klass, conflict.severity = worst.klass.value, worst.severity
        if conflict.status in ("resolved", "echo") and grew:
            # the host's decision was about other nights: this is a new incident in all but its id
            _reopen(conflict, worst, now)
            conflict.overlap_start, conflict.overlap_end = start, end
            events.append(await _opened(alerts, conflict, worst, stays, now=now))
            continue
        conflict.overlap_start, conflict.overlap_end = start, end
    new = [(_new_conflict(prop, group[0], now), group) for group in fresh]
    if new:
        session.add_all([conflict for conflict, _group in new])
        await session.flush()
    for conflict, group in new:
        conflict.overlap_start, conflict.overlap_end = min(o.start for o in group), max(o.end for o in group)
        events.append(await _opened(alerts, conflict, group[0], stays, now=now))
    if closing:
        refs = await _stay_refs(session, stays, [(entities[i].booking_a_id, entities[i].booking_b_id) for i in closing])
        for conflict_id in closing:
            conflict = entities[conflict_id]
            was_open = conflict.status == "open"
            conflict.status, conflict.closed_at = "closed", now
            events.append(await _closed(alerts, conflict, refs, now=now, tell=was_open))
    return events


def _self_overlap(a: Span, b: Span, today: date) -> Overlap:
    start, end = max(a.check_in, b.check_in), min(a.check_out, b.check_out)
    klass = ConflictClass.SAME_SOURCE
    return Overlap(a, b, start, end, klass, severity(klass, max(start, today), end, today))


def _continues(row: Row[Any], overlap: Overlap) -> bool:
    """The stored incident is this overlap's: the same pair, or a stay in common and a contested night in common
    (the other side re-cut, merged into a run or re-identified). A feed overlapping itself is one incident."""
    if _family(ConflictClass(row.klass)) != _family(overlap.klass):
        return False  # an echo of one side overlapping it is not the double booking going on
    pair = {row.booking_a_id, row.booking_b_id}
    ids = {overlap.a.id, overlap.b.id}
    if pair == ids:
        return True
    if overlap.klass is ConflictClass.SAME_SOURCE:
        return bool(pair & ids) or row.overlap_start < overlap.end and overlap.start < row.overlap_end
    return bool(pair & ids) and row.overlap_start < overlap.end and overlap.start < row.overlap_end


def _touches(a: Overlap, b: Overlap) -> bool:
    shared = bool({a.a.id, a.b.id} & {b.a.id, b.b.id})
    return shared and _family(a.klass) == _family(b.klass) and a.start < b.end and b.start < a.end


def _family(klass: ConflictClass) -> str:
    return "contested" if klass in ALERTING else "self" if klass is ConflictClass.SAME_SOURCE else "quiet"


async def _entities(session: AsyncSession, ids: Sequence[int]) -> dict[int, Conflict]:
    if not ids:
        return {}
    return {c.id: c for c in (await session.scalars(select(Conflict).where(Conflict.id.in_(ids)))).all()}


async def _stay_refs(
    session: AsyncSession, live: dict[int, StayRef], pairs: Iterable[tuple[int, int]]
) -> dict[int, StayRef]:
    """The stays of closing conflicts: most are still live; the others (cancelled, ended) are loaded at once."""
    wanted = {stay_id for pair in pairs for stay_id in pair}
    refs = {stay_id: live[stay_id] for stay_id in wanted if stay_id in live}
    missing = wanted - refs.keys()
    if missing:
        for row in (await session.execute(select(*_STAY_COLUMNS).where(_BOOKINGS.c.id.in_(missing)))).all():
            refs[row.id] = StayRef(row.id, row.feed_id, row.uid, row.check_in, row.check_out)
    return refs


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
    alerts: PropertyAlerts, conflict: Conflict, overlap: Overlap, stays: dict[int, StayRef], *, now: datetime
) -> ConflictEvent:
    klass = ConflictClass(conflict.klass)
    alert = klass in ALERTING
    if alert:
        payload: dict[str, Any] = {
            "conflict_id": conflict.id,
            "class": klass.value,
            "severity": conflict.severity,
            "start": overlap.start.isoformat(),
            "end": overlap.end.isoformat(),
            "booking_ids": [overlap.a.id, overlap.b.id],
            # the side the host made in LUMINA: theirs to move or cancel, not a platform's
            "own_ids": [span.id for span in (overlap.a, overlap.b) if span.source == "direct"],
        }
        key = f"conflict:{conflict.id}:open:{now.isoformat()}"
        urgent = klass is ConflictClass.DOUBLE_BOOKING
        await alerts.queue(AlertKind.CONFLICT_OPENED, key, urgent=urgent, payload=payload)
    return ConflictEvent("opened", conflict.id, klass.value, (stays[overlap.a.id], stays[overlap.b.id]), alert)


async def _closed(
    alerts: PropertyAlerts, conflict: Conflict, refs: dict[int, StayRef], *, now: datetime, tell: bool
) -> ConflictEvent:
    """`tell`: the incident was open (not already settled by the host), so its end is news once."""
    alert = tell and ConflictClass(conflict.klass) in ALERTING
    if alert:
        await alerts.queue(
            AlertKind.CONFLICT_CLOSED,
            f"conflict:{conflict.id}:closed:{now.isoformat()}",
            payload={
                "conflict_id": conflict.id,
                "class": conflict.klass,
                "booking_ids": [conflict.booking_a_id, conflict.booking_b_id],
            },
        )
    stays = (refs[conflict.booking_a_id], refs[conflict.booking_b_id])
    return ConflictEvent("closed", conflict.id, conflict.klass, stays, alert)
