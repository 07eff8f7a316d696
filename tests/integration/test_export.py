"""Channel export against a real database: tokens, access, the feed each platform gets, and the sync round trip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import export
from domain.calendar.parse import parse_feed
from jobs.fetch import FeedFetcher, FetchConfig
from jobs.sync import FeedSyncer
from storage.models import AuditLog, Booking, Feed, Property, PropertyAccess, User
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb, booking

NOW = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
TZ = ZoneInfo("America/Sao_Paulo")
Sessions = async_sessionmaker[AsyncSession]


async def make_property(sessions: Sessions, *, name: str = "Apto 101", token: str | None = None) -> Property:
    async with sessions.begin() as session:
        prop = Property(
            name=name,
            timezone="America/Sao_Paulo",
            export_token=token or "pending",
            created_at=NOW - timedelta(days=30),
        )
        session.add(prop)
        await session.flush()
        if token is None:
            prop.export_token = export.new_export_token(prop.id)
        return prop


async def add_stay(
    sessions: Sessions,
    prop: Property,
    check_in: date,
    check_out: date,
    *,
    source: str = "direct",
    kind: str = "reservation",
    status: str = "active",
    feed_id: int | None = None,
    guest: str | None = None,
    at: datetime = NOW - timedelta(days=3),
) -> Booking:
    async with sessions.begin() as session:
        count = len((await session.scalars(select(Booking.id))).all())
        stay = Booking(
            property_id=prop.id,
            feed_id=feed_id,
            source=source,
            kind=kind,
            status=status,
            uid=f"{source}-{count}" if source != "direct" else None,
            export_uid=f"{count:032x}@lumina",
            check_in=check_in,
            check_out=check_out,
            guest_name=guest,
            created_at=at,
        )
        session.add(stay)
        return stay


async def feed_for(sessions: Sessions, token: str, target: str, *, now: datetime = NOW) -> export.ExportFeed | None:
    async with sessions() as session:
        return await export.load_export_feed(session, token, target, now=now)


def events(body: bytes) -> list[tuple[str, date, date, str]]:
    return [(str(e["UID"]), e.start, e.end, str(e["SUMMARY"])) for e in Calendar.from_ical(body).walk("VEVENT")]


# --- tokens -------------------------------------------------------------------------------------------------


def test_token_format_has_the_id_and_at_least_128_random_bits():
    token = export.new_export_token(42)
    prefix, _sep, secret = token.partition("-")
    assert prefix == "42" and len(secret) == 32  # 192 bits, URL-safe base64
    assert export.token_property_id(token) == 42
    assert len(export.new_export_token(2**31 - 1)) <= 64
    assert len({export.new_export_token(1) for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "token",
    [
        "",
        "42",
        "42-",
        "abc-" + "A" * 32,
        "042-" + "A" * 32,  # no leading zeros: one id, one spelling
        "-1-" + "A" * 32,
        "42-" + "A" * 31,
        "42-" + "A" * 33,
        "42-" + "A" * 31 + "!",
        "42-" + "A" * 31 + "é",
        "99999999999-" + "A" * 32,  # beyond a 32-bit id
        "2147483648-" + "A" * 32,
        " 42-" + "A" * 32,
        "42-" + "A" * 32 + "\n",
    ],
)
def test_malformed_tokens_have_no_property_id(token: str):
    assert export.token_property_id(token) is None


async def test_only_the_whole_current_token_opens_the_feed(sessions: Sessions):
    prop = await make_property(sessions)
    other = await make_property(sessions, name="Casa")
    assert await feed_for(sessions, prop.export_token, "all") is not None
    secret = prop.export_token.partition("-")[2]
    for wrong in (
        f"{other.id}-{secret}",  # the right secret under another id
        prop.export_token[:-1] + ("A" if prop.export_token[-1] != "A" else "B"),
        f"{prop.id + 100}-{secret}",  # no such property
        prop.export_token.upper() if prop.export_token.upper() != prop.export_token else prop.export_token.lower(),
    ):
        assert await feed_for(sessions, wrong, "all") is None, wrong
    assert await feed_for(sessions, prop.export_token, "expedia") is None
    assert await feed_for(sessions, prop.export_token, "ALL") is None


async def test_rotation_kills_the_old_token_at_once_and_is_audited(sessions: Sessions):
    prop = await make_property(sessions)
    old = prop.export_token
    async with sessions.begin() as session:
        owner = User(telegram_id=1, role="owner")
        session.add(owner)
        await session.flush()
        stored = await session.get(Property, prop.id)
        assert stored is not None
        new = await export.rotate_export_token(session, stored, user=owner, now=NOW)
    assert new != old and export.token_property_id(new) == prop.id
    assert await feed_for(sessions, old, "airbnb") is None
    assert await feed_for(sessions, new, "airbnb") is not None
    async with sessions() as session:
        rows = (await session.scalars(select(AuditLog))).all()
    assert [(r.action, r.entity, r.entity_id, r.user_id) for r in rows] == [
        ("export.rotated", "property", prop.id, owner.id)
    ]
    assert rows[0].details is None  # the secret is never written anywhere but the property


async def test_archived_property_exports_nothing(sessions: Sessions):
    prop = await make_property(sessions)
    async with sessions.begin() as session:
        stored = await session.get(Property, prop.id)
        assert stored is not None
        stored.archived_at = NOW
    assert await feed_for(sessions, prop.export_token, "all") is None


# --- who may see and rotate -------------------------------------------------------------------------------


async def test_owners_and_managers_get_links_viewers_and_cleaners_do_not(sessions: Sessions):
    first = await make_property(sessions, name="Apto 101")
    second = await make_property(sessions, name="Casa")
    async with sessions.begin() as session:
        people = {
            role: User(telegram_id=n, role=role) for n, role in enumerate(("owner", "manager", "viewer", "cleaner"))
        }
        session.add_all(people.values())
        await session.flush()
        for role in ("manager", "viewer", "cleaner"):
            session.add(PropertyAccess(user_id=people[role].id, property_id=first.id, role=role))
    owner, manager, viewer, cleaner = people.values()
    async with sessions.begin() as session:
        owner_view = await export.export_overview(session, owner, now=NOW)
        assert [x.property_name for x in owner_view.links] == ["Apto 101", "Casa"]
        manager_view = await export.export_overview(session, manager, now=NOW)
        assert [x.property_id for x in manager_view.links] == [first.id]
        for person in (viewer, cleaner):
            overview = await export.export_overview(session, person, now=NOW)
            assert overview.links == []
        assert await export.export_links(session, manager, second.id, now=NOW) is None
        assert await export.rotate_export_links(session, viewer, first.id, now=NOW) is None
        assert await export.rotate_export_links(session, manager, second.id, now=NOW) is None
        assert await export.rotate_export_links(session, owner, 999, now=NOW) is None
    async with sessions() as session:
        tokens = {p.id: p.export_token for p in (await session.scalars(select(Property))).all()}
    assert tokens == {first.id: first.export_token, second.id: second.export_token}  # nothing rotated


async def test_a_token_in_an_old_format_is_replaced_the_first_time_links_are_shown(sessions: Sessions):
    prop = await make_property(sessions, token="legacy-token-from-replay")
    assert await feed_for(sessions, "legacy-token-from-replay", "all") is None
    async with sessions.begin() as session:
        owner = User(telegram_id=1, role="owner")
        session.add(owner)
        await session.flush()
        links = await export.export_links(session, owner, prop.id, now=NOW)
    assert links is not None and export.token_property_id(links.token) == prop.id
    assert await feed_for(sessions, links.token, "all") is not None
    async with sessions.begin() as session:  # a well-formed token is kept as it is
        owner = await session.get(User, owner.id)
        assert owner is not None
        again = await export.export_links(session, owner, prop.id, now=NOW)
    assert again is not None and again.token == links.token


# --- what each platform gets ------------------------------------------------------------------------------


async def test_each_platform_gets_the_others_stays(sessions: Sessions):
    prop = await make_property(sessions)
    direct = await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6), guest="Ana")
    block = await add_stay(sessions, prop, date(2026, 8, 7), date(2026, 8, 8), kind="block")
    from_airbnb = await add_stay(sessions, prop, date(2026, 8, 10), date(2026, 8, 14), source="airbnb")
    from_booking = await add_stay(sessions, prop, date(2026, 8, 20), date(2026, 8, 22), source="booking")
    missing = await add_stay(sessions, prop, date(2026, 9, 1), date(2026, 9, 5), source="vrbo", status="missing")
    await add_stay(sessions, prop, date(2026, 9, 10), date(2026, 9, 12), source="vrbo", status="cancelled")
    await add_stay(sessions, prop, date(2026, 7, 20), date(2026, 7, 25))  # past
    await add_stay(sessions, prop, date(2026, 8, 2), date(2027, 8, 1), source="airbnb", kind="window")

    def uids(body: bytes) -> list[str]:
        return [uid for uid, *_rest in events(body)]

    bodies = {}
    for target in ("airbnb", "booking", "vrbo", "all"):
        feed = await feed_for(sessions, prop.export_token, target)
        assert feed is not None
        bodies[target] = feed.body
    everything = [direct, block, from_airbnb, from_booking, missing]
    assert uids(bodies["all"]) == [s.export_uid for s in everything]
    assert uids(bodies["airbnb"]) == [s.export_uid for s in everything if s is not from_airbnb]
    assert uids(bodies["booking"]) == [s.export_uid for s in everything if s is not from_booking]
    assert uids(bodies["vrbo"]) == [s.export_uid for s in everything if s is not missing]
    # names stay out unless the host opted in
    summaries = [summary for *_rest, summary in events(bodies["all"])]
    assert summaries == ["Reserved", "Blocked", "Reserved", "Reserved", "Reserved"]


async def test_guest_names_when_the_host_opted_in(sessions: Sessions):
    prop = await make_property(sessions)
    await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6), guest='Ana, "Zé"; Souza')
    feed_named = await add_stay(sessions, prop, date(2026, 8, 10), date(2026, 8, 12), source="vrbo")
    async with sessions.begin() as session:
        stored = await session.get(Booking, feed_named.id)
        stored_prop = await session.get(Property, prop.id)
        assert stored is not None and stored_prop is not None
        stored.feed_guest_name = "Claire"  # as VRBO's "Reserved - Claire" gave it
        stored_prop.export_guest_names = True
    feed = await feed_for(sessions, prop.export_token, "airbnb")
    assert feed is not None
    assert [summary for *_rest, summary in events(feed.body)] == ['Reserved - Ana, "Zé"; Souza', "Reserved - Claire"]


async def test_today_is_the_property_local_date(sessions: Sessions):
    prop = await make_property(sessions)
    await add_stay(sessions, prop, date(2026, 7, 28), date(2026, 7, 31))  # checked out yesterday (local)
    leaving = await add_stay(sessions, prop, date(2026, 7, 29), date(2026, 8, 1))
    # 02:00 UTC on Aug 1 is still Jul 31 in São Paulo: both stays are listed then
    late_evening = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)
    early = await feed_for(sessions, prop.export_token, "all", now=late_evening)
    assert early is not None and len(events(early.body)) == 2
    feed = await feed_for(sessions, prop.export_token, "all")
    assert feed is not None and [uid for uid, *_r in events(feed.body)] == [leaving.export_uid]


# --- ETag, DTSTAMP and Last-Modified ---------------------------------------------------------------------------


async def test_etag_and_bytes_are_stable_while_nothing_changes(sessions: Sessions):
    prop = await make_property(sessions)
    await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6))
    first = await feed_for(sessions, prop.export_token, "airbnb")
    later = await feed_for(sessions, prop.export_token, "airbnb", now=NOW + timedelta(hours=2))
    assert first is not None and later is not None
    assert first.body == later.body and first.etag == later.etag
    assert first.etag.startswith('"') and first.etag.endswith('"')
    assert first.last_modified == NOW - timedelta(days=3)
    assert b"DTSTAMP:20260729T130000Z" in first.body  # DTSTAMP is the newest change, not the request time


async def test_moving_a_direct_booking_keeps_its_uid_and_changes_etag_and_last_modified(sessions: Sessions):
    prop = await make_property(sessions)
    stay = await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6))
    before = await feed_for(sessions, prop.export_token, "booking")
    moved_at = NOW - timedelta(hours=1)
    async with sessions.begin() as session:
        stored = await session.get(Booking, stay.id)
        assert stored is not None
        stored.check_in, stored.check_out, stored.updated_at = date(2026, 8, 4), date(2026, 8, 9), moved_at
    after = await feed_for(sessions, prop.export_token, "booking")
    assert before is not None and after is not None
    assert events(before.body)[0][:3] == (stay.export_uid, date(2026, 8, 3), date(2026, 8, 6))
    assert events(after.body)[0][:3] == (stay.export_uid, date(2026, 8, 4), date(2026, 8, 9))
    assert after.etag != before.etag
    assert after.last_modified == moved_at > before.last_modified


async def test_a_touch_without_a_content_change_keeps_the_etag(sessions: Sessions):
    prop = await make_property(sessions)
    stay = await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6))
    before = await feed_for(sessions, prop.export_token, "all")
    async with sessions.begin() as session:
        stored = await session.get(Booking, stay.id)
        assert stored is not None
        stored.updated_at, stored.notes = NOW - timedelta(minutes=5), "late arrival"
    after = await feed_for(sessions, prop.export_token, "all")
    assert before is not None and after is not None
    assert after.etag == before.etag  # DTSTAMP lines are left out of the ETag
    assert after.last_modified > before.last_modified


async def test_last_modified_moves_when_a_stay_leaves_the_feed(sessions: Sessions):
    prop = await make_property(sessions)
    await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6))
    gone = await add_stay(sessions, prop, date(2026, 8, 10), date(2026, 8, 12), source="booking")
    before = await feed_for(sessions, prop.export_token, "all")
    cancelled_at = NOW - timedelta(minutes=30)
    async with sessions.begin() as session:
        stored = await session.get(Booking, gone.id)
        assert stored is not None
        stored.status, stored.cancelled_at, stored.updated_at = "cancelled", cancelled_at, cancelled_at
    after = await feed_for(sessions, prop.export_token, "all")
    assert before is not None and after is not None
    assert len(events(after.body)) == 1 and after.etag != before.etag
    assert after.last_modified == cancelled_at  # a client with the older date must not get a 304


async def test_last_modified_counts_the_midnight_a_past_stay_dropped_out(sessions: Sessions):
    prop = await make_property(sessions)
    await add_stay(sessions, prop, date(2026, 7, 28), date(2026, 7, 31), at=NOW - timedelta(days=10))
    feed = await feed_for(sessions, prop.export_token, "all")
    assert feed is not None and events(feed.body) == []
    # listed through Jul 31 (its check-out day), gone from Aug 1 00:00 in São Paulo = 03:00 UTC
    assert feed.last_modified == datetime(2026, 8, 1, 3, 0, tzinfo=UTC)


async def test_last_modified_counts_audited_property_changes(sessions: Sessions):
    prop = await make_property(sessions)
    async with sessions.begin() as session:
        stored = await session.get(Property, prop.id)
        assert stored is not None
        stored.export_guest_names = True
        session.add(
            AuditLog(at=NOW - timedelta(minutes=1), action="property.updated", entity="property", entity_id=prop.id)
        )
    feed = await feed_for(sessions, prop.export_token, "all")
    assert feed is not None and feed.last_modified == NOW - timedelta(minutes=1)


async def test_last_modified_is_never_in_the_future(sessions: Sessions):
    prop = await make_property(sessions)
    await add_stay(sessions, prop, date(2026, 8, 3), date(2026, 8, 6), at=NOW + timedelta(hours=1))  # clock skew
    feed = await feed_for(sessions, prop.export_token, "all")
    assert feed is not None and feed.last_modified == NOW


# --- the round trip through the real sync ---------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


async def test_round_trip_through_the_real_sync(sessions: Sessions, server: FeedServer):
    """Airbnb -> LUMINA -> Booking.com closes the nights -> LUMINA: nothing echoes back, the original stays put."""
    prop = await make_property(sessions)
    reservation = Stay("r1@airbnb.com", date(2026, 8, 10), date(2026, 8, 14))
    airbnb_block = Stay("b1@airbnb.com", date(2026, 8, 20), date(2026, 8, 22), blocked=True)
    server.route("/airbnb.ics", body=airbnb([reservation, airbnb_block]))
    server.route("/booking.ics", body=booking([]))
    async with sessions.begin() as session:
        feeds = [
            Feed(property_id=prop.id, url=server.url("/airbnb.ics"), platform="airbnb"),
            Feed(property_id=prop.id, url=server.url("/booking.ics"), platform="booking"),
        ]
        session.add_all(feeds)
        await session.flush()
        airbnb_feed, booking_feed = feeds[0].id, feeds[1].id
    fetcher = FeedFetcher(FetchConfig(allow_private=True, total_timeout=2.0))
    clock_now = [NOW]
    syncer = FeedSyncer(sessions, fetcher, clock=lambda: clock_now[0])
    try:
        assert (await syncer.sync_feed(airbnb_feed)).outcome == "ok"
        await syncer.sync_feed(booking_feed)
        async with sessions() as session:
            imported = {b.uid: b for b in (await session.scalars(select(Booking))).all()}
        r1, b1 = imported["r1@airbnb.com"], imported["b1@airbnb.com"]

        to_booking = await feed_for(sessions, prop.export_token, "booking")
        to_airbnb = await feed_for(sessions, prop.export_token, "airbnb")
        assert to_booking is not None and to_airbnb is not None
        assert [(u, s, e) for u, s, e, _ in events(to_booking.body)] == [
            (r1.export_uid, date(2026, 8, 10), date(2026, 8, 14)),
            (b1.export_uid, date(2026, 8, 20), date(2026, 8, 22)),
        ]
        assert events(to_airbnb.body) == []
        # LUMINA's own importer reads the export back to exactly the stays sent
        back = parse_feed(to_booking.body, tz=TZ, today=date(2026, 8, 1))
        assert [(e.uid, e.check_in, e.check_out, e.kind.value) for e in back.events] == [
            (r1.export_uid, date(2026, 8, 10), date(2026, 8, 14), "reservation"),
            (b1.export_uid, date(2026, 8, 20), date(2026, 8, 22), "block"),
        ]

        # Booking.com imported our feed and now exports closures for those nights
        server.route(
            "/booking.ics",
            body=booking([Stay("c1@booking.com", date(2026, 8, 10), date(2026, 8, 14)),
                          Stay("c2@booking.com", date(2026, 8, 20), date(2026, 8, 22)),
                          Stay("c3@booking.com", date(2026, 9, 1), date(2026, 9, 4))]),
        )  # fmt: skip
        clock_now[0] = NOW + timedelta(minutes=10)
        assert (await syncer.sync_feed(booking_feed)).outcome == "ok"
        async with sessions() as session:
            c3 = await session.scalar(select(Booking).where(Booking.uid == "c3@booking.com"))
        assert c3 is not None
        to_airbnb = await feed_for(sessions, prop.export_token, "airbnb", now=clock_now[0])
        to_booking_again = await feed_for(sessions, prop.export_token, "booking", now=clock_now[0])
        assert to_airbnb is not None and to_booking_again is not None
        # the echoes of Airbnb's own nights stay away from Airbnb; the genuine Booking.com stay goes there
        assert [u for u, *_r in events(to_airbnb.body)] == [c3.export_uid]
        # and Booking.com keeps getting the originals, so its closures stay in place
        assert to_booking_again.etag == to_booking.etag
    finally:
        await fetcher.aclose()
