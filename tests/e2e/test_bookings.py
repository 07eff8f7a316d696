"""Bookings in the chat: day views, lists, the month, the card, details, direct bookings with the date picker."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.i18n import _, use_locale
from domain.booking_fields import DETAIL_FIELDS, DETAILS
from storage.models import Booking, Conflict, Feed, Guest, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.support.clock import E2E_START, e2e_today

STRANGER, VIEWER, MANAGER = 6002, 7003, 8004
TZ = ZoneInfo("America/Sao_Paulo")


def today() -> date:
    return e2e_today()


T = {
    "pt-BR": {
        "arrivals": "Chegadas (1)",
        "in_house": "Hospedados (1)",
        "code": "Código da reserva",
        "fill": "Preencher dados",
        "guest": "Hóspede principal",
        "price": "Valor",
        "saved": "Salvo.",
        "money_bad": "Não entendi esse valor",
        "direct": "Reserva direta",
        "skip": "Pular",
        "booking_saved": "Reserva salva.",
        "reversed": "O check-out precisa ser pelo menos um dia depois",
        "not_exist": "31/02 não é uma data que existe",
        "past": "já passou",
        "double": "reserva duplicada",
        "save_anyway": "Salvar mesmo assim",
        "expired": "Este botão expirou.",
        "private": "Este bot é particular.",
        "upcoming": "Próximas reservas (11)",
        "doc": "Adicionar hóspede com documento",
        "guest_added": "Hóspede adicionado.",
    },
    "en": {
        "arrivals": "Arrivals (1)",
        "in_house": "In house (1)",
        "code": "Reservation code",
        "fill": "Fill in details",
        "guest": "Main guest",
        "price": "Price",
        "saved": "Saved.",
        "money_bad": "I could not read that amount",
        "direct": "Direct booking",
        "skip": "Skip",
        "booking_saved": "Booking saved.",
        "reversed": "The check-out must be at least one day after",
        "not_exist": "31/02 is not a date that exists",
        "past": "has already passed",
        "double": "double booking",
        "save_anyway": "Save anyway",
        "expired": "This button has expired.",
        "private": "This bot is private.",
        "upcoming": "Upcoming reservations (11)",
        "doc": "Add a guest with document",
        "guest_added": "Guest added.",
    },
}


async def seed(lumina: Lumina) -> dict[str, int]:
    """Two properties with an Airbnb feed each: a stay arriving today, one in house elsewhere, nine later ones."""
    now = E2E_START.astimezone(TZ)
    async with lumina.sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
        session.add(prop)
        await session.flush()
        feed = Feed(property_id=prop.id, url="https://www.airbnb.com/calendar/ical/1.ics", platform="airbnb")
        session.add(feed)
        await session.flush()
        d = today()

        def stay(uid: str, start: date, end: date, **kw: object) -> Booking:
            return Booking(
                property_id=prop.id,
                feed_id=feed.id,
                source="airbnb",
                kind="reservation",
                uid=uid,
                export_uid=f"{uid}-e",
                check_in=start,
                check_out=end,
                first_seen_at=now,
                **kw,
            )

        arriving = stay("arr", d, d + timedelta(days=3), reservation_code="HMABCDEF12", phone_last4="1234")
        other = Property(name="Casa 7", timezone="America/Sao_Paulo", export_token="2-x", currency="BRL")
        session.add(other)
        await session.flush()
        in_house = stay("inh", d - timedelta(days=2), d + timedelta(days=1))
        in_house.property_id, in_house.feed_id = other.id, None
        later = [stay(f"l{i}", d + timedelta(days=10 + 4 * i), d + timedelta(days=12 + 4 * i)) for i in range(9)]
        session.add_all([arriving, in_house, *later])
        await session.flush()
        return {"property": prop.id, "arriving": arriving.id, "later0": later[0].id, "elsewhere": in_house.id}


async def test_today_card_and_details_survive(owner: Lumina, language: str):
    t = T[language]
    ids = await seed(owner)
    answer = await owner.say(OWNER, "/today")
    assert t["arrivals"] in answer[0]["text"] and t["in_house"] in answer[0]["text"]
    await owner.tap(OWNER, "Apto 101 · ")
    card = owner.text(OWNER)
    assert t["code"] in card and "HMABCDEF12" in card and "1234" in card
    await owner.tap(OWNER, t["fill"])
    await owner.tap(OWNER, t["guest"])
    await owner.say(OWNER, "Maria <b>Souza</b>")
    await owner.tap(OWNER, t["fill"])
    await owner.tap(OWNER, t["price"])
    answer = await owner.say(OWNER, "mil reais")
    assert t["money_bad"] in answer[0]["text"]
    await owner.say(OWNER, "1.234,56")
    assert "Maria &lt;b&gt;Souza&lt;/b&gt;" in owner.text(OWNER)
    await owner.tap(OWNER, t["fill"])
    await owner.tap(OWNER, t["doc"])
    await owner.say(OWNER, "João Silva")
    answer = await owner.say(OWNER, "CPF 123.456.789-09")
    assert answer[0]["text"] == t["guest_added"]
    async with owner.sessions() as session:
        booking = await session.get(Booking, ids["arriving"])
        assert booking is not None and (booking.guest_name, booking.price) == ("Maria <b>Souza</b>", Decimal("1234.56"))
        guest = await session.scalar(select(Guest))
        assert guest is not None and (guest.full_name, guest.document_type, guest.document_number) == (
            "João Silva",
            "CPF",
            "123.456.789-09",
        )


# An answer to each question of the field table, and the text the card then shows (HTML-escaped, localized money).
ANSWERS = {
    "guest_name": ("Ana Lima", "Ana Lima"),
    "guests_count": ("3", "3"),
    "guest_phone": ("+55 21 98888-7777", "+55 21 98888-7777"),
    "guest_email": ("ana@example.com", "ana@example.com"),
    "vehicle_plate": ("abc1d23", "ABC1D23"),
    "price": ("980", "R$"),
    "notes": ("Late <arrival>", "Late &lt;arrival&gt;"),
}


async def test_every_field_of_the_table_is_asked_saved_and_shown(owner: Lumina, language: str):
    """The fill menu, the question, the parser and the card line all come from domain.booking_fields."""
    assert set(ANSWERS) == set(DETAILS), "give each field of the table an answer here"
    ids = await seed(owner)
    await owner.say(OWNER, "/today")
    await owner.tap(OWNER, "Apto 101 · ")
    for field in DETAIL_FIELDS:
        with use_locale("pt_BR" if language == "pt-BR" else "en"):
            label, line = _(field.label), _(field.line)
        await owner.tap(OWNER, T[language]["fill"])
        await owner.tap(OWNER, label)
        answer, shown = ANSWERS[field.name]
        await owner.say(OWNER, answer)
        text = owner.text(OWNER)
        assert line.split("{value}")[0] in text and shown in text.split(line.split("{value}")[0])[1], (field.name, text)
    async with owner.sessions() as session:
        booking = await session.get(Booking, ids["arriving"])
        assert booking is not None and booking.vehicle_plate == "ABC1D23" and booking.guests_count == 3


async def test_upcoming_paginates(owner: Lumina, language: str):
    await seed(owner)
    answer = await owner.say(OWNER, "/upcoming")
    assert T[language]["upcoming"] in answer[0]["text"]
    first_page = owner.buttons(owner.screen(OWNER))
    assert ("1/2", "noop") in first_page
    await owner.tap(OWNER, "▶️")
    assert ("2/2", "noop") in owner.buttons(owner.screen(OWNER))
    assert sum(1 for text, data in owner.buttons(owner.screen(OWNER)) if data.startswith("b:")) == 3


async def test_month_view_marks_nights_and_opens_stays(owner: Lumina):
    await seed(owner)
    await owner.say(OWNER, "/calendar")
    await owner.tap(OWNER, "Apto 101")  # two properties: which one?
    buttons = owner.buttons(owner.screen(OWNER))
    assert len(buttons) <= 100 and all(len(data.encode()) <= 64 for _text, data in buttons)
    booked = [text for text, data in buttons if data.startswith("b:")]
    assert booked and all("•" in text for text in booked)
    await owner.tap(OWNER, "▶️")
    await owner.tap(OWNER, "•")
    assert "Apto 101" in owner.text(OWNER)


async def test_direct_booking_with_the_date_picker_and_wrong_dates(owner: Lumina, language: str):
    t = T[language]
    ids = await seed(owner)
    await owner.say(OWNER, "/book")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, t["direct"])
    picker = owner.buttons(owner.screen(OWNER))
    if today().day > 1:
        assert ("·", "noop") in picker  # past days are shown but cannot be picked
    answer = await owner.say(OWNER, "31/02")
    assert t["not_exist"] in answer[0]["text"]
    yesterday = today() - timedelta(days=1)
    answer = await owner.say(OWNER, yesterday.strftime("%d/%m/%Y"))
    assert t["past"] in answer[0]["text"]
    start = today() + timedelta(days=10)  # over the first later Airbnb stay: a double booking
    await owner.say(OWNER, start.strftime("%d/%m/%Y"))
    answer = await owner.say(OWNER, start.strftime("%d/%m/%Y"))
    assert t["reversed"] in answer[0]["text"]
    end = start + timedelta(days=2)
    screen = owner.keyboard(OWNER)
    if end.month != start.month:
        await owner.tap(OWNER, "▶️")  # turn the picker's month
        screen = owner.keyboard(OWNER)
    [day_button] = [data for text, data in owner.buttons(screen) if text == str(end.day) and data.startswith("d:")]
    await owner.press(OWNER, day_button, message_id=screen["message_id"])
    await owner.tap(OWNER, t["save_anyway"])  # taken by an Airbnb stay: asked first
    await owner.tap(OWNER, t["skip"])
    texts = [m.get("text", "") for m in owner.api.sent_messages(OWNER)[-3:]]
    assert any(t["booking_saved"] in x and t["double"] in x for x in texts)
    async with owner.sessions() as session:
        direct = await session.scalar(select(Booking).where(Booking.source == "direct"))
        assert direct is not None and (direct.check_in, direct.check_out) == (start, end)
        conflict = await session.scalar(select(Conflict).where(Conflict.klass != "same_source"))
        assert conflict is not None and conflict.klass == "double_booking"
        assert {conflict.booking_a_id, conflict.booking_b_id} == {ids["later0"], direct.id}


async def test_buttons_from_a_deleted_booking_and_strangers(owner: Lumina, language: str):
    t = T[language]
    ids = await seed(owner)
    await owner.say(OWNER, "/upcoming")
    await owner.tap(OWNER, "Apto 101")
    card = owner.screen(OWNER)
    async with owner.sessions.begin() as session:
        booking = await session.get(Booking, ids["arriving"])
        await session.delete(booking)
    calls = await owner.press(OWNER, f"b:{ids['arriving']}:fill", message_id=card["message_id"])
    assert calls["answerCallbackQuery"][0]["text"] == t["expired"]
    calls = await owner.press(
        STRANGER, f"b:{ids['later0']}:open", message_id=card["message_id"], chat_id=OWNER, language_code=language
    )
    assert calls["answerCallbackQuery"][0]["text"] == t["private"]
    assert "editMessageText" not in calls
    # forged data out of any id's range (issue 15): refused when parsed, before the database sees it
    for forged in ("b:" + "9" * 60 + ":open", "b:-5:open", "mo:1:2026:13", "pg:upcoming:99999999999"):
        calls = await owner.press(OWNER, forged, message_id=card["message_id"])
        assert calls["answerCallbackQuery"][0]["text"] == t["expired"]


@pytest.mark.parametrize("language", ["en"])
async def test_a_viewer_sees_but_cannot_change(owner: Lumina):
    ids = await seed(owner)
    await owner.add_member(VIEWER, ids["property"], "viewer")
    await owner.say(VIEWER, "/upcoming", language_code="en")
    await owner.tap(VIEWER, "Apto 101")
    assert not any("Fill in" in text for text, _data in owner.buttons(owner.screen(VIEWER)))
    calls = await owner.press(VIEWER, f"b:{ids['later0']}:fill", message_id=owner.screen(VIEWER)["message_id"])
    assert calls["answerCallbackQuery"][0]["text"] == "This button has expired."


@pytest.mark.parametrize("language", ["en"])
async def test_a_manager_changes_only_the_properties_given_to_them(owner: Lumina):
    ids = await seed(owner)
    await owner.add_member(MANAGER, ids["property"], "manager")
    await owner.say(MANAGER, "/upcoming", language_code="en")
    await owner.tap(MANAGER, "Apto 101")
    assert any("Fill in" in text for text, _data in owner.buttons(owner.screen(MANAGER)))
    await owner.tap(MANAGER, "Fill in details")
    assert owner.text(MANAGER).startswith("What do you want to fill in?")
    await owner.say(MANAGER, "/today", language_code="en")
    assert "Apto 101" in owner.text(MANAGER) and "Casa 7" not in owner.text(MANAGER)
    calls = await owner.press(MANAGER, f"b:{ids['elsewhere']}:open", message_id=owner.screen(MANAGER)["message_id"])
    assert calls["answerCallbackQuery"][0]["text"] == "This button has expired."  # Casa 7 is not theirs
