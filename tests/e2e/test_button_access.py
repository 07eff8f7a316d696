"""One access lookup (bot/middlewares/lookup.py): a representative button of each router, pressed by the owner,
a manager, a viewer and a cleaner of the property, and by a stranger — through real HTTP to the fake Bot API."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.keyboards.callbacks import DocSetupCB, StatsCB
from storage.models import Booking, Conflict, Feed, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina

MANAGER, VIEWER, CLEANER, STRANGER = 8101, 8102, 8103, 8104
EXPIRED = {"pt-BR": "Este botão expirou.", "en": "This button has expired."}
PRIVATE = "This bot is private."  # the stranger's Telegram speaks English
SEEN = "see"  # owner, manager, viewer
MANAGED = "manage"  # owner, manager
ALLOWED = {SEEN: {OWNER, MANAGER, VIEWER}, MANAGED: {OWNER, MANAGER}}


async def seed(lumina: Lumina) -> dict[str, int]:
    """A property with a calendar, a live direct booking and an open conflict between it and an imported stay."""
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    async with lumina.sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
        session.add(prop)
        await session.flush()
        feed = Feed(property_id=prop.id, url="https://www.airbnb.com/calendar/ical/1.ics", platform="airbnb")
        session.add(feed)
        await session.flush()
        start, end = date(2030, 2, 10), date(2030, 2, 14)
        common = {"property_id": prop.id, "kind": "reservation", "check_in": start, "check_out": end}
        imported = Booking(feed_id=feed.id, source="airbnb", uid="a1", export_uid="a1-e", first_seen_at=now, **common)
        direct = Booking(source="direct", uid="d1", export_uid="d1-e", first_seen_at=now, **common)
        session.add_all([imported, direct])
        await session.flush()
        conflict = Conflict(property_id=prop.id, booking_a_id=imported.id, booking_b_id=direct.id,
                            klass="double_booking", dates_key="k", overlap_start=start, overlap_end=end,
                            opened_at=now)  # fmt: skip
        session.add(conflict)
        await session.flush()
        return {"prop": prop.id, "feed": feed.id, "direct": direct.id, "conflict": conflict.id}


def buttons(ids: dict[str, int]) -> list[tuple[str, str, str]]:
    """(router, callback data, who may press it)."""
    p, f, b, c = ids["prop"], ids["feed"], ids["direct"], ids["conflict"]
    return [
        ("properties", f"p:{p}:open", SEEN),
        ("properties", f"p:{p}:archive", MANAGED),
        ("feeds", f"f:{f}:open", SEEN),
        ("feeds", f"f:{f}:remove", MANAGED),
        ("bookings", f"p:{p}:calendar", SEEN),
        ("bookings", f"b:{b}:fill", MANAGED),
        ("direct", f"b:{b}:cancel", MANAGED),
        ("direct", f"p:{p}:book", MANAGED),
        ("conflicts", f"c:{c}:open", SEEN),
        ("conflicts", f"c:{c}:resolve", MANAGED),
        ("documents", DocSetupCB(id=p).pack(), MANAGED),
        ("stats", StatsCB(action="rate", p=p).pack(), MANAGED),
    ]


async def test_each_router_checks_who_presses(owner: Lumina, language: str):
    ids = await seed(owner)
    for member, role in ((MANAGER, "manager"), (VIEWER, "viewer"), (CLEANER, "cleaner")):
        await owner.add_member(member, ids["prop"], role)
    people = (OWNER, MANAGER, VIEWER, CLEANER, STRANGER)
    speaks = {person: {} if person == OWNER else {"language_code": "en"} for person in people}
    for person in people:  # a message in each chat for the buttons to hang under
        await owner.say(person, "/help", **speaks[person])
    screens = {person: owner.api.sent_messages(person)[-1]["message_id"] for person in people}
    refused = []
    for router, data, who in buttons(ids):
        for person in people:
            calls = await owner.press(person, data, message_id=screens[person], **speaks[person])
            answer = calls["answerCallbackQuery"][0].get("text")
            if person == STRANGER:
                assert answer == PRIVATE, (router, data)
                assert "editMessageText" not in calls and "sendMessage" not in calls
                continue
            expired = EXPIRED[language if person == OWNER else "en"]
            if person in ALLOWED[who]:
                assert answer != expired, (router, data, person)
                assert "editMessageText" in calls or "sendMessage" in calls, (router, data, person)
            else:
                assert answer == expired, (router, data, person)
                refused.append((router, person))
    assert {router for router, _person in refused} == {"properties", "feeds", "bookings", "direct", "conflicts",
                                                       "documents", "stats"}  # fmt: skip


@pytest.mark.parametrize("language", ["en"])
async def test_a_button_whose_object_went_away_has_expired(owner: Lumina):
    ids = await seed(owner)
    await owner.say(OWNER, "/help")
    message_id = owner.screen(OWNER)["message_id"]
    async with owner.sessions.begin() as session:
        conflict = await session.get(Conflict, ids["conflict"])
        assert conflict is not None
        conflict.status = "resolved"  # a closed conflict cannot be resolved again, only seen
        booking = await session.get(Booking, ids["direct"])
        assert booking is not None
        booking.status = "cancelled"  # a cancelled booking cannot be cancelled again
    for data in (f"c:{ids['conflict']}:resolve", f"b:{ids['direct']}:cancel", "p:999999:open", "f:999999:open"):
        calls = await owner.press(OWNER, data, message_id=message_id)
        assert calls["answerCallbackQuery"][0]["text"] == EXPIRED["en"], data
    calls = await owner.press(OWNER, f"c:{ids['conflict']}:open", message_id=message_id)
    assert "editMessageText" in calls
