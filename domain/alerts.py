"""Who wants to hear what, and when: alert kinds and preferences, quiet hours, the delivery decision for one row.

The decision functions are pure (time, zones and preferences handed in); the few queries at the bottom load what
they need. Quiet hours are applied at delivery time, not when a row is queued: the rows are written by other
transactions (sync, conflict check) that should not care about anybody's sleep, and a preference changed after
an alert was queued (quiet hours switched off, a kind turned off) still takes effect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.time import local_instant, zones_for
from storage.models import Outbox, Property, PropertyAccess, User, whole_installation
from storage.repositories import ALERT_ROLES


class AlertKind(StrEnum):
    """Every kind of outbox row: the one list. A kind also needs its view (bot/views/alerts.VIEWS), its switch in
    PREFERENCE_OF_KIND (or None: always on) and its catalog entries; tests/unit/test_alert_rules.py checks the
    first two."""

    BOOKING_NEW = "booking_new"
    BOOKING_CHANGED = "booking_changed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_RESTORED = "booking_restored"
    CONFLICT_OPENED = "conflict_opened"
    CONFLICT_CLOSED = "conflict_closed"
    FEED_TROUBLE = "feed_trouble"
    FEED_RECOVERED = "feed_recovered"
    BLOCKS_SUMMARY = "blocks_summary"
    CHECKIN_REMINDER = "checkin_reminder"
    CHECKOUT_REMINDER = "checkout_reminder"
    SUMMARY = "summary"  # governed by User.summary_hour
    TURNOVER = "turnover"  # governed by the cleaner role
    BACKUP_FAILED = "backup_failed"  # to the owners
    MONTHLY_STATS = "monthly_stats"  # governed by User.monthly_stats (owners, on the 1st)
    MAIL_SENT = "mail_sent"  # the building's mail went out (to who asked, or to everyone for automatic ones)
    MAIL_FAILED = "mail_failed"
    MAIL_REVISION = "mail_revision"  # a stay changed after its authorization went out: send a revision?
    PLATFORM_MAIL = "platform_mail"  # a platform's mail filled in a stay, matched none, or cancels a live one
    MEMBER_JOINED = "member_joined"  # someone used an invite: to the owners and whoever invited them
    TURNOVER_DONE = "turnover_done"  # a cleaner pressed "Done" (and maybe sent a photo): to the owners and managers


# A booking change (the sync's BookingChange.change) and the alert it raises, if any.
BOOKING_ALERTS = {
    "new": AlertKind.BOOKING_NEW,
    "changed": AlertKind.BOOKING_CHANGED,
    "cancelled": AlertKind.BOOKING_CANCELLED,
    "restored": AlertKind.BOOKING_RESTORED,
}

# The switches a user sees in /settings, in display order. Stored in User.alert_kinds (None = all of them).
PREFERENCES = (
    "booking_new",
    "booking_changed",
    "booking_cancelled",
    "conflicts",
    "feeds",
    "blocks",
    "checkin_reminder",
    "checkout_reminder",
)
PREFERENCE_OF_KIND: dict[AlertKind, str | None] = {
    AlertKind.BOOKING_NEW: "booking_new",
    AlertKind.BOOKING_CHANGED: "booking_changed",
    AlertKind.BOOKING_CANCELLED: "booking_cancelled",
    AlertKind.BOOKING_RESTORED: "booking_cancelled",  # the undoing of a cancellation belongs with cancellations
    AlertKind.CONFLICT_OPENED: "conflicts",
    AlertKind.CONFLICT_CLOSED: "conflicts",
    AlertKind.FEED_TROUBLE: "feeds",
    AlertKind.FEED_RECOVERED: "feeds",
    AlertKind.BLOCKS_SUMMARY: "blocks",
    AlertKind.CHECKIN_REMINDER: "checkin_reminder",
    AlertKind.CHECKOUT_REMINDER: "checkout_reminder",
    AlertKind.SUMMARY: None,
    AlertKind.TURNOVER: None,
    AlertKind.BACKUP_FAILED: None,
    AlertKind.MEMBER_JOINED: None,
    AlertKind.TURNOVER_DONE: None,
    AlertKind.MONTHLY_STATS: None,
    AlertKind.MAIL_SENT: None,
    AlertKind.MAIL_FAILED: None,
    AlertKind.MAIL_REVISION: None,
    AlertKind.PLATFORM_MAIL: None,
}
ALWAYS_ON_CLASS = "double_booking"
_KIND_VALUES = frozenset(AlertKind)

# (start, end) presets offered in /settings; the key is what callback data carries.
QUIET_PRESETS: dict[str, tuple[time, time]] = {
    "22-7": (time(22, 0), time(7, 0)),
    "23-8": (time(23, 0), time(8, 0)),
    "0-8": (time(0, 0), time(8, 0)),
}
SUMMARY_HOURS = (6, 7, 8, 9, 10)


def wants(alert_kinds: Sequence[Any] | None, kind: str, payload: dict[str, Any]) -> bool:
    """Whether a user with these switches gets an alert of this kind. Double bookings cannot be turned off."""
    if kind in ("conflict_opened", "conflict_closed") and payload.get("class") == ALWAYS_ON_CLASS:
        return True
    preference = PREFERENCE_OF_KIND.get(AlertKind(kind)) if kind in _KIND_VALUES else None
    if preference is None or alert_kinds is None:
        return True
    return preference in alert_kinds


def enabled_preferences(alert_kinds: Sequence[Any] | None) -> set[str]:
    return set(PREFERENCES) if alert_kinds is None else {k for k in alert_kinds if k in PREFERENCES}


def toggled(alert_kinds: Sequence[Any] | None, preference: str) -> list[str] | None:
    """The new switches after flipping one; back to None (everything, including kinds added later) when all are on."""
    if preference not in PREFERENCES:
        raise ValueError(f"unknown alert preference {preference!r}")
    enabled = enabled_preferences(alert_kinds) ^ {preference}
    return None if enabled == set(PREFERENCES) else [p for p in PREFERENCES if p in enabled]


# --- time ---------------------------------------------------------------------------------------------------


def quiet_until(now: datetime, start: time | None, end: time | None, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet period `now` falls in (UTC), or None when it is not quiet. Handles 22:00-07:00 spans."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= clock < end, local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() if clock < end else date.fromordinal(local.date().toordinal() + 1)
    if not inside:
        return None
    until = local_instant(end_day, end, zone)
    return until if until > now else None


# --- the decision for one outbox row --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["send", "skip", "defer", "dead"]
    until: datetime | None = None  # for defer
    reason: str | None = None


SEND = Decision("send")


def decide(
    *,
    kind: str,
    urgent: bool,
    payload: dict[str, Any],
    user_active: bool,
    alert_kinds: Sequence[Any] | None,
    quiet_start: time | None,
    quiet_end: time | None,
    zone: ZoneInfo,
    now: datetime,
    silent: bool = False,
) -> Decision:
    """What to do with a due row now. `silent`: it makes no sound (an edit of a message already sent), so quiet
    hours do not apply to it; `urgent` (double bookings) breaks through them."""
    if not user_active:
        return Decision("dead", reason="user inactive (blocked the bot)")
    if not wants(alert_kinds, kind, payload):
        return Decision("skip", reason="turned off by the user")
    if not urgent and not silent:
        until = quiet_until(now, quiet_start, quiet_end, zone)
        if until is not None:
            return Decision("defer", until=until, reason="quiet hours")
    return SEND


# --- queries --------------------------------------------------------------------------------------------------


async def add_outbox_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, ignoring those whose idempotency key exists: a second run of a job adds nothing, and two
    instances racing cannot fail each other's transaction. Returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Outbox).values(rows).on_conflict_do_nothing(index_elements=["idempotency_key"])
    result = await session.execute(statement)
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def outbox_row(
    user: User,
    kind: str,
    key: str,
    *,
    now: datetime,
    payload: dict[str, Any],
    property_id: int | None = None,
    booking_id: int | None = None,
    urgent: bool = False,
) -> dict[str, Any]:
    return {
        "idempotency_key": key[:128],
        "user_id": user.id,
        "chat_id": user.telegram_id,
        "kind": kind,
        "urgent": urgent,
        "property_id": property_id,
        "booking_id": booking_id,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
    }


async def prune_outbox(session: AsyncSession, *, before: datetime) -> int:
    """Forget finished rows queued before `before`: the outbox is a queue, not the history (BookingChange and the
    audit log are). Safe for idempotency: every key is tied to a date, a change or an instant that never recurs."""
    result = await session.execute(
        delete(Outbox).where(Outbox.status.in_(("sent", "dead", "skipped")), Outbox.created_at < before)
    )
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


async def key_exists(session: AsyncSession, key: str) -> bool:
    return bool(await session.scalar(select(exists().where(Outbox.idempotency_key == key))))


_Moment = TypeVar("_Moment")  # what makes a row due: a day, a month


async def queue_due(
    session: AsyncSession,
    users: Select[tuple[User]],
    *,
    default_zone: ZoneInfo,
    due: Callable[[User, ZoneInfo], _Moment | None],
    key: Callable[[User, _Moment], str],
    row: Callable[[User, _Moment, str], Awaitable[dict[str, Any] | None]],
) -> int:
    """One outbox row per person whose moment has come in their own zone (a day's summary, a month's report), once
    per moment: its key. Returns how many were queued."""
    people = (await session.scalars(users)).all()
    if not people:
        return 0
    zones = await zones_for(session, people, default_zone)
    rows = []
    for user in people:
        moment = due(user, zones[user.id])
        if moment is None:
            continue
        row_key = key(user, moment)
        if await key_exists(session, row_key):  # checked first: building a row costs queries
            continue
        new = await row(user, moment, row_key)
        if new is not None:
            rows.append(new)
    return await add_outbox_rows(session, rows)


async def receives_alerts(session: AsyncSession, user: User) -> bool:
    """Owners, and people given a property as manager or viewer; cleaners only get turnovers."""
    if whole_installation(user):
        return True
    query = exists().where(PropertyAccess.user_id == user.id, PropertyAccess.role.in_(ALERT_ROLES))
    return bool(await session.scalar(select(query)))


async def visible_alert_property_ids(session: AsyncSession, user: User) -> list[int]:
    """The properties a user hears about (the summary's scope): all for owners, else as manager or viewer."""
    query = select(Property.id).where(Property.archived_at.is_(None))
    if not whole_installation(user):
        query = query.join(PropertyAccess, PropertyAccess.property_id == Property.id).where(
            PropertyAccess.user_id == user.id, PropertyAccess.role.in_(ALERT_ROLES)
        )
    return list((await session.scalars(query.order_by(Property.id))).all())


# --- changing preferences (the /settings handlers call these) ----------------------------------------------


async def _setting(session: AsyncSession, user: User, action: str, before: Any, after: Any, now: datetime) -> None:
    await audit(session, user, action, "user", user.id, {"before": before, "after": after}, now=now)


async def toggle_preference(session: AsyncSession, user: User, preference: str, *, now: datetime) -> bool:
    """Flip one switch; returns whether it is now on."""
    before = user.alert_kinds
    user.alert_kinds = toggled(before, preference)  # a new list, so the JSON column is seen as changed
    await _setting(session, user, "user.alert_kinds", before, user.alert_kinds, now)
    return preference in enabled_preferences(user.alert_kinds)


async def set_quiet_hours(session: AsyncSession, user: User, preset: str | None, *, now: datetime) -> None:
    """`preset` is a QUIET_PRESETS key, or None for no quiet hours. Alerts held back by the old quiet hours are
    released, so the delivery job weighs them against the new ones at once."""
    start, end = QUIET_PRESETS[preset] if preset is not None else (None, None)
    before = [t.strftime("%H:%M") if t else None for t in (user.quiet_start, user.quiet_end)]
    user.quiet_start, user.quiet_end = start, end
    after = [t.strftime("%H:%M") if t else None for t in (start, end)]
    await _setting(session, user, "user.quiet_hours", before, after, now)
    await session.execute(
        update(Outbox)
        .where(
            Outbox.user_id == user.id,
            Outbox.status == "pending",
            Outbox.attempts == 0,  # a row waiting for a retry keeps its backoff
            or_(Outbox.not_before.is_(None), Outbox.not_before > now),
        )
        .values(not_before=None)
    )


async def set_own_zone(session: AsyncSession, user: User, zone: str | None, *, now: datetime) -> None:
    """The person's own time zone, or None: follow their properties (domain.time.user_zone)."""
    if zone is not None:
        ZoneInfo(zone)  # raises on a name that is no zone
    await _setting(session, user, "user.timezone", user.timezone, zone, now)
    user.timezone = zone


async def set_summary_hour(session: AsyncSession, user: User, hour: int | None, *, now: datetime) -> None:
    if hour is not None and hour not in SUMMARY_HOURS:
        raise ValueError(f"summary hour {hour} not offered")
    await _setting(session, user, "user.summary_hour", user.summary_hour, hour, now)
    user.summary_hour = hour
