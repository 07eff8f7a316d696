"""Channel export: the secret per-property feed URLs, who may see and rotate them, and the feed a platform gets.

A token is `<property_id>-<secret>` with 192 random bits, stored whole in Property.export_token. A request finds
the property by the id part and compares the whole token in constant time, so the secret is never used as a
database lookup key (whose timing could leak it).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.export import ExportStay, Target, feed_etag, render_feed, select_stays
from domain.calendar.model import Kind
from domain.feed_sync import local_today
from domain.properties import visible_property_ids
from storage.models import AuditLog, Booking, Property, PropertyAccess, User

_TOKEN_RE = re.compile(r"([1-9][0-9]{0,9})-([A-Za-z0-9_-]{32})")
_MAX_ID = 2**31 - 1  # properties.id is a 32-bit integer on PostgreSQL
_SECRET_BYTES = 24  # 192 bits, 32 URL-safe characters
_DUMMY_TOKEN = "0-" + "A" * 32  # compared against when the id matches no property, so both paths cost the same
_LIVE = ("active", "missing")
MANAGER_ROLE = "manager"


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


def new_export_token(property_id: int) -> str:
    return f"{property_id}-{secrets.token_urlsafe(_SECRET_BYTES)}"


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
    session.add(
        AuditLog(
            at=now, user_id=user.id if user else None, action="export.rotated", entity="property", entity_id=prop.id
        )
    )
    return prop.export_token


async def _ensure_token(session: AsyncSession, prop: Property, *, user: User, now: datetime) -> None:
    """Properties created before this format (or with a placeholder) get a real token the first time it is shown.

    Such a token never worked as a URL, so replacing it breaks nothing.
    """
    if not _is_current_format(prop):
        prop.export_token = new_export_token(prop.id)
        session.add(AuditLog(at=now, user_id=user.id, action="export.issued", entity="property", entity_id=prop.id))


# --- who may see and rotate -------------------------------------------------------------------------------


async def manageable_property_ids(session: AsyncSession, user: User) -> list[int]:
    """Export URLs are as good as calendar access, so only owners and a property's managers get them."""
    visible = await visible_property_ids(session, user)
    if user.role == "owner" or not visible:
        return visible
    managed = await session.scalars(
        select(PropertyAccess.property_id).where(
            PropertyAccess.user_id == user.id,
            PropertyAccess.role == MANAGER_ROLE,
            PropertyAccess.property_id.in_(visible),
        )
    )
    allowed = set(managed)
    return [property_id for property_id in visible if property_id in allowed]


async def manageable_property(session: AsyncSession, user: User, property_id: int) -> Property | None:
    """The property if this user may manage its export links now (re-checked on every button press)."""
    if property_id not in await manageable_property_ids(session, user):
        return None
    return await session.get(Property, property_id)


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


async def find_exporting_property(session: AsyncSession, token: str) -> Property | None:
    """The live property this token opens, comparing the whole token in constant time; None for any miss."""
    property_id = token_property_id(token)
    prop = await session.get(Property, property_id) if property_id is not None else None
    expected = prop.export_token if prop is not None else _DUMMY_TOKEN
    matches = hmac.compare_digest(expected.encode(), token.encode())
    if prop is None or not matches or prop.archived_at is not None:
        return None
    return prop


async def load_export_feed(session: AsyncSession, token: str, target: str, *, now: datetime) -> ExportFeed | None:
    """The feed behind one export URL, or None when the token or target opens nothing (the caller answers 404)."""
    try:
        chosen = Target(target)
    except ValueError:
        return None
    prop = await find_exporting_property(session, token)
    if prop is None:
        return None
    tz = ZoneInfo(prop.timezone)
    today = local_today(now, tz)
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
        ).where(Booking.property_id == prop.id, Booking.status.in_(_LIVE), Booking.check_out >= today)
    )
    stays = select_stays((ExportStay(*row) for row in rows), chosen, today=today)
    modified = await _last_modified(session, prop, today=today, tz=tz, now=now)
    body = render_feed(stays, property_name=prop.name, include_guest_names=prop.export_guest_names, now=modified)
    return ExportFeed(body=body, etag=feed_etag(body, now=modified), last_modified=modified)


async def _last_modified(
    session: AsyncSession, prop: Property, *, today: date, tz: ZoneInfo, now: datetime
) -> datetime:
    """The newest change that can alter this property's feeds, never in the future.

    Counts every booking of the property whatever its status (a cancelled one left the feed when it changed),
    property edits (they are audited), and the local midnight at which the last stay dropped out of the feed
    for being past. DTSTAMP takes this value too, so the bytes only change when the data does.
    """
    changed = func.max(func.coalesce(Booking.updated_at, Booking.created_at))
    dropped = func.max(Booking.check_out)
    past = and_(Booking.status.in_(_LIVE), Booking.kind != Kind.WINDOW.value, Booking.check_out < today)
    query = select(
        select(changed).where(Booking.property_id == prop.id).scalar_subquery(),
        select(dropped).where(Booking.property_id == prop.id, past).scalar_subquery(),
        select(func.max(AuditLog.at))
        .where(AuditLog.entity == "property", AuditLog.entity_id == prop.id)
        .scalar_subquery(),
    )
    booking_change, last_past, audited = (await session.execute(query)).one()
    candidates = [_as_utc(prop.created_at), _as_utc(booking_change), _as_utc(audited)]
    if isinstance(last_past, str):
        last_past = date.fromisoformat(last_past)
    if last_past is not None:
        # included while today <= check_out, so it left at local midnight of the next day
        candidates.append(datetime.combine(last_past + timedelta(days=1), time(), tz).astimezone(UTC))
    newest = max(value for value in candidates if value is not None)
    return min(newest, now.astimezone(UTC)).replace(microsecond=0)


def _as_utc(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type, so SQLite hands back naive text: read it as the UTC it was stored as."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
