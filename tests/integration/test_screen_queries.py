"""The one-statement queries behind /today, the booking card and the month view, and who may see what in them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import bookings
from domain.properties import property_for, visible_properties, visible_property_ids
from storage.models import Booking, Feed, Guest, Property, PropertyAccess, User

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 8, 10)


def stay(prop: Property, check_in: date, check_out: date, *, kind: str = "reservation", status: str = "active",
         feed: Feed | None = None, uid: str) -> Booking:  # fmt: skip
    return Booking(property_id=prop.id, feed_id=feed.id if feed else None, source=feed.platform if feed else "direct",
                   kind=kind, status=status, uid=uid, export_uid=f"{uid}@test", check_in=check_in,
                   check_out=check_out)  # fmt: skip


async def seed(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions.begin() as session:
        owner = User(telegram_id=1, first_name="Ana", role="owner")
        manager = User(telegram_id=2, first_name="Caio", role="manager")
        viewer = User(telegram_id=3, first_name="Vera", role="viewer")
        cleaner = User(telegram_id=4, first_name="Lia", role="cleaner")
        beach = Property(name="Beach", timezone="America/Sao_Paulo", export_token="t-beach")
        city = Property(name="City", timezone="America/Sao_Paulo", export_token="t-city")
        old = Property(name="Old", timezone="America/Sao_Paulo", export_token="t-old", archived_at=NOW)
        session.add_all([owner, manager, viewer, cleaner, beach, city, old])
        await session.flush()
        session.add_all([
            PropertyAccess(user_id=manager.id, property_id=beach.id, role="manager"),
            PropertyAccess(user_id=viewer.id, property_id=beach.id, role="viewer"),
            PropertyAccess(user_id=viewer.id, property_id=city.id, role="viewer"),
            PropertyAccess(user_id=cleaner.id, property_id=beach.id, role="cleaner"),
            PropertyAccess(user_id=manager.id, property_id=old.id, role="manager"),
        ])  # fmt: skip
        feed = Feed(property_id=beach.id, url="https://example.invalid/a.ics", platform="airbnb")
        session.add(feed)
        await session.flush()
        arriving = stay(beach, TODAY, date(2026, 8, 13), feed=feed, uid="a")
        staying = stay(city, date(2026, 8, 8), date(2026, 8, 12), uid="b")
        leaving_tomorrow = stay(beach, date(2026, 8, 5), date(2026, 8, 11), uid="c")
        session.add_all([
            arriving, staying, leaving_tomorrow,
            stay(beach, TODAY, date(2026, 8, 12), kind="block", uid="d"),  # a block is not a guest
            stay(beach, TODAY, date(2026, 8, 12), status="cancelled", uid="e"),
            stay(old, TODAY, date(2026, 8, 12), uid="f"),  # archived property
            stay(beach, date(2026, 7, 1), date(2026, 9, 1), kind="window", uid="g"),  # not in the month grid
            stay(beach, date(2026, 8, 30), date(2026, 9, 2), uid="h"),  # touches August
            stay(beach, date(2026, 9, 1), date(2026, 9, 3), uid="i"),  # does not
        ])  # fmt: skip
        await session.flush()
        session.add_all([
            Guest(booking_id=arriving.id, position=1, full_name="Second", document_type="RG", document_number="2"),
            Guest(booking_id=arriving.id, position=0, full_name="Main", document_type="CPF", document_number="1"),
        ])  # fmt: skip
        return {"owner": owner.id, "manager": manager.id, "viewer": viewer.id, "cleaner": cleaner.id,
                "beach": beach.id, "city": city.id, "old": old.id, "arriving": arriving.id, "staying": staying.id,
                "leaving": leaving_tomorrow.id}  # fmt: skip


async def user(session: AsyncSession, user_id: int) -> User:
    found = await session.get(User, user_id)
    assert found is not None
    return found


def uids(entries: list[tuple[Property, Booking]]) -> list[str | None]:
    return [b.uid for _p, b in entries]


async def test_day_views_split_two_days_from_one_query_and_follow_access(sessions):
    ids = await seed(sessions)
    async with sessions() as session:
        today, tomorrow = await bookings.day_views(session, await user(session, ids["owner"]), TODAY, days=2)
        assert (today.day, tomorrow.day) == (TODAY, date(2026, 8, 11))
        assert (uids(today.arrivals), uids(today.departures), uids(today.in_house)) == (["a"], [], ["c", "b"])
        assert (uids(tomorrow.arrivals), uids(tomorrow.departures), uids(tomorrow.in_house)) == ([], ["c"], ["a", "b"])

        [manager_today] = await bookings.day_views(session, await user(session, ids["manager"]), TODAY, days=1)
        assert uids(manager_today.arrivals + manager_today.in_house) == ["a", "c"]  # Beach only; Old is archived
        [cleaner_today] = await bookings.day_views(session, await user(session, ids["cleaner"]), TODAY, days=1)
        assert cleaner_today.arrivals == cleaner_today.in_house == []  # a cleaner sees turnovers, not bookings


async def test_the_card_is_one_query_with_guests_in_order_and_who_may_change_it(sessions):
    ids = await seed(sessions)
    async with sessions() as session:
        card = await bookings.card(session, await user(session, ids["owner"]), ids["arriving"])
        assert card is not None and card.can_manage
        assert (card.property.name, card.feed and card.feed.platform) == ("Beach", "airbnb")
        assert [g.full_name for g in card.guests] == ["Main", "Second"]

        manager_card = await bookings.card(session, await user(session, ids["manager"]), ids["arriving"])
        assert manager_card is not None and manager_card.can_manage
        viewer_card = await bookings.card(session, await user(session, ids["viewer"]), ids["staying"])
        assert viewer_card is not None and not viewer_card.can_manage and viewer_card.feed is None
        assert viewer_card.guests == []
        assert await bookings.card(session, await user(session, ids["manager"]), ids["staying"]) is None  # City
        assert await bookings.card(session, await user(session, ids["cleaner"]), ids["arriving"]) is None
        assert await bookings.card(session, await user(session, ids["owner"]), 999_999) is None


async def test_booking_for_checks_access_and_the_right_to_change(sessions):
    ids = await seed(sessions)
    async with sessions() as session:
        viewer = await user(session, ids["viewer"])
        assert await bookings.booking_for(session, viewer, ids["arriving"]) is not None
        assert await bookings.booking_for(session, viewer, ids["arriving"], manage=True) is None
        manager = await user(session, ids["manager"])
        assert await bookings.booking_for(session, manager, ids["arriving"], manage=True) is not None


async def test_month_view_is_the_property_and_its_stays_touching_the_month(sessions):
    ids = await seed(sessions)
    async with sessions() as session:
        owner = await user(session, ids["owner"])
        found = await bookings.month_view(session, owner, ids["beach"], date(2026, 8, 1))
        assert found is not None
        prop, stays = found
        assert prop.name == "Beach"
        assert [s.uid for s in stays] == ["c", "a", "d", "h"]
        empty = await bookings.month_view(session, owner, ids["city"], date(2027, 1, 1))
        assert empty is not None and empty[1] == []  # a month without stays still shows the property
        assert await bookings.month_view(session, owner, ids["old"], date(2026, 8, 1)) is None  # archived
        manager = await user(session, ids["manager"])
        assert await bookings.month_view(session, manager, ids["city"], date(2026, 8, 1)) is None


async def test_visible_properties_by_role(sessions):
    ids = await seed(sessions)
    async with sessions() as session:
        names = {}
        for role in ("owner", "manager", "viewer", "cleaner"):
            names[role] = [p.name for p in await visible_properties(session, await user(session, ids[role]))]
        assert names == {"owner": ["Beach", "City"], "manager": ["Beach"], "viewer": ["Beach", "City"],
                         "cleaner": []}  # fmt: skip
        viewer = await user(session, ids["viewer"])
        assert await visible_property_ids(session, viewer, manage=True) == []
        assert await property_for(session, viewer, ids["city"]) is not None
        assert await property_for(session, viewer, ids["city"], manage=True) is None
