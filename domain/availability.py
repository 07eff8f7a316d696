"""Is it free? Which of the user's properties have every night of [start, end) open, and what is in the way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from domain.bookings import stays_in_range
from domain.feeds import feeds_of
from domain.properties import visible_properties
from storage.models import Booking, Feed, Property, User


@dataclass(slots=True)
class PropertyAvailability:
    prop: Property
    blockers: list[Booking] = field(default_factory=list)
    stale_feeds: list[Feed] = field(default_factory=list)  # could not be refreshed just now

    @property
    def free(self) -> bool:
        return not self.blockers

    @property
    def certain(self) -> bool:
        return not self.stale_feeds


def blocking(stays: Iterable[Booking], start: date, end: date) -> list[Booking]:
    """Stays and blocks sharing a night with [start, end). Availability-window blocks only say how far ahead a
    platform sells, not that the apartment is taken, so they are left out."""
    return [s for s in stays if s.kind != "window" and s.check_in < end and s.check_out > start]


async def availability(
    session: AsyncSession, user: User, start: date, end: date, *, failed_feed_ids: Sequence[int]
) -> list[PropertyAvailability]:
    failed = set(failed_feed_ids)
    result = []
    for prop in await visible_properties(session, user):
        entry = PropertyAvailability(prop, blocking(await stays_in_range(session, prop, start, end), start, end))
        entry.stale_feeds = [f for f in await feeds_of(session, prop.id) if f.enabled and f.id in failed]
        result.append(entry)
    return result
