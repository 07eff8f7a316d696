"""What a host does about a conflict: look at it, resolve it with a note, call it an echo, snooze it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import AlertKind
from domain.audit import audit
from domain.outbox import queue_alert
from domain.properties import property_for, visible_property_ids
from storage.models import Booking, Conflict, Feed, Property, User

SNOOZE = timedelta(hours=24)
SELF_OVERLAP_SHOWN_AFTER = timedelta(days=1)
NOTE_MAX = 500


async def conflict_for(session: AsyncSession, user: User, conflict_id: int, *, manage: bool = False) -> Conflict | None:
    conflict = await session.get(Conflict, conflict_id)
    if conflict is None or await property_for(session, user, conflict.property_id, manage=manage) is None:
        return None
    return conflict


async def open_conflicts(
    session: AsyncSession, user: User, *, now: datetime, include_quiet: bool = False
) -> list[Conflict]:
    """Open conflicts of the user's properties, worst first. Echo and window overlaps are normal: left out; so is a
    calendar overlapping itself for less than a day (Booking.com does, for hours, while it merges runs)."""
    ids = await visible_property_ids(session, user)
    if not ids:
        return []
    query = select(Conflict).where(Conflict.property_id.in_(ids), Conflict.status == "open")
    if not include_quiet:
        lasting = and_(Conflict.klass == "same_source", Conflict.opened_at <= now - SELF_OVERLAP_SHOWN_AFTER)
        query = query.where(or_(Conflict.klass.in_(("double_booking", "tentative")), lasting))
    return list((await session.scalars(query.order_by(Conflict.severity.desc(), Conflict.overlap_start))).all())


async def stays_of(session: AsyncSession, conflict: Conflict) -> tuple[Booking, Booking]:
    a = await session.get(Booking, conflict.booking_a_id)
    b = await session.get(Booking, conflict.booking_b_id)
    assert a is not None and b is not None
    return a, b


async def resolve(session: AsyncSession, conflict: Conflict, note: str, *, user: User, now: datetime) -> None:
    """Stays resolved while the contested nights stay within these (conflict_check reopens it if they grow)."""
    conflict.status, conflict.note, conflict.resolved_by, conflict.closed_at = "resolved", note[:NOTE_MAX], user.id, now
    await audit(session, user, "conflict.resolved", "conflict", conflict.id, {"note": note[:NOTE_MAX]}, now=now)


async def mark_echo(session: AsyncSession, conflict: Conflict, *, user: User, now: datetime) -> None:
    conflict.status, conflict.resolved_by, conflict.closed_at = "echo", user.id, now
    await audit(session, user, "conflict.echo", "conflict", conflict.id, None, now=now)


async def mark_feed_echo(session: AsyncSession, conflict: Conflict, *, user: User, now: datetime) -> Feed | None:
    """The feed of the conflict's closure side mirrors other platforms: none of its overlaps page again."""
    a, b = await stays_of(session, conflict)
    closure = next((s for s in (a, b) if s.kind == "block"), None) or next(
        (s for s in (b, a) if s.source == "booking"), None
    )
    if closure is None or closure.feed_id is None:
        return None
    feed = await session.get(Feed, closure.feed_id)
    if feed is None:
        return None
    feed.blocks_are_echo = True
    await mark_echo(session, conflict, user=user, now=now)
    await audit(session, user, "feed.marked_echo", "feed", feed.id, None, now=now)
    return feed


async def snooze(session: AsyncSession, conflict: Conflict, *, user: User, now: datetime) -> None:
    conflict.snoozed_until = now + SNOOZE
    await audit(session, user, "conflict.snoozed", "conflict", conflict.id, None, now=now)


async def wake_snoozed(session: AsyncSession, *, now: datetime) -> int:
    """Conflicts still open when their snooze ends page again, once per snooze."""
    due = (
        await session.scalars(
            select(Conflict).where(Conflict.status == "open", Conflict.snoozed_until.is_not(None),
                                   Conflict.snoozed_until <= now)
        )
    ).all()  # fmt: skip
    for conflict in due:
        prop = await session.get(Property, conflict.property_id)
        assert prop is not None
        own = [stay.id for stay in await stays_of(session, conflict) if stay.source == "direct"]
        key = f"conflict:{conflict.id}:snooze:{conflict.snoozed_until}"
        await queue_alert(
            session, prop, AlertKind.CONFLICT_OPENED, key, now=now,
            urgent=conflict.klass == "double_booking",
            payload={"conflict_id": conflict.id, "class": conflict.klass, "severity": conflict.severity,
                     "start": conflict.overlap_start.isoformat(), "end": conflict.overlap_end.isoformat(),
                     "booking_ids": [conflict.booking_a_id, conflict.booking_b_id], "own_ids": own,
                     "reminder": True},
        )  # fmt: skip
        conflict.snoozed_until = None
    return len(due)
