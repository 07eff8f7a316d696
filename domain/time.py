"""What day and hour it is for a property and for a person: the one place that decides.

A property's day is in its own zone (stays are in the property's local dates). A person's zone is their own
setting (/settings) if they chose one, else the most common zone of the properties they see (hosts mostly live
where they rent: a person with one Lisbon flat lives on Lisbon's day), else the installation's default. Every
screen, summary, reminder and turnover asks here, so /today and the morning summary name the same day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Property, User
from storage.repositories import property_zones_by_user


def zone_or(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day.

    In a daylight-saving gap (02:30 on the spring-forward night) the old offset applies, which lands just after
    the gap; an ambiguous time (the autumn night) means its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def property_today(prop: Property, now: datetime) -> date:
    """The date it is at the property now: stays are in the property's local dates."""
    return now.astimezone(ZoneInfo(prop.timezone)).date()


def user_zone(own: str | None, property_zones: Sequence[str], default: ZoneInfo) -> ZoneInfo:
    """A person's time zone: their own if they set one, else the most common one of their properties (hosts mostly
    live where they rent), else the installation's default."""
    if own:
        return zone_or(own, default)
    if property_zones:
        name, _count = Counter(property_zones).most_common(1)[0]
        return zone_or(name, default)
    return default


async def zones_for(session: AsyncSession, users: Sequence[User], default: ZoneInfo) -> dict[int, ZoneInfo]:
    """Each person's zone (user_zone), for many people in two queries."""
    by_user = await property_zones_by_user(session, users)
    return {user.id: user_zone(user.timezone, by_user.get(user.id, []), default) for user in users}


async def person_zone(session: AsyncSession, user: User, default: ZoneInfo) -> ZoneInfo:
    return (await zones_for(session, [user], default))[user.id]


ZONE_CHOICES = ("America/Sao_Paulo", "America/Fortaleza", "America/Manaus", "Europe/Lisbon", "UTC")
MAX_ZONE_CHOICES = 6


async def zone_choices(session: AsyncSession, user: User, default: ZoneInfo) -> list[str]:
    """The zones /settings offers this person: their properties' (most common first), the default, a few more."""
    ranked = [name for name, _count in Counter((await property_zones_by_user(session, [user]))[user.id]).most_common()]
    offered = dict.fromkeys([*ranked, default.key, *ZONE_CHOICES])
    return list(offered)[:MAX_ZONE_CHOICES]


async def person_today(session: AsyncSession, user: User, now: datetime, default: ZoneInfo) -> date:
    """The date it is for this person now, in their zone (person_zone)."""
    return now.astimezone(await person_zone(session, user, default)).date()
