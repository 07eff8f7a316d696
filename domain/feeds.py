"""Calendar feeds of a property: adding one by its export URL, what it holds, removing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.calendar.classify import detect_platform
from domain.properties import property_for
from storage.models import LIVE_STATUSES, Booking, Feed, Property, User

MAX_URL_LENGTH = 2000
MAX_FEEDS_PER_PROPERTY = 20


class FeedError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # invalid_url | duplicate | too_many


async def feed_for(session: AsyncSession, user: User, feed_id: int, *, manage: bool = False) -> Feed | None:
    """The calendar if this user may see (or change) its property; None for any other reason."""
    feed = await session.get(Feed, feed_id)
    if feed is None or await property_for(session, user, feed.property_id, manage=manage) is None:
        return None
    return feed


def normalize_url(text: str) -> str:
    """What people paste: webcal:// links, stray spaces, angle brackets from e-mail clients."""
    url = text.strip().strip("<>").strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    parts = urlsplit(url)
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise FeedError("invalid_url")
    return url


async def add_feed(session: AsyncSession, prop: Property, url: str, *, user: User | None, now: datetime) -> Feed:
    url = normalize_url(url)
    existing = await session.scalar(select(Feed).where(Feed.property_id == prop.id, Feed.url == url))
    if existing is not None:
        raise FeedError("duplicate")
    count = await session.scalar(select(func.count()).select_from(Feed).where(Feed.property_id == prop.id))
    if (count or 0) >= MAX_FEEDS_PER_PROPERTY:
        raise FeedError("too_many")
    feed = Feed(
        property_id=prop.id, url=url, platform=detect_platform(uids=(), prodid=None, url=url).value, created_at=now
    )
    session.add(feed)
    await session.flush()
    await audit(session, user, "feed.added", "feed", feed.id, {"property_id": prop.id}, now=now)
    return feed


async def remove_feed(session: AsyncSession, feed: Feed, *, user: User, now: datetime) -> None:
    """The host removes a platform: its imported stays go with it (they come back if the feed is added again)."""
    await session.execute(delete(Booking).where(Booking.feed_id == feed.id))
    await audit(session, user, "feed.removed", "feed", feed.id, {"property_id": feed.property_id}, now=now)
    await session.delete(feed)


async def feeds_of(session: AsyncSession, property_id: int) -> list[Feed]:
    return list((await session.scalars(select(Feed).where(Feed.property_id == property_id).order_by(Feed.id))).all())


@dataclass(frozen=True, slots=True)
class FeedContents:
    reservations: int
    blocks: int
    next_check_in: date | None


async def feed_contents(session: AsyncSession, feed_id: int, *, today: date) -> FeedContents:
    """What a feed holds now, for "Airbnb · 4 reservations · 2 blocked periods · next check-in 12/08"."""
    rows = (
        await session.execute(
            select(Booking.kind, func.count(), func.min(Booking.check_in))
            .where(Booking.feed_id == feed_id, Booking.status.in_(LIVE_STATUSES), Booking.check_out > today)
            .group_by(Booking.kind)
        )
    ).all()
    counts = {kind: count for kind, count, _first in rows}
    next_in = await session.scalar(
        select(func.min(Booking.check_in)).where(
            Booking.feed_id == feed_id,
            Booking.status.in_(LIVE_STATUSES),
            Booking.kind.in_(("reservation", "tentative")),
            Booking.check_in >= today,
        )
    )
    return FeedContents(
        reservations=counts.get("reservation", 0) + counts.get("tentative", 0),
        blocks=counts.get("block", 0),
        next_check_in=next_in,
    )
