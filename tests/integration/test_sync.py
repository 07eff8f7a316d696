"""The sync path end to end: a real HTTP server on loopback, the real fetcher, a real database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from domain.calendar.parse import MAX_EVENTS
from jobs.fetch import FeedFetcher, FetchConfig
from jobs.sync import FeedSyncer
from storage.models import Booking, BookingChange, Conflict, Feed, Outbox, Property, SyncRun, User
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb, booking

START = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


@dataclass
class World:
    server: FeedServer
    syncer: FeedSyncer
    sessions: object
    clock: FakeClock
    feed_id: int

    async def sync(self):
        return await self.syncer.sync_feed(self.feed_id)

    async def bookings(self) -> list[Booking]:
        async with self.sessions() as session:
            return list((await session.scalars(select(Booking).order_by(Booking.id))).all())

    async def alerts(self) -> list[Outbox]:
        async with self.sessions() as session:
            return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())

    async def feed(self) -> Feed:
        async with self.sessions() as session:
            feed = await session.get(Feed, self.feed_id)
            assert feed is not None
            return feed


STAYS = [
    Stay("r1@airbnb.com", date(2026, 8, 10), date(2026, 8, 14)),
    Stay("r2@airbnb.com", date(2026, 9, 1), date(2026, 9, 5), code="HMZZZZZZ99", phone="9876"),
    Stay("b1@airbnb.com", date(2026, 8, 20), date(2026, 8, 22), blocked=True),
]


@pytest.fixture
async def world(sessions) -> AsyncIterator[World]:
    clock = FakeClock(START)
    async with FeedServer() as server:
        server.route("/cal.ics", body=airbnb(STAYS))
        async with sessions.begin() as session:
            session.add(User(telegram_id=1001, first_name="Owner", role="owner", locale="en"))
            prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="t")
            session.add(prop)
            await session.flush()
            feed = Feed(property_id=prop.id, url=server.url("/cal.ics"), platform="other")
            session.add(feed)
            await session.flush()
            feed_id = feed.id
        fetcher = FeedFetcher(FetchConfig(allow_private=True, total_timeout=1.0, max_body_bytes=1_000_000))
        syncer = FeedSyncer(sessions, fetcher, clock=clock)
        try:
            yield World(server, syncer, sessions, clock, feed_id)
        finally:
            await fetcher.aclose()


async def test_first_sync_imports_quietly_and_second_is_idempotent(world: World):
    first = await world.sync()
    assert first.outcome == "ok" and first.counts == {"new": 3}
    bookings = await world.bookings()
    assert [(b.uid, b.kind, b.status) for b in bookings] == [
        ("r1@airbnb.com", "reservation", "active"),
        ("r2@airbnb.com", "reservation", "active"),
        ("b1@airbnb.com", "block", "active"),
    ]
    assert bookings[1].reservation_code == "HMZZZZZZ99" and bookings[1].phone_last4 == "9876"
    assert (await world.feed()).platform == "airbnb"
    assert await world.alerts() == []  # the first import is summarized by the bot, not alerted stay by stay

    world.clock.advance(minutes=10)
    world.server.route("/cal.ics", body=airbnb(STAYS, stamp="20260801T074000Z"))  # only DTSTAMP moved
    second = await world.sync()
    assert second.outcome == "unchanged" and second.counts == {}
    assert await world.alerts() == []


async def test_new_changed_cancelled_alerts_once_each(world: World):
    await world.sync()
    world.clock.advance(minutes=10)
    new = Stay("r3@airbnb.com", date(2026, 10, 1), date(2026, 10, 3))
    moved = Stay("r1@airbnb.com", date(2026, 8, 10), date(2026, 8, 16))
    world.server.route("/cal.ics", body=airbnb([moved, STAYS[1], STAYS[2], new]))
    await world.sync()
    assert [(a.kind, a.payload["check_out"]) for a in await world.alerts()] == [
        ("booking_changed", "2026-08-16"),
        ("booking_new", "2026-10-03"),
    ]

    world.server.route("/cal.ics", body=airbnb([moved, STAYS[2], new]))  # r2 vanished
    for minutes in (10, 10, 60):
        world.clock.advance(minutes=minutes)
        await world.sync()
    alerts = await world.alerts()
    assert [a.kind for a in alerts] == ["booking_changed", "booking_new", "booking_cancelled"]
    assert alerts[-1].payload["check_in"] == "2026-09-01"
    r2 = next(b for b in await world.bookings() if b.uid == "r2@airbnb.com")
    assert r2.status == "cancelled"


async def test_what_a_person_entered_survives_every_sync(world: World):
    await world.sync()
    async with world.sessions.begin() as session:
        r1 = await session.scalar(select(Booking).where(Booking.uid == "r1@airbnb.com"))
        r1.guest_name, r1.price, r1.notes = "Maria Souza", 1234.56, "late arrival"
    world.clock.advance(minutes=10)
    world.server.route(
        "/cal.ics", body=airbnb([Stay("r1@airbnb.com", date(2026, 8, 11), date(2026, 8, 14)), *STAYS[1:]])
    )
    await world.sync()
    r1 = next(b for b in await world.bookings() if b.uid == "r1@airbnb.com")
    assert (r1.guest_name, float(r1.price), r1.notes, r1.check_in) == (
        "Maria Souza",
        1234.56,
        "late arrival",
        date(2026, 8, 11),
    )


FAULTS = {
    "500": {"status": 500, "body": b"oops"},
    "html": {"body": b"<!DOCTYPE html><html><body>Log in</body></html>", "content_type": "text/html"},
    "truncated": {"body": airbnb(STAYS), "close_after": 200},
    "timeout": {"body": airbnb(STAYS), "delay_s": 3},
    "huge": {"generated_bytes": 50_000_000},
    "not_calendar": {"body": b'{"error": "not found"}', "content_type": "application/json"},
    "cut_calendar": {"body": airbnb(STAYS)[:-30]},
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_failed_download_changes_no_booking(world: World, fault: str):
    await world.sync()
    before = [(b.id, b.uid, b.status, b.check_in, b.check_out) for b in await world.bookings()]
    world.server.route("/cal.ics", **FAULTS[fault])
    world.clock.advance(minutes=10)
    outcome = await world.sync()
    assert outcome.outcome == "failed" and outcome.reason
    assert [(b.id, b.uid, b.status, b.check_in, b.check_out) for b in await world.bookings()] == before
    feed = await world.feed()
    assert feed.consecutive_failures == 1 and feed.last_error == outcome.reason


async def test_redirect_loop_is_a_failure(world: World):
    await world.sync()
    world.server.redirect_loop("/cal.ics")
    world.clock.advance(minutes=10)
    outcome = await world.sync()
    assert (outcome.outcome, outcome.reason) == ("failed", "too_many_redirects")


async def test_three_failures_alert_once_and_recovery_alerts_once(world: World):
    await world.sync()
    world.server.route("/cal.ics", status=500, body=b"down")
    failing = []
    for _ in range(5):
        world.clock.advance(minutes=10)
        failing.append(await world.sync())
    assert [a.kind for a in await world.alerts()] == ["feed_trouble"]
    assert [o.alerts for o in failing] == [0, 0, 1, 0, 0]  # counted, so the sync wakes delivery for it
    world.server.route("/cal.ics", body=airbnb(STAYS))
    recovering = []
    for _ in range(2):
        world.clock.advance(minutes=10)
        recovering.append(await world.sync())
    assert [a.kind for a in await world.alerts()] == ["feed_trouble", "feed_recovered"]
    assert [o.alerts for o in recovering] == [1, 0]
    assert len({a.idempotency_key for a in await world.alerts()}) == 2
    assert len(await world.bookings()) == 3


async def test_no_success_for_six_hours_is_trouble_even_with_few_failures(world: World):
    await world.sync()
    world.clock.advance(hours=7)
    world.server.route("/cal.ics", status=503, body=b"")
    await world.sync()
    assert [a.kind for a in await world.alerts()] == ["feed_trouble"]


@pytest.mark.parametrize("empty", [b"", airbnb([])], ids=["zero_bytes", "header_only"])
async def test_feed_that_flaps_empty_for_one_download_loses_nothing(world: World, empty: bytes):
    await world.sync()
    for body in (empty, airbnb(STAYS)):
        world.server.route("/cal.ics", body=body)
        world.clock.advance(hours=2)
        await world.sync()
    assert [b.status for b in await world.bookings()] == ["active", "active", "active"]
    assert await world.alerts() == []
    async with world.sessions() as session:
        outcomes = (await session.scalars(select(SyncRun.outcome).order_by(SyncRun.id))).all()
    assert outcomes == ["ok", "suspicious", "ok"]


async def test_an_empty_calendar_is_believed_only_after_the_hold(world: World):
    """Booking.com once served the same empty calendar for over an hour (ICAL_FACTS §2.3): two empty downloads
    an hour apart cancel nothing; an empty calendar that lasts past the hold is believed."""
    await world.sync()
    for body in (b"", airbnb([])):
        world.server.route("/cal.ics", body=body)
        world.clock.advance(hours=1)
        await world.sync()
    assert [b.status for b in await world.bookings()] == ["missing", "missing", "missing"]
    assert await world.alerts() == []
    world.clock.advance(hours=11)
    await world.sync()
    assert [b.status for b in await world.bookings()] == ["cancelled", "cancelled", "cancelled"]
    assert sorted(a.kind for a in await world.alerts()) == ["blocks_summary", "booking_cancelled", "booking_cancelled"]


async def test_conditional_requests_use_the_validators(world: World):
    world.server.route("/cal.ics", body=airbnb(STAYS), etag='"v1"')
    await world.sync()
    world.clock.advance(minutes=10)
    outcome = await world.sync()
    assert outcome.outcome == "not_modified"
    assert (await world.feed()).etag == '"v1"'


async def test_booking_date_move_under_new_uid_is_one_change(world: World, sessions):
    world.server.route("/cal.ics", body=booking([Stay("1e1b@booking.com", date(2026, 8, 30), date(2026, 9, 2))]))
    await world.sync()
    world.clock.advance(days=1)
    world.server.route("/cal.ics", body=booking([Stay("7cb7@booking.com", date(2026, 8, 31), date(2026, 9, 3))]))
    await world.sync()
    async with sessions() as session:
        changes = (await session.scalars(select(BookingChange).order_by(BookingChange.id))).all()
    assert [(c.change, c.uid, c.previous_uid, c.alert) for c in changes] == [
        ("new", "1e1b@booking.com", None, False),
        ("changed", "7cb7@booking.com", "1e1b@booking.com", True),
    ]
    assert changes[1].before == {"check_in": "2026-08-30", "check_out": "2026-09-02"}
    assert len(await world.bookings()) == 1


def _garbled(body: bytes) -> bytes:
    """Every date written with dashes (DTSTART;VALUE=DATE:2026-08-10): icalendar cannot read one of them."""
    return re.sub(rb"(VALUE=DATE:)(\d{4})(\d{2})(\d{2})", rb"\1\2-\3-\4", body)


async def test_a_garbled_download_between_good_ones_cancels_nothing(world: World):
    await world.sync()
    for _ in range(3):  # hours of garbled downloads: failures, never an empty calendar
        world.server.route("/cal.ics", body=_garbled(airbnb(STAYS)))
        world.clock.advance(hours=2)
        outcome = await world.sync()
        assert (outcome.outcome, outcome.reason) == ("failed", "unusable")
    assert [b.status for b in await world.bookings()] == ["active", "active", "active"]
    assert [a.kind for a in await world.alerts()] == ["feed_trouble"]  # told once, as a feed problem
    world.server.route("/cal.ics", body=airbnb([*STAYS, Stay("r3@airbnb.com", date(2026, 10, 1), date(2026, 10, 3))]))
    world.clock.advance(hours=2)
    await world.sync()
    assert [a.kind for a in await world.alerts()] == ["feed_trouble", "feed_recovered", "booking_new"]


async def test_a_runaway_download_between_good_ones_cancels_nothing(world: World):
    await world.sync()
    flood = b"".join(b"BEGIN:VEVENT\r\nUID:f%d\r\nDTSTART;VALUE=DATE:20261101\r\nEND:VEVENT\r\n" % i
                     for i in range(MAX_EVENTS))  # fmt: skip
    world.server.route("/cal.ics", body=airbnb(STAYS).replace(b"END:VCALENDAR", flood + b"END:VCALENDAR"))
    world.clock.advance(hours=2)
    outcome = await world.sync()
    assert (outcome.outcome, outcome.reason) == ("failed", "too_many_events")
    assert [b.status for b in await world.bookings()] == ["active", "active", "active"]
    world.server.route("/cal.ics", body=airbnb([*STAYS, Stay("r3@airbnb.com", date(2026, 10, 1), date(2026, 10, 3))]))
    world.clock.advance(hours=2)
    await world.sync()
    assert [a.kind for a in await world.alerts()] == ["booking_new"]


async def test_a_download_overlapping_itself_between_good_ones_is_one_conflict(world: World):
    await world.sync()
    crowd = [Stay(f"c{i}@airbnb.com", date(2026, 11, 1), date(2026, 11, 4), code=f"HM{i:08d}") for i in range(400)]
    world.server.route("/cal.ics", body=airbnb([*STAYS, *crowd]))
    world.clock.advance(hours=2)
    await world.sync()
    async with world.sessions() as session:
        conflicts = (await session.scalars(select(Conflict))).all()
    assert [c.klass for c in conflicts] == ["same_source"]  # one, not 400 × 399 / 2
    assert len(await world.alerts()) == 400  # the 400 new reservations; the self-overlap does not page
    world.server.route("/cal.ics", body=airbnb([*STAYS, Stay("r3@airbnb.com", date(2026, 10, 1), date(2026, 10, 3))]))
    for _ in range(4):  # 400 of 404 gone at once is held as suspicious for 12 hours, then they are cancelled
        world.clock.advance(hours=4)
        await world.sync()
    stays = {b.uid: b.status for b in await world.bookings()}
    assert [stays[f"{uid}@airbnb.com"] for uid in ("r1", "r2", "b1", "r3")] == ["active"] * 4
    async with world.sessions() as session:
        assert [c.status for c in (await session.scalars(select(Conflict))).all()] == ["closed"]


async def test_one_event_icalendar_cannot_read_is_skipped_and_the_rest_used(world: World):
    broken = (
        b"BEGIN:VEVENT\r\nUID:dir@x\r\nDTSTART;TZID=Europe:20260901T150000\r\nDTEND;TZID=Europe:20260903T110000\r\n"
        b"SUMMARY:Reserved\r\nEND:VEVENT\r\n"
    )
    long_uid = "x" * 300 + "@airbnb.com"
    body = airbnb([*STAYS, Stay(long_uid, date(2026, 10, 1), date(2026, 10, 3))])
    world.server.route("/cal.ics", body=body.replace(b"END:VCALENDAR", broken + b"END:VCALENDAR"))
    outcome = await world.sync()
    assert outcome.outcome == "ok"
    stays = await world.bookings()
    assert len(stays) == 4 and all(len(b.uid or "") <= 255 for b in stays)
    async with world.sessions() as session:
        run = await session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
        assert run is not None and (run.events, run.skipped) == (4, 1)
    await world.sync()  # the long UID is the same stay on the next download, not a new one
    assert len(await world.bookings()) == 4
