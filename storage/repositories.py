"""Queries that more than one service needs. Plain functions over an AsyncSession."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, bindparam, exists, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    INSTALLATION_ROLES,
    LIVE_STATUSES,
    AppState,
    Booking,
    Feed,
    Outbox,
    Property,
    PropertyAccess,
    User,
    whole_installation,
)

ALERT_ROLES = ("manager", "viewer")  # per-property roles that get booking alerts; cleaners get turnovers only
# Ids per IN (...) list: far below SQLite's and asyncpg's limits on bound parameters.
_IN_CHUNK = 500


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + _IN_CHUNK] for i in range(0, len(unique), _IN_CHUNK)]


_USERS: Table = User.__table__  # type: ignore[assignment]
_ACCESS: Table = PropertyAccess.__table__  # type: ignore[assignment]


def _recipients(property_id: Any) -> tuple[Any, Any]:
    """The WHERE of alert recipients, on table columns (usable in Core and ORM selects alike)."""
    access = select(_ACCESS.c.user_id).where(_ACCESS.c.property_id == property_id, _ACCESS.c.role.in_(ALERT_ROLES))
    return _USERS.c.is_active.is_(True), or_(_USERS.c.role.in_(INSTALLATION_ROLES), _USERS.c.id.in_(access))


async def alert_recipients(session: AsyncSession, property_id: int) -> Sequence[User]:
    """Active users who should hear about bookings of this property: owners, and its managers and viewers."""
    return (await session.scalars(select(User).where(*_recipients(property_id)).order_by(User.id))).all()


def alert_recipient_chats(property_id: Any) -> Select[tuple[int, int]]:
    """alert_recipients as a Core select of (id, telegram_id), to write outbox rows with one INSERT ... SELECT."""
    return select(_USERS.c.id, _USERS.c.telegram_id).where(*_recipients(property_id))


_BOOKINGS: Table = Booking.__table__  # type: ignore[assignment]
# What a sync reads of a stored stay: reconciliation's view of it, and the feed-owned fields it may rewrite. A Core
# select of the table's columns: a sync runs it for every changed feed, and ORM-enabled selects cost more CPU.
_FEED_STAYS = (
    select(
        *(
            _BOOKINGS.c[name]
            for name in (
                "id",
                "uid",
                "kind",
                "status",
                "check_in",
                "check_out",
                "missing_since",
                "missing_count",
                "summary",
                "reservation_code",
                "phone_last4",
                "feed_guest_name",
                "absorbed_at",
                "echo_nights",
                "echo_of_id",
            )
        )
    )
    .where(
        _BOOKINGS.c.feed_id == bindparam("of_feed"),
        or_(_BOOKINGS.c.status.in_(LIVE_STATUSES), _BOOKINGS.c.check_out >= bindparam("since")),
    )
    .order_by(_BOOKINGS.c.id)
)


async def feed_stays(session: AsyncSession, feed_id: int, *, since: date) -> Sequence[Row[Any]]:
    """The stays of a feed that a download can still speak about: live ones, and recent ones that may come back.
    Rows, not entities: a sync writes them back with bulk statements."""
    return (await session.execute(_FEED_STAYS, {"of_feed": feed_id, "since": since})).all()


_OTHER_SOURCES = select(_BOOKINGS.c.id, _BOOKINGS.c.check_in, _BOOKINGS.c.check_out).where(
    _BOOKINGS.c.property_id == bindparam("of_property"),
    or_(_BOOKINGS.c.feed_id.is_(None), _BOOKINGS.c.feed_id != bindparam("not_feed")),
    _BOOKINGS.c.status.in_(LIVE_STATUSES),
    _BOOKINGS.c.check_out > bindparam("today"),
    _BOOKINGS.c.echo_of_id.is_(None),
    or_(_BOOKINGS.c.source == "direct", _BOOKINGS.c.kind.in_(("reservation", "tentative"))),
)


async def other_sources_stays(session: AsyncSession, property_id: int, feed_id: int, *, today: date) -> list[Row[Any]]:
    """The property's live guest stays from other feeds, and its direct bookings and blocks: what a platform that
    imports the other calendars (Booking.com) closes as its own."""
    params = {"of_property": property_id, "not_feed": feed_id, "today": today}
    return list((await session.execute(_OTHER_SOURCES, params)).all())


_FEEDS: Table = Feed.__table__  # type: ignore[assignment]
# What a sync reads of a feed, and writes back with one UPDATE.
FEED_SYNC_COLUMNS = tuple(
    _FEEDS.c[name]
    for name in (
        "id",
        "property_id",
        "url",
        "platform",
        "label",
        "etag",
        "last_modified",
        "content_hash",
        "last_success_at",
        "consecutive_failures",
        "in_trouble",
        "suspicious_since",
        "next_sync_at",
        "created_at",
    )
)


async def feed_for_sync(session: AsyncSession, feed_id: int) -> tuple[Row[Any], Property] | None:
    """The feed as a row with FEED_SYNC_COLUMNS and has_other_sources by name, and its property (an entity: alerts
    and turnovers take one)."""
    query = select(Property, *FEED_SYNC_COLUMNS, _HAS_OTHER_SOURCES).join(_FEEDS, _FEEDS.c.property_id == Property.id)
    row = (await session.execute(query.where(_FEEDS.c.id == feed_id))).first()
    return (row, row.Property) if row else None


# Whether the feed's property has live stays from anywhere else: only then can a download's nights be echoes.
_HAS_OTHER_SOURCES = (
    exists()
    .where(
        _BOOKINGS.c.property_id == _FEEDS.c.property_id,
        or_(_BOOKINGS.c.feed_id.is_(None), _BOOKINGS.c.feed_id != _FEEDS.c.id),
        _BOOKINGS.c.status.in_(LIVE_STATUSES),
    )
    .label("has_other_sources")
)


async def fetch_targets(session: AsyncSession, feed_ids: Sequence[int]) -> list[Row[Any]]:
    """(id, url, etag, last_modified) of the enabled feeds among `feed_ids`, in their order, repeats kept."""
    found: dict[int, Row[Any]] = {}
    for chunk in _chunks(feed_ids):
        query = select(_FEEDS.c.id, _FEEDS.c.url, _FEEDS.c.etag, _FEEDS.c.last_modified).where(
            _FEEDS.c.id.in_(chunk), _FEEDS.c.enabled.is_(True)
        )
        found.update((row.id, row) for row in (await session.execute(query)).all())
    return [found[feed_id] for feed_id in feed_ids if feed_id in found]


async def feed_sync_states(session: AsyncSession, feed_ids: Sequence[int]) -> dict[int, Row[Any]]:
    """Per feed id, what decides whether a download of it changes nothing: its health, validators, content hash,
    and whether it has stays whose absence is pending (status "missing")."""
    pending = exists().where(_BOOKINGS.c.feed_id == _FEEDS.c.id, _BOOKINGS.c.status == "missing")
    states: dict[int, Row[Any]] = {}
    for chunk in _chunks(feed_ids):
        query = select(*FEED_SYNC_COLUMNS, pending.label("has_missing")).where(_FEEDS.c.id.in_(chunk))
        states.update((row.id, row) for row in (await session.execute(query)).all())
    return states


async def metrics_snapshot(session: AsyncSession, *, now: datetime) -> dict[str, float]:
    """What /metrics reads from the database at each scrape: the outbox queue, recent bookings, people, feeds."""
    pending = Outbox.status.in_(("pending", "sending"))
    queued, oldest = (await session.execute(select(func.count(), func.min(Outbox.created_at)).where(pending))).one()
    day_ago = now - timedelta(days=1)
    return {
        "outbox_pending": float(queued or 0),
        "outbox_oldest_age_seconds": (now - oldest).total_seconds() if oldest else 0.0,
        "bookings_created_last_day": float(
            await session.scalar(select(func.count()).select_from(Booking).where(Booking.created_at >= day_ago)) or 0
        ),
        "users_active": float(
            await session.scalar(select(func.count()).select_from(User).where(User.is_active.is_(True))) or 0
        ),
        "feeds_in_trouble": float(
            await session.scalar(select(func.count()).select_from(Feed).where(Feed.in_trouble.is_(True))) or 0
        ),
    }


async def claim_occurrence(session: AsyncSession, job: str, occurrence: str) -> bool:
    """True for the one caller, across every instance on this database, that claims this `occurrence` of `job`
    first (occurrences sort in time, e.g. "2027-03-04"). The claim commits with the caller's transaction."""
    key = f"job:{job}"
    moved = await session.execute(
        update(AppState).where(AppState.key == key, AppState.value < occurrence).values(value=occurrence)
    )
    if getattr(moved, "rowcount", 0):
        return True
    if await session.get(AppState, key) is not None:
        return False  # this occurrence (or a later one) is taken
    try:
        async with session.begin_nested():
            session.add(AppState(key=key, value=occurrence))
    except IntegrityError:
        return False  # another instance inserted it first
    return True


async def property_zones_by_user(session: AsyncSession, users: Sequence[User]) -> dict[int, list[str]]:
    """The time zones of the properties each user can see (any role), for user_zone()."""
    result: dict[int, list[str]] = {user.id: [] for user in users}
    if any(whole_installation(user) for user in users):
        every = list((await session.scalars(select(Property.timezone).where(Property.archived_at.is_(None)))).all())
        for user in users:
            if whole_installation(user):
                result[user.id] = every
    others = [user.id for user in users if not whole_installation(user)]
    if others:
        rows = await session.execute(
            select(PropertyAccess.user_id, Property.timezone)
            .join(Property, Property.id == PropertyAccess.property_id)
            .where(PropertyAccess.user_id.in_(others), Property.archived_at.is_(None))
        )
        for user_id, zone in rows:
            result[user_id].append(zone)
    return result
