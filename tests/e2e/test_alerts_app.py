"""Alerts through the whole application (`lumina run`'s wiring): a synced change reaches the host; a user who
blocked the bot gets nothing more until they write to it again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from domain.alerts import add_outbox_rows, outbox_row
from domain.outbox import queue_alert
from storage.models import Feed, Outbox, Property, PropertyAccess, User
from tests.e2e.delivery_harness import until
from tests.e2e.harness import Lumina, running_lumina
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

OWNER, MANAGER = 5001, 5002


async def world(lumina: Lumina, *, url: str = "http://127.0.0.1:1/cal.ics") -> tuple[Property, int]:
    async with lumina.sessions.begin() as session:
        owner = User(telegram_id=OWNER, first_name="Bia", role="owner", locale="en")
        manager = User(telegram_id=MANAGER, first_name="Caio", role="manager", locale="pt_BR")
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="e2e-alerts")
        session.add_all([owner, manager, prop])
        await session.flush()
        session.add(PropertyAccess(user_id=manager.id, property_id=prop.id, role="manager"))
        feed = Feed(property_id=prop.id, url=url, platform="airbnb")
        session.add(feed)
        await session.flush()
        return prop, feed.id


async def statuses(lumina: Lumina, telegram_id: int) -> list[str]:
    async with lumina.sessions() as session:
        query = select(Outbox.status).where(Outbox.chat_id == telegram_id).order_by(Outbox.id)
        return list((await session.scalars(query)).all())


async def test_a_new_reservation_in_a_feed_reaches_the_host(database_url, tmp_path):
    soon = e2e_today() + timedelta(days=10)
    first = Stay("r1@airbnb.com", soon, soon + timedelta(days=3))
    async with FeedServer() as server, running_lumina(database_url, tmp_path, owner_ids=[OWNER]) as lumina:
        server.route("/cal.ics", body=airbnb([first]))
        _prop, feed_id = await world(lumina, url=server.url("/cal.ics"))
        syncer = lumina.app.services.syncer
        await syncer.sync_feed(feed_id)  # the first import is quiet
        later = Stay("r2@airbnb.com", soon + timedelta(days=5), soon + timedelta(days=7))
        server.route("/cal.ics", body=airbnb([first, later]))
        mark = lumina.api.mark()
        await syncer.sync_feed(feed_id)  # on_alerts wakes the delivery job: no waiting for a tick
        [owner_call] = await lumina.api.wait_for("sendMessage", chat_id=OWNER, after=mark)
        [manager_call] = await lumina.api.wait_for("sendMessage", chat_id=MANAGER, after=mark)
        assert owner_call.params["text"].startswith("<b>Apto 101</b>\n🆕 New reservation · Airbnb")
        assert manager_call.params["text"].startswith("<b>Apto 101</b>\n")
        assert owner_call.params["parse_mode"] == "HTML"
        assert "b:" in str(owner_call.params["reply_markup"])  # the "Open booking" button


async def test_a_user_who_blocked_the_bot_is_left_alone_until_they_write(database_url, tmp_path):
    async with running_lumina(database_url, tmp_path, owner_ids=[OWNER], delivery_interval=0.1) as lumina:
        prop, _feed = await world(lumina)
        payload = {"booking_id": None, "kind": "reservation", "platform": "airbnb", "check_in": "2026-08-12",
                   "check_out": "2026-08-15"}  # fmt: skip
        lumina.api.fail_next("sendMessage", status=403)  # the next send is the manager's: they blocked the bot
        async with lumina.sessions.begin() as session:
            manager = (await session.scalars(select(User).where(User.telegram_id == MANAGER))).one()
            now = lumina.clock()
            rows = [outbox_row(manager, "booking_new", f"m{i}", now=now, payload=payload) for i in range(2)]
            await add_outbox_rows(session, rows)
        lumina.app.services.outbox_wakeup()
        await until(lambda: _all_dead(lumina))
        async with lumina.sessions() as session:
            assert (await session.scalars(select(User.is_active).where(User.telegram_id == MANAGER))).one() is False

        async def alert(key: str) -> None:
            async with lumina.sessions.begin() as session:
                stored = await session.get(Property, prop.id)
                assert stored is not None
                await queue_alert(session, stored, "booking_new", key, now=lumina.clock(), payload=payload)
            lumina.app.services.outbox_wakeup()

        mark = lumina.api.mark()
        await alert("after-block")
        await lumina.api.wait_for("sendMessage", chat_id=OWNER, after=mark)
        await lumina.api.wait_idle()
        assert [r.status for r in lumina.api.calls("sendMessage") if r.params["chat_id"] == MANAGER] == [403]

        await lumina.say(MANAGER, "/help", language_code="pt-BR")  # they unblocked us and wrote
        async with lumina.sessions() as session:
            assert (await session.scalars(select(User.is_active).where(User.telegram_id == MANAGER))).one() is True
        mark = lumina.api.mark()
        await alert("back")
        [call] = await lumina.api.wait_for("sendMessage", chat_id=MANAGER, after=mark)
        assert call.params["text"].startswith("<b>Apto 101</b>")
        await until(lambda: _statuses_are(lumina, ["dead", "dead", "sent"]))


async def _all_dead(lumina: Lumina) -> bool:
    return await _statuses_are(lumina, ["dead", "dead"])


async def _statuses_are(lumina: Lumina, expected: list[str]) -> bool:
    return (await statuses(lumina, MANAGER)) == expected
