"""Channel export: the secret per-property feed URLs, who may see and rotate them, and the feed a platform gets.

A token is `<property_id>-<secret>` with 192 random bits, stored whole in Property.export_token. A request finds
the property by the id part and compares the whole token in constant time, so the secret is never used as a
database lookup key (whose timing could leak it).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.calendar.export import ExportStay, Target, feed_etag, render_feed, select_stays
from domain.calendar.model import Kind
from domain.properties import new_export_token, property_for, visible_property_ids
from domain.time import property_today
from storage.models import LIVE_STATUSES, AuditLog, Booking, Property, User

_TOKEN_RE = re.compile(r"([1-9][0-9]{0,9})-([A-Za-z0-9_-]{32})")  # new_export_token: 24 bytes = 32 characters
_MAX_ID = 2**31 - 1  # properties.id is a 32-bit integer on PostgreSQL
_DUMMY_TOKEN = "0-" + "A" * 32  # compared against when the id matches no property, so both paths cost the same


@dataclass(frozen=True, slots=True)
class ExportLinks:
    """What a person needs to build the four URLs of one property."""

    property_id: int
    property_name: str
    token: str


@dataclass(frozen=True, slots=True)
class ExportOverview:
    links: list[ExportLinks]
    has_properties: bool  # False: nothing to show; True with no links: the user may not manage any


@dataclass(frozen=True, slots=True)
class ExportFeed:
    body: bytes
    etag: str  # strong, quoted; over the body without DTSTAMP lines
    last_modified: datetime  # UTC, whole seconds; also every event's DTSTAMP


# --- tokens -----------------------------------------------------------------------------------------------


def token_property_id(token: str) -> int | None:
    """The id part of a well-formed token, or None for anything else."""
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        return None
    property_id = int(match[1])
    return property_id if property_id <= _MAX_ID else None


def _is_current_format(prop: Property) -> bool:
    return token_property_id(prop.export_token) == prop.id


async def rotate_export_token(session: AsyncSession, prop: Property, *, user: User | None, now: datetime) -> str:
    """A fresh token; the old URLs stop working as soon as this commits. Audited, without the secret."""
    prop.export_token = new_export_token(prop.id)
    await audit(session, user, "export.rotated", "property", prop.id, now=now)
    return prop.export_token


async def _ensure_token(session: AsyncSession, prop: Property, *, user: User, now: datetime) -> None:
    """Properties created before this format (or with a placeholder) get a real token the first time it is shown.

    Such a token never worked as a URL, so replacing it breaks nothing.
    """
    if not _is_current_format(prop):
        prop.export_token = new_export_token(prop.id)
        await audit(session, user, "export.issued", "property", prop.id, now=now)


# --- who may see and rotate -------------------------------------------------------------------------------


async def manageable_property_ids(session: AsyncSession, user: User) -> list[int]:
    """Export URLs are as good as calendar access, so only owners and a property's managers get them."""
    return await visible_property_ids(session, user, manage=True)


async def manageable_property(session: AsyncSession, user: User, property_id: int) -> Property | None:
    """The property if this user may manage its export links now (re-checked on every button press)."""
    return await property_for(session, user, property_id, manage=True)


async def export_overview(session: AsyncSession, user: User, *, now: datetime) -> ExportOverview:
    visible = await visible_property_ids(session, user)
    ids = await manageable_property_ids(session, user)
    props = (await session.scalars(select(Property).where(Property.id.in_(ids)).order_by(Property.id))).all()
    for prop in props:
        await _ensure_token(session, prop, user=user, now=now)
    return ExportOverview([_links(prop) for prop in props], has_properties=bool(visible))


async def export_links(session: AsyncSession, user: User, property_id: int, *, now: datetime) -> ExportLinks | None:
    prop = await manageable_property(session, user, property_id)
    if prop is None:
        return None
    await _ensure_token(session, prop, user=user, now=now)
    return _links(prop)


async def rotate_export_links(
    session: AsyncSession, user: User, property_id: int, *, now: datetime
) -> ExportLinks | None:
    """Rotate if this user may; None (and nothing changed) otherwise."""
    prop = await manageable_property(session, user, property_id)
    if prop is None:
        return None
    await rotate_export_token(session, prop, user=user, now=now)
    return _links(prop)


def _links(prop: Property) -> ExportLinks:
    return ExportLinks(property_id=prop.id, property_name=prop.name, token=prop.export_token)


# --- the feed ---------------------------------------------------------------------------------------------


async def find_exporting_property(session: AsyncSession, token: str) -> tuple[Property, datetime | None] | None:
    """The live property this token opens, with the newest recorded change to its feeds; None for any miss.

    The whole token is compared in constant time. The change time (newest booking write of any status, since a
    cancelled stay left the feed when it changed, and newest audited property edit) is read in this first
    statement on purpose: read after the stays, a write landing in between would pair the old content with the
    new time, and a client holding that pair would get a wrong 304 on If-Modified-Since.
    """
    property_id = token_property_id(token)
    found = None
    if property_id is not None:
        changed = (
            select(func.max(func.coalesce(Booking.updated_at, Booking.created_at)))
            .where(Booking.property_id == Property.id)
            .scalar_subquery()
        )
        audited = (
            select(func.max(AuditLog.at))
            .where(AuditLog.entity == "property", AuditLog.entity_id == Property.id)
            .scalar_subquery()
        )
        found = (await session.execute(select(Property, changed, audited).where(Property.id == property_id))).first()
    expected = found[0].export_token if found is not None else _DUMMY_TOKEN
    matches = hmac.compare_digest(expected.encode(), token.encode())
    if found is None or not matches or found[0].archived_at is not None:
        return None
    prop, booking_change, audited_at = found
    newest = [value for value in (_as_utc(booking_change), _as_utc(audited_at)) if value is not None]
    return prop, max(newest, default=None)


async def load_export_feed(session: AsyncSession, token: str, target: str, *, now: datetime) -> ExportFeed | None:
    """The feed behind one export URL, or None when the token or target opens nothing (the caller answers 404).

    Two statements: the property with its change time, then the stays.
    """
    try:
        chosen = Target(target)
    except ValueError:
        return None
    found = await find_exporting_property(session, token)
    if found is None:
        return None
    prop, last_change = found
    tz = ZoneInfo(prop.timezone)
    today = property_today(prop, now)
    live = Booking.status.in_(LIVE_STATUSES)
    # The stays that dropped out last for being past come along (only to date that drop; select_stays skips them).
    last_past = (
        select(func.max(Booking.check_out))
        .where(Booking.property_id == prop.id, live, Booking.kind != Kind.WINDOW.value, Booking.check_out < today)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Booking.export_uid,
            Booking.source,
            Booking.kind,
            Booking.status,
            Booking.check_in,
            Booking.check_out,
            func.coalesce(Booking.guest_name, Booking.feed_guest_name),
            Booking.id,
        ).where(
            Booking.property_id == prop.id,
            live,
            or_(Booking.check_out >= today, and_(Booking.kind != Kind.WINDOW.value, Booking.check_out == last_past)),
        )
    )
    stays = [ExportStay(*row) for row in rows]
    dropped = max((stay.check_out for stay in stays if stay.check_out < today), default=None)
    modified = _last_modified(prop, last_change, dropped, tz=tz, now=now)
    body = render_feed(
        select_stays(stays, chosen, today=today),
        property_name=prop.name,
        include_guest_names=prop.export_guest_names,
        now=modified,
    )
    return ExportFeed(body=body, etag=feed_etag(body, now=modified), last_modified=modified)


def _last_modified(
    prop: Property, last_change: datetime | None, dropped: date | None, *, tz: ZoneInfo, now: datetime
) -> datetime:
    """The newest change that can alter this property's feeds, in whole seconds and never in the future.

    The property's creation, the newest booking write or audited property edit, and the local midnight at which
    the last past stay dropped out of the feed (it is listed while today <= check_out). DTSTAMP takes this value
    too, so the bytes only change when the data does.
    """
    candidates = [value for value in (_as_utc(prop.created_at), last_change) if value is not None]
    if dropped is not None:
        candidates.append(datetime.combine(dropped + timedelta(days=1), time(), tz).astimezone(UTC))
    newest = max(candidates, default=now)
    return min(newest, now.astimezone(UTC)).replace(microsecond=0)


def _as_utc(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type, so SQLite hands back naive text: read it as the UTC it was stored as."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
