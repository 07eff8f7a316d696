"""Turnover notices to a cleaner, end to end: a feed synced over HTTP, one message per turnover, edited in place
when the stay's dates change and struck through when the next stay is cancelled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Booking, Feed, Property, PropertyAccess, TurnoverMessage, User
from tests.e2e.harness import Lumina, running_lumina
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

OWNER, CLEANER = 5001, 5004


async def messages_by_departure(lumina: Lumina) -> dict[str, TurnoverMessage]:
    async with lumina.sessions() as session:
        rows = await session.execute(
            select(Booking.uid, TurnoverMessage).join(Booking, Booking.id == TurnoverMessage.departing_booking_id)
        )
        return {uid: tm for uid, tm in rows}


async def test_turnover_message_is_edited_when_dates_change_and_struck_when_cancelled(database_url, tmp_path):
    base = e2e_today() + timedelta(days=5)
    a = Stay("a@airbnb.com", base, base + timedelta(days=3))
    b = Stay("b@airbnb.com", base + timedelta(days=3), base + timedelta(days=6), code="HMBBBBBBBB")
    c = Stay("c@airbnb.com", base + timedelta(days=8), base + timedelta(days=10), code="HMCCCCCCCC")
    async with (
        FeedServer() as server,
        running_lumina(database_url, tmp_path, owner_ids=[OWNER], cancel_min_gap_minutes=0) as lumina,
    ):
        server.route("/cal.ics", body=airbnb([a, b, c]))
        async with lumina.sessions.begin() as session:
            prop = Property(name="Casa <Mar>", timezone="America/Sao_Paulo", export_token="turnover-e2e")
            owner = User(telegram_id=OWNER, first_name="Bia", role="owner", locale="en")
            cleaner = User(telegram_id=CLEANER, first_name="Lia", role="cleaner", locale="pt_BR")
            session.add_all([prop, owner, cleaner])
            await session.flush()
            session.add(PropertyAccess(user_id=cleaner.id, property_id=prop.id, role="cleaner"))
            feed = Feed(property_id=prop.id, url=server.url("/cal.ics"), platform="airbnb")
            session.add(feed)
            await session.flush()
            feed_id = feed.id
        api, syncer = lumina.api, lumina.app.services.syncer

        await syncer.sync_feed(feed_id)  # the first import: nothing for the owner, the turnovers for the cleaner
        sent = await api.wait_for("sendMessage", chat_id=CLEANER, count=3)
        assert all(call.params["text"].startswith("<b>Casa &lt;Mar&gt;</b>\n🧹") for call in sent)
        await api.wait_idle()
        assert {call.params["chat_id"] for call in api.calls("sendMessage")} == {CLEANER}  # the owner: nothing yet
        before = await messages_by_departure(lumina)
        assert set(before) == {"a@airbnb.com", "b@airbnb.com", "c@airbnb.com"}
        assert all(tm.message_id for tm in before.values())

        # A leaves a day early; B arrives on that day instead: A's and B's messages are edited, none sent anew
        a2 = Stay("a@airbnb.com", a.check_in, a.check_out - timedelta(days=1))
        b2 = Stay("b@airbnb.com", b.check_in - timedelta(days=1), b.check_out, code="HMBBBBBBBB")
        server.route("/cal.ics", body=airbnb([a2, b2, c]))
        mark = api.mark()
        await syncer.sync_feed(feed_id)
        edits = await api.wait_for("editMessageText", chat_id=CLEANER, count=2, after=mark)
        await api.wait_idle()
        assert sorted(e.params["message_id"] for e in edits) == sorted(
            [before["a@airbnb.com"].message_id, before["b@airbnb.com"].message_id]
        )
        assert [c.params["chat_id"] for c in api.calls("sendMessage", after=mark)] == [OWNER, OWNER]  # 2 changes
        edited = api._messages[(CLEANER, before["a@airbnb.com"].message_id)].data["text"]
        assert "<s>" not in edited and "🧹" in edited

        # B is cancelled (gone from two downloads): its message is struck through, A's now says C arrives next
        server.route("/cal.ics", body=airbnb([a2, c]))
        await syncer.sync_feed(feed_id)
        mark = api.mark()
        await syncer.sync_feed(feed_id)
        await api.wait_for("editMessageText", chat_id=CLEANER, count=2, after=mark)
        await api.wait_idle()
        struck = api._messages[(CLEANER, before["b@airbnb.com"].message_id)].data["text"]
        assert struck.startswith("<s><b>Casa &lt;Mar&gt;</b>") and "</s>\n❌" in struck
        after = await messages_by_departure(lumina)
        assert after["b@airbnb.com"].cancelled and not after["a@airbnb.com"].cancelled
        async with lumina.sessions() as session:
            c_id = (await session.scalars(select(Booking.id).where(Booking.uid == "c@airbnb.com"))).one()
        assert after["a@airbnb.com"].arriving_booking_id == c_id
        assert len([c for c in api.calls("sendMessage") if c.params["chat_id"] == CLEANER]) == 3  # never resent
