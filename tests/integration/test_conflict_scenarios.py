"""Double-booking guard on realistic feeds: two platforms of one property synced through the real path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.bookings import day_views
from jobs.fetch import FeedFetcher, FetchConfig
from jobs.sync import FeedSyncer
from storage.models import Booking, Conflict, Feed, Outbox, Property, User
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


# --- Booking.com runs of nights (ICAL_FACTS §2.3) ----------------------------------------------------------------


def _run(first: date, last_night_out: date) -> Stay:
    """A Booking.com event: the UID names the run's first night, as Booking.com's does."""
    return Stay(f"{first:%Y%m%d}@booking.com", first, last_night_out)


async def _booking_rows(place: Property2) -> list[Booking]:
    async with place.sessions() as session:
        query = select(Booking).where(Booking.feed_id == place.booking_feed).order_by(Booking.id)
        return list((await session.scalars(query)).all())


async def test_a_double_booking_is_one_incident_through_recuts_merges_and_new_uids(place: Property2):
    await place.sync()
    sold_over = _run(date(2026, 9, 12), date(2026, 9, 14))  # two of the Airbnb guest's five nights
    place.server.route("/booking.ics", body=booking([BOOK_STAY, sold_over]))
    await place.sync()
    [incident] = await place.conflicts()
    assert (incident.klass, incident.status) == ("double_booking", "open")
    # a booking lands right after it (the run grows), then one right before it (a new first night, a new UID)
    place.server.route("/booking.ics", body=booking([BOOK_STAY, _run(date(2026, 9, 12), date(2026, 9, 16))]))
    await place.sync()
    place.server.route("/booking.ics", body=booking([BOOK_STAY, _run(date(2026, 9, 11), date(2026, 9, 16))]))
    await place.sync()
    [incident] = await place.conflicts()
    assert (incident.status, incident.overlap_start, incident.overlap_end) == (
        "open",
        date(2026, 9, 11),
        date(2026, 9, 15),
    )
    assert (await place.alerts()).count("conflict_opened") == 1  # updated in place, never paged again

    place.server.route("/booking.ics", body=booking([BOOK_STAY]))  # the whole run is cancelled
    for _ in range(3):
        await place.sync()
    [incident] = await place.conflicts()
    assert incident.status == "closed" and (await place.alerts()).count("conflict_closed") == 1
    # the same nights sold again after the host was told "resolved": a new incident, paged again
    place.server.route("/booking.ics", body=booking([BOOK_STAY, sold_over]))
    await place.sync()
    assert [c.status for c in await place.conflicts()] == ["closed", "open"]
    assert (await place.alerts()).count("conflict_opened") == 2


async def test_booking_closing_an_airbnb_guests_nights_is_an_echo_not_a_guest(place: Property2):
    await place.sync()
    echo = _run(AIR_STAY.check_in, AIR_STAY.check_out)
    place.server.route("/booking.ics", body=booking([BOOK_STAY, echo]))
    await place.sync()
    alerts = await place.alerts()
    assert "booking_new" not in alerts and "conflict_opened" not in alerts
    async with place.sessions() as session:
        air = await session.scalar(select(Booking).where(Booking.uid == AIR_STAY.uid))
        mirror = await session.scalar(select(Booking).where(Booking.uid == echo.uid))
        owner = await session.scalar(select(User))
        assert air is not None and mirror is not None and owner is not None
        assert mirror.echo_of_id == air.id
        [day] = await day_views(session, owner, AIR_STAY.check_in, 1)
        assert [b.id for _p, b in day.arrivals] == [air.id]  # one arrival, not two
    # a run that grows over the Airbnb guest's nights when they are closed: still no news
    place.server.route(
        "/airbnb.ics", body=airbnb([AIR_STAY, Stay("a2@airbnb.com", date(2026, 9, 24), date(2026, 9, 26))])
    )
    await place.sync()
    place.server.route("/booking.ics", body=booking([_run(BOOK_STAY.check_in, date(2026, 9, 26)), echo]))
    await place.sync()
    alerts = await place.alerts()
    assert alerts.count("booking_new") == 1 and "booking_changed" not in alerts and "conflict_opened" not in alerts


async def test_what_the_host_entered_follows_the_nights_through_merge_split_and_recut(place: Property2):
    first, second = _run(date(2026, 9, 20), date(2026, 9, 24)), _run(date(2026, 9, 26), date(2026, 9, 28))
    place.server.route("/booking.ics", body=booking([first, second]))
    await place.sync()
    async with place.sessions.begin() as session:
        rows = (await session.scalars(select(Booking).where(Booking.feed_id == place.booking_feed))).all()
        for row in rows:
            row.guest_name = "Maria" if row.uid == first.uid else "João"
    place.server.route("/booking.ics", body=booking([_run(date(2026, 9, 20), date(2026, 9, 28))]))  # gap filled
    await place.sync()
    place.server.route("/booking.ics", body=booking([first, second]))  # the filler cancelled: split again
    await place.sync()
    await place.sync()
    maria, joao = await _booking_rows(place)
    assert (maria.guest_name, maria.status, maria.check_in) == ("Maria", "active", first.check_in)
    assert (joao.guest_name, joao.status, joao.absorbed_at) == ("João", "active", None)
    # Maria's stay in progress is re-cut at local midnight under a new UID: the same stay, silently
    place.clock.now = datetime(2026, 9, 21, 3, 30, tzinfo=UTC)  # 00:30 in São Paulo
    place.server.route("/booking.ics", body=booking([_run(date(2026, 9, 21), date(2026, 9, 24)), second]))
    await place.sync(hours=0)
    maria, joao = await _booking_rows(place)
    assert (maria.guest_name, maria.check_in, maria.uid) == ("Maria", date(2026, 9, 21), "20260921@booking.com")
    alerts = await place.alerts()
    assert "booking_cancelled" not in alerts and alerts.count("booking_changed") <= 2
    assert "conflict_opened" not in alerts  # the merged run overlapped the stay it absorbed: one feed, no page
