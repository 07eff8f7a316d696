"""The feed sync's writes: Core statements on the tables, built once.

ORM entities and ORM-enabled statements cost about twice the CPU per statement, and a changed feed runs a dozen
statements; so the sync writes its runs, feeds, stays and their changes here (the only entities in a sync's session
are the property and any conflict that changes). Updates take rows of the columns to SET plus "row_id" (the
primary key: a column's own name is reserved for SET).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Booking, BookingChange, Feed, Property, SyncRun

_RUNS: Table = SyncRun.__table__  # type: ignore[assignment]
_FEEDS: Table = Feed.__table__  # type: ignore[assignment]
_BOOKINGS: Table = Booking.__table__  # type: ignore[assignment]
_CHANGES: Table = BookingChange.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditLog.__table__  # type: ignore[assignment]
# Multi-row inserts return each new id with a key unique within the insert (the feed of a run, the uid of a stay,
# the booking of a change): neither SQLite nor PostgreSQL promises RETURNING rows in VALUES order, and
# SQLAlchemy's sort_by_parameter_order falls back to one INSERT per row on SQLite.
_INSERT_RUNS = insert(_RUNS).returning(_RUNS.c.feed_id, _RUNS.c.id)
_INSERT_BOOKINGS = insert(_BOOKINGS).returning(_BOOKINGS.c.uid, _BOOKINGS.c.id)
_INSERT_CHANGES = insert(_CHANGES).returning(_CHANGES.c.booking_id, _CHANGES.c.id)
_UPDATE_FEED = update(_FEEDS).where(_FEEDS.c.id == bindparam("row_id"))
_UPDATE_BOOKING = update(_BOOKINGS).where(_BOOKINGS.c.id == bindparam("row_id"))
_MARK_SEEN = (
    update(_BOOKINGS)
    .where(_BOOKINGS.c.feed_id == bindparam("of_feed"), _BOOKINGS.c.status == "active")
    .values(last_seen_at=bindparam("seen_at"))
)

# Rows per statement. Binding a row costs the event loop ~20 µs: a 5,000-stay feed in one statement held it ~100 ms,
# in chunks it answers chats and deliveries between them.
_CHUNK = 500


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


async def _execute_many(session: AsyncSession, statement: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        await session.execute(statement, chunk)


async def _insert_returning(session: AsyncSession, statement: Any, rows: list[dict[str, Any]]) -> dict[Any, int]:
    """Multi-row INSERTs; the new ids by the key the statement returns first."""
    ids: dict[Any, int] = {}
    for chunk in _chunks(rows):
        ids.update((key, new_id) for key, new_id in (await session.execute(statement, chunk)).all())
    assert len(ids) == len(rows), "the returned key must be unique within the insert"
    return ids


async def insert_runs(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    """One sync run per feed: the new run ids by feed id."""
    return await _insert_returning(session, _INSERT_RUNS, rows)


async def insert_bookings(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """New stays of one feed: their ids by uid."""
    return await _insert_returning(session, _INSERT_BOOKINGS, rows)


async def insert_changes(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    """At most one change per booking: the new change ids by booking id."""
    return await _insert_returning(session, _INSERT_CHANGES, rows)


async def insert_audit(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """The sync's audit events, many at a time (the log is append-only: inserts are all it takes)."""
    await _execute_many(session, insert(_AUDIT), rows)


async def update_feeds(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await _execute_many(session, _UPDATE_FEED, rows)


async def update_bookings(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await _execute_many(session, _UPDATE_BOOKING, rows)


async def live_feeds(session: AsyncSession, property_ids: Sequence[int] | None = None) -> list[int]:
    """The enabled feeds of live properties (of these properties), by id."""
    query = select(Feed.id).join(Property).where(Feed.enabled.is_(True), Property.archived_at.is_(None))
    if property_ids is not None:
        query = query.where(Feed.property_id.in_(property_ids))
    return list((await session.scalars(query.order_by(Feed.id))).all())


async def claim_due_feeds(session: AsyncSession, *, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Up to `limit` due feeds of live properties, most overdue first, moved a lease ahead in one UPDATE ...
    RETURNING: the caller syncs them, and recording each download sets its real next time. Rows another instance
    is claiming are skipped (FOR UPDATE SKIP LOCKED), and the outer condition is checked again once a row is
    locked, so no feed is claimed twice; a dead instance's feeds are due again when their lease ends."""
    is_due = or_(Feed.next_sync_at.is_(None), Feed.next_sync_at <= now)
    batch = (
        select(Feed.id)
        .join(Property)
        .where(Feed.enabled.is_(True), Property.archived_at.is_(None), is_due)
        .order_by(Feed.next_sync_at.nulls_first(), Feed.id)
        .limit(limit)
        .with_for_update(of=Feed, skip_locked=True)
    )
    claim = update(Feed).where(Feed.id.in_(batch.scalar_subquery()), is_due).values(next_sync_at=now + lease)
    return sorted((await session.scalars(claim.returning(Feed.id))).all())


async def mark_seen(session: AsyncSession, feed_id: int, now: datetime) -> None:
    """Every live stay of the feed was in this download."""
    await session.execute(_MARK_SEEN, {"of_feed": feed_id, "seen_at": now})
