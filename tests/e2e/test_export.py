"""/export end to end: the real bot shows the links, rotates them, and the real web app serves (or refuses) them."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import aiohttp
import pytest
from icalendar import Calendar
from sqlalchemy import select

from domain import export
from storage.models import AuditLog, Booking, Property
from tests.e2e.harness import Lumina, running_lumina

OWNER, STRANGER, VIEWER, MANAGER = 5001, 6002, 7003, 8004
PUBLIC = "https://lumina.example.com"
CODE_RE = re.compile(r"<code>(.*?)</code>")


@pytest.fixture
async def lumina(database_url, tmp_path) -> AsyncIterator[Lumina]:
    async with running_lumina(database_url, tmp_path, public_url=PUBLIC) as running:
        await running.say(OWNER, f"/start {running.app.setup_code}", language_code="en")
        yield running


async def add_property(lumina: Lumina, name: str = "Apto <101> & Co") -> int:
    async with lumina.sessions.begin() as session:
        prop = Property(name=name, timezone="America/Sao_Paulo", export_token="pending")
        session.add(prop)
        await session.flush()
        prop.export_token = export.new_export_token(prop.id)
        session.add(
            Booking(
                property_id=prop.id,
                source="airbnb",
                kind="reservation",
                status="active",
                export_uid=f"from-airbnb-{prop.id}@lumina",
                check_in=date(2099, 1, 10),
                check_out=date(2099, 1, 14),
                created_at=datetime(2026, 8, 1, tzinfo=UTC),
            )
        )
        return prop.id


async def token_of(lumina: Lumina, property_id: int) -> str:
    async with lumina.sessions() as session:
        prop = await session.get(Property, property_id)
        assert prop is not None
        return prop.export_token


def urls(text: str) -> list[str]:
    return [html.unescape(found) for found in CODE_RE.findall(text)]


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


async def fetch(lumina: Lumina, url: str) -> tuple[int, bytes, str | None]:
    """The public URL, served by this instance's web app on loopback."""
    local = f"http://127.0.0.1:{lumina.app.port}{urlsplit(url).path}"
    async with aiohttp.ClientSession() as http, http.get(local) as response:
        return response.status, await response.read(), response.headers.get("Content-Type")


async def test_export_shows_four_links_that_work(lumina: Lumina):
    property_id = await add_property(lumina)
    answers = await lumina.say(OWNER, "/export")
    assert len(answers) == 1
    text = answers[0]["text"]
    assert "<b>Apto &lt;101&gt; &amp; Co</b>" in text  # the name is escaped for HTML
    assert "Availability → Connect calendars → Import" in text
    assert "Rates &amp; availability → Sync calendars → Add calendar connection" in text
    assert "Calendar → Import calendar" in text
    token = await token_of(lumina, property_id)
    assert urls(text) == [f"{PUBLIC}/ical/{token}/{target}.ics" for target in ("airbnb", "booking", "vrbo", "all")]
    assert buttons(answers[0]) == [("🔄 Rotate link", f"exp:{property_id}:rotate")]

    status, body, content_type = await fetch(lumina, urls(text)[1])  # Booking.com's link
    assert status == 200 and content_type == "text/calendar; charset=utf-8"
    assert [str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")] == [f"from-airbnb-{property_id}@lumina"]
    status, body, _type = await fetch(lumina, urls(text)[0])  # Airbnb's link: its own stay stays home
    assert status == 200 and Calendar.from_ical(body).walk("VEVENT") == []


async def test_rotate_asks_first_then_the_old_link_dies_and_the_new_one_works(lumina: Lumina):
    property_id = await add_property(lumina)
    await lumina.say(OWNER, "/export")
    message = lumina.api.last_message(OWNER)
    old_urls = urls(message["text"])

    calls = await lumina.press(OWNER, f"exp:{property_id}:rotate", message_id=message["message_id"])
    question = calls["editMessageText"][0]
    assert question["text"].startswith("Rotate the links of <b>Apto &lt;101&gt; &amp; Co</b>?")
    assert [data for _text, data in buttons(lumina.api.last_message(OWNER))] == [
        f"exp:{property_id}:yes",
        f"exp:{property_id}:no",
    ]
    assert (await fetch(lumina, old_urls[0]))[0] == 200  # nothing changes before "Yes"

    calls = await lumina.press(OWNER, f"exp:{property_id}:yes", message_id=message["message_id"])
    assert calls["answerCallbackQuery"][0]["text"] == "Done: new links."
    edited = lumina.api.last_message(OWNER)
    new_urls = urls(edited["text"])
    assert "the old ones no longer work" in edited["text"]
    assert len(new_urls) == 4 and set(new_urls).isdisjoint(old_urls)
    assert new_urls[0] == f"{PUBLIC}/ical/{await token_of(lumina, property_id)}/airbnb.ics"
    assert buttons(edited) == [("🔄 Rotate link", f"exp:{property_id}:rotate")]

    for old in old_urls:
        status, body, _type = await fetch(lumina, old)
        assert (status, body) == (404, b"Not found\n")
    for new in new_urls:
        status, body, _type = await fetch(lumina, new)
        assert status == 200 and body.startswith(b"BEGIN:VCALENDAR\r\n")
    async with lumina.sessions() as session:
        actions = (await session.scalars(select(AuditLog.action).where(AuditLog.entity == "property"))).all()
    assert actions == ["export.rotated"]


async def test_no_keeps_the_links(lumina: Lumina):
    property_id = await add_property(lumina)
    await lumina.say(OWNER, "/export")
    message = lumina.api.last_message(OWNER)
    before = urls(message["text"])
    await lumina.press(OWNER, f"exp:{property_id}:rotate", message_id=message["message_id"])
    await lumina.press(OWNER, f"exp:{property_id}:no", message_id=message["message_id"])
    assert urls(lumina.api.last_message(OWNER)["text"]) == before
    assert (await fetch(lumina, before[3]))[0] == 200


async def test_a_stranger_pressing_the_forwarded_rotate_button_is_refused(lumina: Lumina):
    property_id = await add_property(lumina)
    await lumina.say(OWNER, "/export")
    message = lumina.api.last_message(OWNER)
    token = await token_of(lumina, property_id)
    for action in ("rotate", "yes"):
        calls = await lumina.press(
            STRANGER, f"exp:{property_id}:{action}", message_id=message["message_id"], chat_id=OWNER, language_code="en"
        )
        assert calls["answerCallbackQuery"][0]["text"] == "This bot is private."
        assert "editMessageText" not in calls and "sendMessage" not in calls
    assert await token_of(lumina, property_id) == token


async def test_a_viewer_sees_no_links_and_cannot_rotate(lumina: Lumina):
    property_id = await add_property(lumina)
    await lumina.add_member(VIEWER, property_id, "viewer")
    answers = await lumina.say(VIEWER, "/export")
    assert [a["text"] for a in answers] == ["Only owners and managers can see the calendar links."]

    await lumina.say(OWNER, "/export")
    message = lumina.api.last_message(OWNER)
    token = await token_of(lumina, property_id)
    for action in ("rotate", "yes", "show"):
        calls = await lumina.press(
            VIEWER, f"exp:{property_id}:{action}", message_id=message["message_id"], chat_id=OWNER
        )
        answer = calls["answerCallbackQuery"][0]
        assert answer["text"] == "Only owners and managers of this property can do that." and answer["show_alert"]
        assert "editMessageText" not in calls and "sendMessage" not in calls
    assert await token_of(lumina, property_id) == token


async def test_a_manager_may_rotate(lumina: Lumina):
    property_id = await add_property(lumina)
    await lumina.add_member(MANAGER, property_id, "manager")
    answers = await lumina.say(MANAGER, "/export")
    assert len(urls(answers[0]["text"])) == 4
    message_id = lumina.api.last_message(MANAGER)["message_id"]
    await lumina.press(MANAGER, f"exp:{property_id}:rotate", message_id=message_id)
    await lumina.press(MANAGER, f"exp:{property_id}:yes", message_id=message_id)
    assert urls(lumina.api.last_message(MANAGER)["text"])[0].split("/")[4] == await token_of(lumina, property_id)


async def test_many_properties_get_a_picker_instead_of_a_flood(lumina: Lumina):
    ids = [await add_property(lumina, f"Unit {n}") for n in range(7)]
    answers = await lumina.say(OWNER, "/export")
    assert len(answers) == 1 and urls(answers[0]["text"]) == []
    assert buttons(answers[0]) == [(f"Unit {n}", f"exp:{pid}:show") for n, pid in enumerate(ids)]
    message_id = lumina.api.last_message(OWNER)["message_id"]
    await lumina.press(OWNER, f"exp:{ids[3]}:show", message_id=message_id)
    shown = lumina.api.last_message(OWNER)
    assert "<b>Unit 3</b>" in shown["text"] and len(urls(shown["text"])) == 4


async def test_no_properties_yet(lumina: Lumina):
    answers = await lumina.say(OWNER, "/export")
    assert [a["text"] for a in answers] == ["You have no properties yet."]
