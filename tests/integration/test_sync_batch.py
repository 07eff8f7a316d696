"""sync_feeds writes the downloads that change nothing many feeds per transaction, and everything else one feed per
transaction: the two paths side by side in one sync must do exactly what a feed-by-feed sync did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

import jobs.sync
from domain.calendar.parse import ParseCache
from domain.feed_sync import Arrival, Download, record_quiet
from jobs.fetch import FeedFetcher, FetchConfig
from jobs.sync import FeedSyncer
from storage.models import Booking, Feed, Outbox, Property, SyncRun, User
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

START = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)
STAYS = [
    Stay("r1@airbnb.com", date(2026, 8, 10), date(2026, 8, 14)),
    Stay("r2@airbnb.com", date(2026, 9, 1), date(2026, 9, 5)),
]
NAMES = ("quiet", "moves", "loses_r2", "troubled", "breaks", "etag")


@dataclass
class Farm:
    server: FeedServer
    syncer: FeedSyncer
    sessions: object
    clock: FakeClock
    feeds: dict[str, int]

    async def sync(self, minutes: float = 10, ids: list[int] | None = None):
        self.clock.now += timedelta(minutes=minutes)
        feed_ids = ids if ids is not None else list(self.feeds.values())
        seen: list[int] = []

        async def progress(done: int, total: int, outcome) -> None:
            assert total == len(feed_ids)
            seen.append(done)

        outcomes = await self.syncer.sync_feeds(feed_ids, progress=progress)
        assert seen == list(range(1, len(outcomes) + 1))
        by_id = {o.feed_id: o for o in outcomes}
        return {name: by_id[fid] for name, fid in self.feeds.items() if fid in by_id}

    async def alerts(self) -> list[tuple[str, int | None]]:
        async with self.sessions() as session:
            rows = (await session.scalars(select(Outbox).order_by(Outbox.id))).all()
            return [(row.kind, row.payload.get("feed_id")) for row in rows]

    async def feed(self, name: str) -> Feed:
        async with self.sessions() as session:
            feed = await session.get(Feed, self.feeds[name])
            assert feed is not None
            return feed


@pytest.fixture
async def farm(sessions) -> AsyncIterator[Farm]:
    clock = FakeClock(START)
    async with FeedServer() as server:
        for name in NAMES:
            server.route(f"/{name}.ics", body=airbnb(STAYS), etag='"v1"' if name == "etag" else None)
        async with sessions.begin() as session:
            session.add(User(telegram_id=1001, first_name="Owner", role="owner", locale="en"))
            feeds = {}
            for name in NAMES:
                prop = Property(name=name, timezone="America/Sao_Paulo", export_token=f"t-{name}")
                session.add(prop)
                await session.flush()
                feed = Feed(property_id=prop.id, url=server.url(f"/{name}.ics"), platform="other")
                session.add(feed)
                await session.flush()
                feeds[name] = feed.id
        fetcher = FeedFetcher(FetchConfig(allow_private=True, total_timeout=2.0))
        try:
            yield Farm(server, FeedSyncer(sessions, fetcher, clock=clock), sessions, clock, feeds)
        finally:
            await fetcher.aclose()


async def test_every_path_in_one_sync(farm: Farm):
    first = await farm.sync()
    assert {name: (o.outcome, o.counts) for name, o in first.items()} == {name: ("ok", {"new": 2}) for name in NAMES}

    # Set the stage: one feed loses a stay (absence pending), one goes into trouble.
    farm.server.route("/loses_r2.ics", body=airbnb(STAYS[:1]))
    farm.server.route("/troubled.ics", status=500, body=b"down")
    for _ in range(3):  # absences are believed after two downloads an hour apart
        await farm.sync(30, ids=[farm.feeds["loses_r2"], farm.feeds["troubled"]])
    assert (await farm.feed("troubled")).in_trouble
    async with farm.sessions() as session:
        r2 = await session.scalar(
            select(Booking).where(Booking.feed_id == farm.feeds["loses_r2"], Booking.uid == "r2@airbnb.com")
        )
        assert r2 is not None and r2.status == "cancelled"  # confirmed by the unchanged downloads that followed

    farm.server.route("/loses_r2.ics", body=airbnb(STAYS))  # r2 is back: restored
    farm.server.route("/troubled.ics", body=airbnb(STAYS))  # the same content as its last good download
    farm.server.route(
        "/moves.ics", body=airbnb([Stay("r1@airbnb.com", date(2026, 8, 10), date(2026, 8, 15)), STAYS[1]])
    )
    farm.server.route("/breaks.ics", status=503, body=b"")
    before = await farm.alerts()
    outcomes = await farm.sync()
    assert {name: (o.outcome, o.counts, o.alerts) for name, o in outcomes.items()} == {
        "quiet": ("unchanged", {}, 0),
        "moves": ("ok", {"changed": 1}, 1),
        "loses_r2": ("ok", {"restored": 1}, 1),
        "troubled": ("unchanged", {}, 1),  # its recovery alert (below) counts, so delivery wakes for it at once
        "breaks": ("failed", {}, 0),
        "etag": ("not_modified", {}, 0),
    }
    assert outcomes["moves"].kind_counts == {("reservation", "changed"): 1}
    new = (await farm.alerts())[len(before) :]
    assert sorted(new) == sorted(
        [
            ("booking_changed", farm.feeds["moves"]),
            ("booking_restored", farm.feeds["loses_r2"]),
            ("feed_recovered", farm.feeds["troubled"]),
        ]
    )
    quiet, etag, breaks = await farm.feed("quiet"), await farm.feed("etag"), await farm.feed("breaks")
    assert quiet.last_success_at == farm.clock.now and quiet.next_sync_at > farm.clock.now
    assert etag.etag == '"v1"' and etag.last_success_at == farm.clock.now
    assert breaks.consecutive_failures == 1 and breaks.last_error == "http_error"
    assert not (await farm.feed("troubled")).in_trouble

    async with farm.sessions() as session:  # one SyncRun row per download, the batched ones included
        runs = (await session.scalars(select(SyncRun).where(SyncRun.started_at == farm.clock.now))).all()
    assert sorted((r.feed_id, r.outcome, r.counts) for r in runs) == sorted(
        (farm.feeds[name], outcome.outcome, outcome.counts if outcome.outcome != "failed" else None)
        for name, outcome in outcomes.items()
    )

    # The same downloads again: nothing changes, nothing alerts, and every feed takes the batched path.
    again = await farm.sync()
    assert {name: o.outcome for name, o in again.items()} == {
        "quiet": "unchanged",
        "moves": "unchanged",
        "loses_r2": "unchanged",
        "troubled": "unchanged",
        "breaks": "failed",
        "etag": "not_modified",
    }
    assert await farm.alerts() == before + new


async def test_a_feed_twice_in_one_batch_is_written_twice_in_order(sessions):
    async with sessions.begin() as session:
        prop = Property(name="p", timezone="UTC", export_token="t")
        session.add(prop)
        await session.flush()
        feed = Feed(property_id=prop.id, url="https://example.com/x.ics", content_hash="h", last_success_at=START)
        session.add(feed)
        await session.flush()
        feed_id = feed.id
    unchanged = Arrival(feed_id, Download("not_modified", http_status=304), None)
    async with sessions.begin() as session:
        quiet, rest = await record_quiet(session, [unchanged, unchanged], now=START)
    assert [o.feed_id for o in quiet] == [feed_id] and rest == [unchanged]


async def test_disabled_and_unknown_feeds_are_left_out(farm: Farm):
    async with farm.sessions.begin() as session:
        feed = await session.get(Feed, farm.feeds["breaks"])
        assert feed is not None
        feed.enabled = False
    outcomes = await farm.syncer.sync_feeds([farm.feeds["quiet"], farm.feeds["breaks"], 9999])
    assert [o.feed_id for o in outcomes] == [farm.feeds["quiet"]]
    assert await farm.syncer.sync_feed(farm.feeds["breaks"]) is None


async def test_a_cold_parse_cache_gives_the_same_bookings(sessions):
    """Two syncers over two databases' worth of history: one keeps its parse cache, one starts cold each time."""
    stays = [
        Stay(f"u{i}@airbnb.com", date(2026, 9, 1) + timedelta(days=3 * i), date(2026, 9, 3) + timedelta(days=3 * i))
        for i in range(12)
    ]
    versions = [stays, stays[1:], [*stays[1:], Stay("n@airbnb.com", date(2027, 1, 1), date(2027, 1, 5))], stays]
    async with sessions.begin() as session:
        prop = Property(name="p", timezone="America/Sao_Paulo", export_token="t")
        session.add(prop)
        await session.flush()
        warm_feed, cold_feed = (
            Feed(property_id=prop.id, url="https://a/x"),
            Feed(property_id=prop.id, url="https://b/x"),
        )
        session.add_all([warm_feed, cold_feed])
        await session.flush()
        ids = warm_feed.id, cold_feed.id
    clock = FakeClock(START)
    warm = FeedSyncer(sessions, fetcher=None, clock=clock)  # type: ignore[arg-type]
    for minutes, version in enumerate(versions):
        clock.now = START + timedelta(hours=minutes)
        body = airbnb(version, stamp=f"2026080{minutes + 1}T070000Z")
        await warm.record(ids[0], Download("ok", body, http_status=200))
        cold = FeedSyncer(sessions, fetcher=None, clock=clock, parse_cache=ParseCache())  # type: ignore[arg-type]
        await cold.record(ids[1], Download("ok", body, http_status=200))
    async with sessions() as session:
        rows = (await session.scalars(select(Booking).order_by(Booking.id))).all()
    by_feed = {
        fid: [(b.uid, b.kind, b.status, b.check_in, b.check_out, b.reservation_code) for b in rows if b.feed_id == fid]
        for fid in ids
    }
    assert by_feed[ids[0]] == by_feed[ids[1]] and len(by_feed[ids[0]]) == 13


async def test_two_instances_fetch_each_due_feed_once_per_interval(farm: Farm, engine, monkeypatch):
    """Two syncers on one database (two `lumina run` processes on one PostgreSQL), their scheduled jobs firing
    together, interval after interval: every feed is downloaded once per interval, by one of them, and they share
    the backlog (claimed two feeds at a time here)."""
    from storage.db import session_factory

    monkeypatch.setattr(jobs.sync, "CLAIM_BATCH", 2)
    other_fetcher = FeedFetcher(FetchConfig(allow_private=True, total_timeout=2.0))
    other = FeedSyncer(session_factory(engine), other_fetcher, clock=farm.clock)
    try:
        for interval in range(1, 4):
            farm.clock.now += timedelta(hours=1)  # past every feed's next poll time
            first, second = await asyncio.gather(farm.syncer.sync_due(), other.sync_due())
            assert sorted(o.feed_id for o in [*first, *second]) == sorted(farm.feeds.values())
            assert first and second
            assert all(farm.server.hits[f"/{name}.ics"] == interval for name in NAMES), farm.server.hits
        assert not await farm.syncer.sync_due()  # nothing is due until the next interval
    finally:
        await other_fetcher.aclose()
