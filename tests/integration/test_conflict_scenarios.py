"""Double-booking guard on realistic feeds: two platforms of one property synced through the real path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from jobs.fetch import FeedFetcher, FetchConfig
from jobs.sync import FeedSyncer
from storage.models import Conflict, Feed, Outbox, Property, User
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb, booking

START = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


@dataclass
class Property2:
    server: FeedServer
    syncer: FeedSyncer
    sessions: object
    clock: FakeClock
    airbnb_feed: int
    booking_feed: int

    async def sync(self, hours: float = 1) -> None:
        self.clock.now += timedelta(hours=hours)
        await self.syncer.sync_feeds([self.airbnb_feed, self.booking_feed])

    async def conflicts(self) -> list[Conflict]:
        async with self.sessions() as session:
            return list((await session.scalars(select(Conflict).order_by(Conflict.id))).all())

    async def alerts(self) -> list[str]:
        async with self.sessions() as session:
            return [o.kind for o in (await session.scalars(select(Outbox).order_by(Outbox.id))).all()]


AIR_STAY = Stay("a1@airbnb.com", date(2026, 9, 10), date(2026, 9, 15))
BOOK_STAY = Stay("k1@booking.com", date(2026, 9, 20), date(2026, 9, 24))


@pytest.fixture
async def place(sessions) -> AsyncIterator[Property2]:
    clock = FakeClock(START)
    async with FeedServer() as server:
        server.route("/airbnb.ics", body=airbnb([AIR_STAY]))
        server.route("/booking.ics", body=booking([BOOK_STAY]))
        async with sessions.begin() as session:
            session.add(User(telegram_id=1, first_name="Owner", role="owner", locale="en"))
            prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-t")
            session.add(prop)
            await session.flush()
            feeds = [Feed(property_id=prop.id, url=server.url(p)) for p in ("/airbnb.ics", "/booking.ics")]
            session.add_all(feeds)
            await session.flush()
            ids = (feeds[0].id, feeds[1].id)
        fetcher = FeedFetcher(FetchConfig(allow_private=True))
        syncer = FeedSyncer(sessions, fetcher, clock=clock)
        try:
            yield Property2(server, syncer, sessions, clock, *ids)
        finally:
            await fetcher.aclose()


async def test_airbnb_blocking_the_nights_of_a_booking_stay_is_an_echo(place: Property2):
    await place.sync()
    block = Stay("blk@airbnb.com", BOOK_STAY.check_in, BOOK_STAY.check_out, blocked=True)
    place.server.route("/airbnb.ics", body=airbnb([AIR_STAY, block]))
    await place.sync()
    [conflict] = await place.conflicts()
    assert (conflict.klass, conflict.status) == ("echo", "open")
    assert "conflict_opened" not in await place.alerts()


async def test_our_own_export_coming_back_through_booking_is_an_echo(place: Property2):
    await place.sync()
    # LUMINA exported the Airbnb stay to Booking.com, which now shows those nights as CLOSED
    place.server.route(
        "/booking.ics", body=booking([BOOK_STAY, Stay("echo@booking.com", AIR_STAY.check_in, AIR_STAY.check_out)])
    )
    await place.sync()
    [conflict] = await place.conflicts()
    assert conflict.klass == "echo"
    assert "conflict_opened" not in await place.alerts()


async def test_a_real_double_booking_pages_once_and_a_cancellation_closes_it_once(place: Property2):
    await place.sync()
    clash = Stay("k2@booking.com", date(2026, 9, 12), date(2026, 9, 14))
    place.server.route("/booking.ics", body=booking([BOOK_STAY, clash]))
    await place.sync()
    await place.sync()  # nothing new: no second page
    [conflict] = await place.conflicts()
    assert (conflict.klass, conflict.status) == ("double_booking", "open")
    assert (await place.alerts()).count("conflict_opened") == 1
    async with place.sessions() as session:
        page = await session.scalar(select(Outbox).where(Outbox.kind == "conflict_opened"))
        assert page is not None and page.urgent and page.payload["class"] == "double_booking"

    place.server.route("/booking.ics", body=booking([BOOK_STAY]))  # the Booking.com guest cancels
    for _ in range(3):
        await place.sync()
    [conflict] = await place.conflicts()
    assert conflict.status == "closed"
    assert (await place.alerts()).count("conflict_closed") == 1
    assert (await place.alerts()).count("conflict_opened") == 1


async def test_a_date_change_that_removes_the_overlap_closes_the_conflict(place: Property2):
    place.server.route("/booking.ics", body=booking([Stay("k2@booking.com", date(2026, 9, 14), date(2026, 9, 17))]))
    await place.sync()
    [conflict] = await place.conflicts()
    assert conflict.status == "open"
    # the guest moves to check in on Airbnb's check-out day: back to back is fine
    place.server.route("/booking.ics", body=booking([Stay("k3@booking.com", date(2026, 9, 15), date(2026, 9, 18))]))
    await place.sync()
    [conflict] = await place.conflicts()
    assert conflict.status == "closed"
