"""The double-booking guard through the chat: a direct booking over a synced reservation, then the host acts."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import Conflict, Feed, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

TZ = ZoneInfo("America/Sao_Paulo")
T = {
    "pt-BR": {
        "double": "Reserva duplicada",
        "resolve": "Resolvido",
        "resolved": "Resolvido. Só volta",
        "none": "Nenhum conflito aberto.",
        "snooze": "Adiar",
        "echo": "É um eco",
        "free": "livre",
        "taken": "ocupado",
        "save_anyway": "Salvar mesmo assim",
    },
    "en": {
        "double": "Double booking",
        "resolve": "Resolved",
        "resolved": "Resolved. It comes back only",
        "none": "No open conflicts.",
        "snooze": "Snooze",
        "echo": "It is an echo",
        "free": "free",
        "taken": "taken",
        "save_anyway": "Save anyway",
    },
}


async def setup_synced_property(lumina: Lumina, server: FeedServer, stay: Stay) -> tuple[int, int]:
    server.route("/airbnb.ics", body=airbnb([stay]))
    async with lumina.sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x")
        session.add(prop)
        await session.flush()
        feed = Feed(property_id=prop.id, url=server.url("/airbnb.ics"))
        session.add(feed)
        await session.flush()
        ids = (prop.id, feed.id)
    await lumina.app.services.syncer.sync_feed(ids[1])
    return ids


async def conflicts(lumina: Lumina) -> list[Conflict]:
    async with lumina.sessions() as session:
        return list((await session.scalars(select(Conflict))).all())


async def test_direct_booking_over_a_synced_reservation_then_resolve(owner: Lumina, language: str):
    t = T[language]
    start = e2e_today() + timedelta(days=20)
    async with FeedServer() as server:
        await setup_synced_property(owner, server, Stay("r1@airbnb.com", start, start + timedelta(days=4)))
        await owner.say(OWNER, "/book")  # one property: nothing to choose
        await owner.tap(OWNER, "🛏")
        await owner.say(OWNER, (start + timedelta(days=1)).strftime("%d/%m/%Y"))
        await owner.say(OWNER, (start + timedelta(days=3)).strftime("%d/%m/%Y"))
        await owner.tap(OWNER, T[language]["save_anyway"])
        await owner.say(OWNER, "Carlos")
        [conflict] = await conflicts(owner)
        assert (conflict.klass, conflict.status) == ("double_booking", "open")

        # the page goes out through the outbox at once, with the actions on it
        [page] = await owner.api.wait_for(
            "sendMessage", chat_id=OWNER, timeout=10,
            predicate=lambda r: f"c:{conflict.id}:resolve" in str(r.params.get("reply_markup")),
        )  # fmt: skip
        actions = [b["callback_data"] for row in page.params["reply_markup"]["inline_keyboard"] for b in row]
        assert {f"c:{conflict.id}:resolve", f"c:{conflict.id}:echo", f"c:{conflict.id}:snooze"} <= set(actions)
        assert {f"b:{conflict.booking_a_id}:open", f"b:{conflict.booking_b_id}:open"} <= set(actions)

        answer = await owner.say(OWNER, "/conflicts")
        assert t["double"] in answer[0]["text"] and "Carlos" in answer[0]["text"]
        await owner.tap(OWNER, "1. Apto 101")
        labels = [text for text, _data in owner.buttons(owner.screen(OWNER))]
        assert any(t["snooze"] in label for label in labels) and any(t["echo"] in label for label in labels)
        await owner.tap(OWNER, t["resolve"])
        answer = await owner.say(OWNER, "Carlos foi para o Apto 202")
        assert t["resolved"] in answer[0]["text"]
        [conflict] = await conflicts(owner)
        assert (conflict.status, conflict.note) == ("resolved", "Carlos foi para o Apto 202")

        # the next syncs do not re-open it: same dates
        for _ in range(2):
            await owner.app.services.syncer.sync_feeds(await owner.app.services.syncer.feeds_of())
        [conflict] = await conflicts(owner)
        assert conflict.status == "resolved"
        assert (await owner.say(OWNER, "/conflicts"))[0]["text"].endswith(t["none"])

        # the Airbnb guest stays a night longer: the contested nights are the ones the host settled, no page
        server.route("/airbnb.ics", body=airbnb([Stay("r1@airbnb.com", start, start + timedelta(days=5))]))
        await owner.app.services.syncer.sync_feeds(await owner.app.services.syncer.feeds_of())
        [conflict] = await conflicts(owner)
        assert conflict.status == "resolved"


async def test_snooze_and_echo_buttons(owner: Lumina, language: str):
    t = T[language]
    start = e2e_today() + timedelta(days=30)
    async with FeedServer() as server:
        await setup_synced_property(owner, server, Stay("r1@airbnb.com", start, start + timedelta(days=4)))
        await owner.say(OWNER, "/book")  # one property: nothing to choose
        await owner.tap(OWNER, "🛏")
        await owner.say(OWNER, start.strftime("%d/%m/%Y"))
        await owner.say(OWNER, (start + timedelta(days=2)).strftime("%d/%m/%Y"))
        await owner.tap(OWNER, T[language]["save_anyway"])
        await owner.say(OWNER, "Dora")
        await owner.say(OWNER, "/conflicts")
        await owner.tap(OWNER, "1. Apto 101")
        calls = await owner.tap(OWNER, t["snooze"])
        assert calls["answerCallbackQuery"][0].get("show_alert")
        [conflict] = await conflicts(owner)
        assert conflict.snoozed_until is not None and conflict.status == "open"
        await owner.tap(OWNER, t["echo"])
        [conflict] = await conflicts(owner)
        assert conflict.status == "echo"


async def test_free_fetches_fresh_and_names_a_calendar_it_could_not_read(owner: Lumina, language: str):
    t = T[language]
    start = e2e_today() + timedelta(days=40)
    async with FeedServer() as server:
        await setup_synced_property(owner, server, Stay("r1@airbnb.com", start, start + timedelta(days=4)))
        # a new reservation appears on Airbnb: /free must see it without waiting for the schedule
        server.route("/airbnb.ics", body=airbnb([Stay("r1@airbnb.com", start, start + timedelta(days=4)),
                                                  Stay("r2@airbnb.com", start + timedelta(days=10),
                                                       start + timedelta(days=12))]))  # fmt: skip
        late = start + timedelta(days=10)
        await owner.say(OWNER, f"/free {late:%d/%m/%Y} {late + timedelta(days=1):%d/%m/%Y}")
        assert t["taken"] in answer_text(owner)
        free_day = start + timedelta(days=5)
        await owner.say(OWNER, f"/free {free_day:%d/%m/%Y} {free_day + timedelta(days=2):%d/%m/%Y}")
        assert "✅" in answer_text(owner) and t["free"] in answer_text(owner)
        server.route("/airbnb.ics", status=500, body=b"down")
        await owner.say(OWNER, f"/free {free_day:%d/%m/%Y} {free_day + timedelta(days=2):%d/%m/%Y}")
        text = answer_text(owner)
        assert "✅" not in text and "❔" in text and "Airbnb" in text


def answer_text(lumina: Lumina) -> str:
    """The newest /free answer (alerts about the fresh sync may arrive after it)."""
    return next(m["text"] for m in reversed(lumina.api.sent_messages(OWNER)) if m.get("text", "").startswith("🔎"))


async def test_free_with_wrong_dates(owner: Lumina, language: str):
    answer = await owner.say(OWNER, "/free 31/02 03/03")
    assert "31/02" in answer[0]["text"]
    answer = await owner.say(OWNER, "/free 15/08/2030 12/08/2030")
    assert "check-out" in answer[0]["text"]
