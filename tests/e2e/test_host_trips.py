"""Issue 14: what a new host trips over in the chat, item by item, in both languages, through the fake Bot API."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import Booking, Conflict, Feed, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.support.clock import E2E_START, e2e_today

TZ = ZoneInfo("America/Sao_Paulo")

T = {
    "pt-BR": {
        "direct": "Reserva direta",
        "block": "Bloquear datas",
        "taken": "Estas datas estão ocupadas",
        "save_anyway": "Salvar mesmo assim",
        "block_anyway": "Bloquear mesmo assim",
        "other_dates": "Mudar as datas",
        "cancel": "Cancelar",
        "check_in_q": "Dia do check-in?",
        "code": "código",
        "saved": "Reserva salva.",
        "cancelled": "Cancelado. Nada foi alterado.",
        "own": "é a sua reserva direta",
        "both": "Confira as duas plataformas",
        "move_mine": "Mudar minha reserva",
        "cancel_mine": "Cancelar minha reserva",
        "yes": "Sim",
        "double": "Reserva duplicada",
        "no_longer": "Não é mais um conflito",
        "closed_cancelled": "uma reserva foi cancelada",
        "closed_moved": "as datas mudaram",
        "resolved_by": "Resolvido por Ana",
        "resolve": "Resolvido",
        "status_cancelled": "cancelada",
    },
    "en": {
        "direct": "Direct booking",
        "block": "Block dates",
        "taken": "These dates are taken",
        "save_anyway": "Save anyway",
        "block_anyway": "Block anyway",
        "other_dates": "Change the dates",
        "cancel": "Cancel",
        "check_in_q": "Check-in day?",
        "code": "code",
        "saved": "Booking saved.",
        "cancelled": "Cancelled. Nothing was changed.",
        "own": "is your own direct booking",
        "both": "Check both platforms",
        "move_mine": "Move my booking",
        "cancel_mine": "Cancel my booking",
        "yes": "Yes",
        "double": "Double booking",
        "no_longer": "No longer a conflict",
        "closed_cancelled": "a reservation was cancelled",
        "closed_moved": "the dates changed",
        "resolved_by": "Resolved by Ana",
        "resolve": "Resolved",
        "status_cancelled": "cancelled",
    },
}


def today() -> date:
    return e2e_today()


def typed(value: date) -> str:
    return value.strftime("%d/%m/%Y")


async def seed_airbnb_stay(lumina: Lumina, start: date, nights: int = 4) -> dict[str, int]:
    """One property with an Airbnb reservation (code HMCODE1234) on [start, start + nights)."""
    async with lumina.sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
        session.add(prop)
        await session.flush()
        feed = Feed(property_id=prop.id, url="https://www.airbnb.com/calendar/ical/1.ics", platform="airbnb")
        session.add(feed)
        await session.flush()
        stay = Booking(
            property_id=prop.id, feed_id=feed.id, source="airbnb", kind="reservation", uid="s1", export_uid="s1-e",
            check_in=start, check_out=start + timedelta(days=nights), first_seen_at=E2E_START.astimezone(TZ),
            reservation_code="HMCODE1234",
        )  # fmt: skip
        session.add(stay)
        await session.flush()
        return {"property": prop.id, "stay": stay.id}


async def direct_bookings(lumina: Lumina) -> list[Booking]:
    async with lumina.sessions() as session:
        return list((await session.scalars(select(Booking).where(Booking.source == "direct"))).all())


async def all_conflicts(lumina: Lumina) -> list[Conflict]:
    async with lumina.sessions() as session:
        return list((await session.scalars(select(Conflict).where(Conflict.klass != "same_source"))).all())


async def page_for(lumina: Lumina, conflict_id: int) -> dict:
    """The double-booking page the outbox sent for this conflict, as the chat shows it now (edits applied)."""
    await lumina.api.wait_for(
        "sendMessage", chat_id=OWNER, timeout=10,
        predicate=lambda r: f"c:{conflict_id}:resolve" in str(r.params.get("reply_markup")),
    )  # fmt: skip
    for message in lumina.api.sent_messages(OWNER):
        if any(data == f"c:{conflict_id}:open" for _text, data in lumina.buttons(message)):
            return message
    raise AssertionError("no page")


def message_now(lumina: Lumina, message_id: int) -> dict:
    return next(m for m in lumina.api.sent_messages(OWNER) if m["message_id"] == message_id)


async def start_book(lumina: Lumina, kind_label: str) -> None:
    await lumina.say(OWNER, "/book")
    if any("Apto 101" in text for text, _data in lumina.buttons(lumina.screen(OWNER))):
        await lumina.tap(OWNER, "Apto 101")
    await lumina.tap(OWNER, kind_label)


# --- item 1: asked before saving over a stay; the page says which side is the host's ----------------------------


async def test_a_direct_booking_over_a_stay_is_asked_before_it_is_saved(owner: Lumina, language: str):
    t = T[language]
    start = today() + timedelta(days=20)
    ids = await seed_airbnb_stay(owner, start)
    await start_book(owner, t["direct"])
    await owner.say(OWNER, typed(start + timedelta(days=1)))
    [question] = await owner.say(OWNER, typed(start + timedelta(days=3)))
    assert t["taken"] in question["text"] and "HMCODE1234" in question["text"] and "Airbnb" in question["text"]
    labels = [text for text, _data in owner.buttons(question)]
    assert any(t["save_anyway"] in x for x in labels) and any(t["other_dates"] in x for x in labels)
    assert await direct_bookings(owner) == []  # nothing saved while the host decides

    # change the dates: back to the check-in question; free dates are not asked about
    await owner.tap(OWNER, t["other_dates"])
    assert t["check_in_q"] in owner.text(OWNER)
    free = start + timedelta(days=10)
    await owner.say(OWNER, typed(free))
    answer = await owner.say(OWNER, typed(free + timedelta(days=2)))
    assert t["taken"] not in answer[0]["text"]
    await owner.say(OWNER, "Bruno")
    assert [(b.check_in, b.guest_name) for b in await direct_bookings(owner)] == [(free, "Bruno")]
    assert await all_conflicts(owner) == []

    # over the stay again, and saved anyway: a double booking, and the page says which side is the host's
    await start_book(owner, t["direct"])
    await owner.say(OWNER, typed(start))
    await owner.say(OWNER, typed(start + timedelta(days=2)))
    await owner.tap(OWNER, t["save_anyway"])
    answer = await owner.say(OWNER, "Carla")
    assert t["saved"] in answer[0]["text"]
    [conflict] = await all_conflicts(owner)
    assert conflict.klass == "double_booking"
    mine = next(b for b in await direct_bookings(owner) if b.guest_name == "Carla")
    page = await page_for(owner, conflict.id)
    assert t["own"] in page["text"] and t["both"] not in page["text"]
    actions = [data for _text, data in owner.buttons(page)]
    assert {f"b:{mine.id}:move", f"b:{mine.id}:cancel"} <= set(actions)
    assert f"b:{ids['stay']}:move" not in actions

    # the conflict page says it too, and cancelling the host's side from there closes it
    await owner.say(OWNER, "/conflicts")
    await owner.tap(OWNER, "1. Apto 101")
    assert t["own"] in owner.text(OWNER)
    await owner.tap(OWNER, t["cancel_mine"])
    await owner.tap(OWNER, t["yes"])
    [conflict] = await all_conflicts(owner)
    assert conflict.status == "closed"


async def test_a_block_over_a_stay_is_asked_the_same(owner: Lumina, language: str):
    t = T[language]
    start = today() + timedelta(days=20)
    await seed_airbnb_stay(owner, start)
    await start_book(owner, t["block"])
    await owner.say(OWNER, typed(start - timedelta(days=1)))
    [question] = await owner.say(OWNER, typed(start + timedelta(days=1)))
    assert t["taken"] in question["text"] and "HMCODE1234" in question["text"]
    assert any(t["block_anyway"] in text for text, _data in owner.buttons(question))
    await owner.tap(OWNER, t["cancel"])
    assert t["cancelled"] in owner.text(OWNER)
    assert await direct_bookings(owner) == []


# --- item 2: a settled conflict shows its state and the stays as they are now -----------------------------------


async def test_a_closed_conflict_does_not_look_live(owner: Lumina, language: str):
    t = T[language]
    start = today() + timedelta(days=20)
    await seed_airbnb_stay(owner, start)
    await start_book(owner, t["direct"])
    await owner.say(OWNER, typed(start))
    await owner.say(OWNER, typed(start + timedelta(days=2)))
    await owner.tap(OWNER, t["save_anyway"])
    await owner.say(OWNER, "Carla")
    [conflict] = await all_conflicts(owner)
    page = await page_for(owner, conflict.id)
    # the host moves their booking away from the Airbnb stay: the overlap goes away
    await owner.press(OWNER, f"b:{conflict.booking_b_id}:move", message_id=page["message_id"])
    later = start + timedelta(days=10)
    await owner.say(OWNER, typed(later))
    await owner.say(OWNER, typed(later + timedelta(days=2)))
    [conflict] = await all_conflicts(owner)
    assert conflict.status == "closed"
    # the old page's "open conflict" button now shows a settled conflict with the stays as they are
    await owner.press(OWNER, f"c:{conflict.id}:open", message_id=page["message_id"])
    text = message_now(owner, page["message_id"])["text"]
    assert t["no_longer"] in text and t["closed_moved"] in text and t["double"] not in text
    assert str(later.day) in text  # the host's stay where it is now
    labels = [x for x, _data in owner.buttons(message_now(owner, page["message_id"]))]
    assert not any(t["resolve"] in x for x in labels)


async def test_a_resolved_conflict_says_by_whom_and_when(owner: Lumina, language: str):
    t = T[language]
    start = today() + timedelta(days=20)
    await seed_airbnb_stay(owner, start)
    await start_book(owner, t["direct"])
    await owner.say(OWNER, typed(start))
    await owner.say(OWNER, typed(start + timedelta(days=2)))
    await owner.tap(OWNER, t["save_anyway"])
    await owner.say(OWNER, "Carla")
    [conflict] = await all_conflicts(owner)
    await owner.say(OWNER, "/conflicts")
    await owner.tap(OWNER, "1. Apto 101")
    await owner.tap(OWNER, t["resolve"])
    await owner.say(OWNER, "Carla vai para o Apto 202")
    screen = owner.api.sent_messages(OWNER)[-1]
    await owner.press(OWNER, f"c:{conflict.id}:open", message_id=screen["message_id"])
    text = owner.text(OWNER)
    assert t["resolved_by"] in text and "Carla vai para o Apto 202" in text and t["double"] not in text


# --- item 3: identity numbers are checked, and asked as the property's country writes them ----------------------

T3 = {
    "pt-BR": {
        "documents": "📄 Documentos", "authorization": "Autorização de hospedagem", "word": "🇧🇷 Português · Word",
        "bad_cpf": "não é um CPF válido", "bad_cnpj": "não é um CNPJ válido", "cpf_or_cnpj": "Digite um CPF",
        "ask_host": "Seu CPF ou CNPJ", "templates": "Modelos e dados", "nif": "Seu NIF", "cpf_label": "CPF",
        "bad_nif": "não é um NIF válido", "city": "Lisboa", "saved": "Salvo.",
    },
    "en": {
        "documents": "📄 Documents", "authorization": "Guest authorization", "word": "🇬🇧 English · Word",
        "bad_cpf": "is not a valid CPF", "bad_cnpj": "is not a valid CNPJ", "cpf_or_cnpj": "Type a CPF",
        "ask_host": "Your CPF or CNPJ", "templates": "Templates and details", "nif": "Your NIF", "cpf_label": "CPF",
        "bad_nif": "is not a valid NIF", "city": "Lisbon", "saved": "Saved.",
    },
}  # fmt: skip


async def seed_documents_property(lumina: Lumina, *, timezone: str, currency: str, city: str) -> int:
    """A property whose host has given a name only, and a direct reservation of Maria Souza, alone, no car."""
    async with lumina.sessions.begin() as session:
        prop = Property(name="Apto 101", address=f"Rua das Flores, 100, {city}", timezone=timezone,
                        export_token="1-x", currency=currency, building_contact_name="Portaria",
                        private_info={"host_name": "Ana Lima"})  # fmt: skip
        session.add(prop)
        await session.flush()
        start = today() + timedelta(days=5)
        session.add(Booking(property_id=prop.id, source="direct", kind="reservation", export_uid="e1@lumina",
                            check_in=start, check_out=start + timedelta(days=3), currency=currency,
                            guest_name="Maria Souza", guests_count=1, vehicle_plate=""))  # fmt: skip
        return prop.id


async def waiting_for(lumina: Lumina) -> dict:
    context = lumina.app.dispatcher.fsm.get_context(lumina.app.bot, chat_id=OWNER, user_id=OWNER)
    return (await context.get_data() or {}).get("need", {})


async def test_cpf_and_cnpj_are_checked_and_formatted_on_the_authorization(owner: Lumina, language: str):
    from tests.support.documents import docx_text

    t = T3[language]
    await seed_documents_property(owner, timezone="America/Sao_Paulo", currency="BRL", city="Rio de Janeiro")
    await owner.say(OWNER, "/upcoming")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, t["documents"])
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, t["word"])
    assert (await waiting_for(owner))["key"] == "guest_document"
    for wrong in ("CPF abc", "111.222.333-44", "CPF 111.222.333-44"):
        [answer] = await owner.say(OWNER, wrong)
        assert t["bad_cpf"] in answer["text"], wrong
    await owner.say(OWNER, "cpf 12345678909")
    host: dict = {}
    while (need := await waiting_for(owner)) and need.get("info") != "host_document":
        await owner.say(OWNER, "Rio de Janeiro" if need.get("info") == "city" else "x")
        host = need
    assert t["ask_host"] in owner.text(OWNER), host
    [answer] = await owner.say(OWNER, "abc")
    assert t["cpf_or_cnpj"] in answer["text"]
    [answer] = await owner.say(OWNER, "11.222.333/0001-82")
    assert t["bad_cnpj"] in answer["text"]
    await owner.say(OWNER, "11222333000181")
    while need := await waiting_for(owner):
        await owner.say(OWNER, "Rio de Janeiro" if need.get("info") == "city" else "x")
    [sent] = owner.api.documents(OWNER)
    text = docx_text(sent.content)
    assert "123.456.789-09" in text and "11.222.333/0001-81" in text and "abc" not in text


async def test_a_lisbon_property_asks_for_a_nif_and_gives_a_portuguese_city(owner: Lumina, language: str):
    t = T3[language]
    prop_id = await seed_documents_property(owner, timezone="Europe/Lisbon", currency="EUR", city="Lisboa")
    await owner.say(OWNER, "/document")
    await owner.tap(OWNER, t["templates"])
    screen = owner.text(OWNER)
    assert t["nif"] in screen and "CPF" not in screen
    await owner.tap(OWNER, t["nif"])
    assert "NIF" in owner.text(OWNER) and "CPF" not in owner.text(OWNER)
    [answer] = await owner.say(OWNER, "123456780")
    assert t["bad_nif"] in answer["text"]
    await owner.say(OWNER, "PT 123 456 789")
    await owner.tap(OWNER, "✏️ " + ("Cidade" if language == "pt-BR" else "City"))
    assert t["city"] in owner.text(OWNER) and "Rio de Janeiro" not in owner.text(OWNER)
    async with owner.sessions() as session:
        prop = await session.get(Property, prop_id)
        assert prop is not None and prop.private_info["host_document"] == "123456789"


# --- item 5: a date of another year says its year, in lists, cards and alerts -----------------------------------


async def test_dates_of_another_year_show_the_year(owner: Lumina, language: str):
    t = T[language]
    start = date(today().year + 1, 7, 18)
    await seed_airbnb_stay(owner, start)
    shown = "18/07/" + str(start.year) if language == "pt-BR" else "18 Jul " + str(start.year)
    [answer] = await owner.say(OWNER, "/upcoming")
    assert shown in answer["text"]  # the list
    assert any(shown in text for text, _data in owner.buttons(answer))  # its buttons
    await owner.tap(OWNER, "Apto 101 · ")
    assert shown in owner.text(OWNER)  # the card
    # the alert of a double booking on those nights
    await start_book(owner, t["direct"])
    await owner.say(OWNER, typed(start))
    [question] = await owner.say(OWNER, typed(start + timedelta(days=2)))
    assert shown in question["text"]
    await owner.tap(OWNER, t["save_anyway"])
    await owner.say(OWNER, "Carla")
    [conflict] = await all_conflicts(owner)
    page = await page_for(owner, conflict.id)
    assert shown in page["text"]
    # this year's dates stay short
    async with owner.sessions.begin() as session:
        stay = await session.get(Booking, conflict.booking_a_id)
        assert stay is not None
        stay.check_in, stay.check_out = today() + timedelta(days=1), today() + timedelta(days=2)
    [answer] = await owner.say(OWNER, "/upcoming")
    line = next(x for x in answer["text"].splitlines() if "Airbnb" in x)
    assert str(today().year) not in line or (today() + timedelta(days=2)).year != today().year


# --- item 6: /free with reversed dates, the US order, times as people write them ---------------------------------

T6 = {
    "pt-BR": {"reversed": "O check-out precisa ser pelo menos um dia depois do check-in", "nights": "noites",
              "edit": "Editar", "checkin_time": "Horário de check-in", "saved": "Salvo"},
    "en": {"reversed": "The check-out must be at least one day after the check-in", "nights": "nights",
           "edit": "Edit", "checkin_time": "Check-in time", "saved": "Saved"},
}  # fmt: skip


async def test_free_with_reversed_dates_and_a_month_first_date(owner: Lumina, language: str):
    t = T6[language]
    async with owner.sessions.begin() as session:  # no calendar: /free fetches every calendar, none is on loopback
        session.add(Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL"))
    check_in = today() + timedelta(days=12)
    check_out = check_in - timedelta(days=5)
    [answer] = await owner.say(OWNER, f"/free {check_in:%d/%m} {check_out:%d/%m}")
    assert t["reversed"] in answer["text"] and "360" not in answer["text"]
    # a date that can only be month first, as typed in the US
    year = today().year + 1
    await owner.say(OWNER, f"/free 07/19/{year} 07/22/{year}")
    answer_text = next(m["text"] for m in reversed(owner.api.sent_messages(OWNER)) if m["text"].startswith("🔎"))
    assert f"3 {t['nights']}" in answer_text and "✅" in answer_text
    # and across New Year a yearless check-out is next year's
    await owner.say(OWNER, f"/free 28/12/{year} 03/01")
    answer_text = next(m["text"] for m in reversed(owner.api.sent_messages(OWNER)) if m["text"].startswith("🔎"))
    assert f"6 {t['nights']}" in answer_text


async def test_times_as_people_write_them(owner: Lumina, language: str):
    t = T6[language]
    ids = await seed_airbnb_stay(owner, today() + timedelta(days=60))
    for typed_time, expected in (("3 pm", "15:00"), ("15h", "15:00"), ("14:30", "14:30"), ("11 a.m.", "11:00")):
        await owner.say(OWNER, "/properties")
        await owner.tap(OWNER, "Apto 101")
        await owner.tap(OWNER, t["edit"])
        await owner.tap(OWNER, t["checkin_time"])
        [answer] = await owner.say(OWNER, typed_time)
        assert t["saved"] in answer["text"], typed_time
        async with owner.sessions() as session:
            prop = await session.get(Property, ids["property"])
            assert prop is not None and prop.checkin_time.strftime("%H:%M") == expected, typed_time


# --- item 4: the door code and the Wi-Fi password do not stay in the chat ----------------------------------------

T4 = {
    "pt-BR": {"templates": "Modelos e dados", "door": "✏️ Código da porta", "deleted": "apaguei sua mensagem",
              "documents": "📄 Documentos", "checkin": "Instruções de check-in", "word": "🇧🇷 Português · Word"},
    "en": {"templates": "Templates and details", "door": "✏️ Door code", "deleted": "I deleted your message",
           "documents": "📄 Documents", "checkin": "Check-in instructions", "word": "🇬🇧 English · Word"},
}  # fmt: skip


def stored_texts(lumina: Lumina) -> list[str]:
    """What the chat still holds, the host's messages included (deleted ones are gone)."""
    return [str(m.data.get("text", "")) for m in lumina.api._messages.values()]


async def test_secrets_the_host_types_are_deleted_from_the_chat(owner: Lumina, language: str):
    t = T4[language]
    await seed_documents_property(owner, timezone="America/Sao_Paulo", currency="BRL", city="Rio de Janeiro")
    await owner.say(OWNER, "/document")
    await owner.tap(OWNER, t["templates"])
    await owner.tap(OWNER, t["door"])
    mark = owner.api.mark()
    answer = await owner.say(OWNER, "4321#")
    assert t["deleted"] in answer[0]["text"]
    assert owner.api.calls("deleteMessage", after=mark)
    assert "4321#" not in stored_texts(owner)
    # the Wi-Fi password asked by the check-in instructions goes the same way, and still reaches the document
    await owner.say(OWNER, "/upcoming")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, t["documents"])
    await owner.tap(OWNER, t["checkin"])
    await owner.tap(OWNER, t["word"])
    while need := await waiting_for(owner):
        secret = need.get("info") == "wifi_password"
        answer = await owner.say(OWNER, "s3cr3t-pass" if secret else "Rede Casa" if need.get("info") == "wifi_name"
                                 else "x")  # fmt: skip
        if secret:
            assert t["deleted"] in answer[0]["text"]
    assert "s3cr3t-pass" not in stored_texts(owner)
    from tests.support.documents import docx_text

    assert "s3cr3t-pass" in docx_text(owner.api.documents(OWNER)[-1].content)


# --- item 8: the words -------------------------------------------------------------------------------------------

T8 = {
    "pt-BR": {
        "blocked": "(bloqueado)", "nothing": "Nada hoje nem amanhã", "kind_q": "uma reserva direta",
        "block": "Bloquear datas", "first_blocked": "Primeiro dia bloqueado?", "until": "Até qual dia?",
        "confirmed": "confirmada", "block_card": "Bloqueado · Direta", "add": "Adicionar imóvel",
        "export": "link de exportação", "no_reservations": "nenhuma reserva · nenhum período bloqueado",
        "near": "Você quis dizer America/Sao_Paulo", "edit": "Editar", "tz": "Fuso horário", "saved": "Imóvel salvo.",
    },
    "en": {
        "blocked": "(blocked)", "nothing": "Nothing today or tomorrow", "kind_q": "a direct booking",
        "block": "Block dates", "first_blocked": "First blocked day?", "until": "Until which day?",
        "confirmed": "confirmed", "block_card": "Blocked · Direct", "add": "Add a property",
        "export": "export link", "no_reservations": "no reservations · no blocked periods",
        "near": "Did you mean America/Sao_Paulo", "edit": "Edit", "tz": "Time zone", "saved": "Property saved.",
    },
}  # fmt: skip


async def test_an_empty_today_says_so_once_and_free_names_a_block_in_the_language(owner: Lumina, language: str):
    t = T8[language]
    [answer] = await owner.say(OWNER, "/today")  # no properties, nothing at all
    assert t["nothing"] in answer["text"] and "—" not in answer["text"]
    async with owner.sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
        session.add(prop)
        await session.flush()
        start = today() + timedelta(days=30)
        session.add(Booking(property_id=prop.id, source="direct", kind="block", export_uid="b@lumina",
                            check_in=start, check_out=start + timedelta(days=2)))  # fmt: skip
    await owner.say(OWNER, f"/free {typed(start)} {typed(start + timedelta(days=1))}")
    text = next(m["text"] for m in reversed(owner.api.sent_messages(OWNER)) if m["text"].startswith("🔎"))
    assert t["blocked"] in text


async def test_book_with_one_property_and_the_words_of_a_block(owner: Lumina, language: str):
    t = T8[language]
    async with owner.sessions.begin() as session:
        session.add(Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL"))
    [answer] = await owner.say(OWNER, "/book")  # one property: nothing to choose
    assert t["kind_q"] in answer["text"] and "Apto 101" in answer["text"]
    await owner.tap(OWNER, t["block"])
    assert t["first_blocked"] in owner.text(OWNER)
    start = today() + timedelta(days=15)
    [answer] = await owner.say(OWNER, typed(start))
    assert t["until"] in answer["text"]
    await owner.say(OWNER, typed(start + timedelta(days=3)))
    card = owner.text(OWNER)
    assert t["block_card"] in card and t["confirmed"] not in card


async def test_document_picker_names_the_guest(owner: Lumina, language: str):
    await seed_documents_property(owner, timezone="America/Sao_Paulo", currency="BRL", city="Rio de Janeiro")
    await owner.say(OWNER, "/document")
    assert any("Maria Souza" in text for text, _data in owner.buttons(owner.screen(OWNER)))


async def test_a_new_property_with_a_city_for_a_time_zone_and_an_empty_calendar(owner: Lumina, language: str):
    from tests.support.feed_server import FeedServer
    from tests.support.ical_builder import airbnb

    t = T8[language]
    await owner.say(OWNER, "/properties")
    await owner.tap(OWNER, t["add"])
    await owner.say(OWNER, "Apto 101")
    await owner.say(OWNER, "Rua Barata Ribeiro, 200")
    [answer] = await owner.say(OWNER, "Riu de Janero")
    assert t["near"] in answer["text"]
    await owner.say(OWNER, "Rio de Janeiro")
    await owner.say(OWNER, "15:00")
    await owner.say(OWNER, "11:00")
    await owner.say(OWNER, "4")
    await owner.say(OWNER, "BRL")
    await owner.say(OWNER, "Portaria")
    [answer] = await owner.say(OWNER, "portaria@predio.com")
    assert t["saved"] in answer["text"] and answer["text"].count(t["export"]) == 1
    async with owner.sessions() as session:
        prop = await session.scalar(select(Property))
        assert prop is not None and prop.timezone == "America/Sao_Paulo"
    await owner.tap(OWNER, t["edit"])
    await owner.tap(OWNER, t["tz"])
    await owner.say(OWNER, "Lisboa")
    async with owner.sessions() as session:
        prop = await session.scalar(select(Property))
        assert prop is not None and prop.timezone == "Europe/Lisbon"
    async with FeedServer() as server:
        server.route("/airbnb.ics", body=airbnb([]))
        await owner.say(OWNER, "/properties")
        await owner.tap(OWNER, "Apto 101")
        await owner.tap(OWNER, "🔗")
        await owner.tap(OWNER, "➕")
        await owner.say(OWNER, server.url("/airbnb.ics"))
    assert t["no_reservations"] in owner.text(OWNER)


# --- item 9: a link that cannot be read is not kept, and the answer does not promise to try again -----------------

T9 = {
    "pt-BR": {"nothing": "Nada foi adicionado", "retry": "vou tentar de novo", "retry2": "Vou tentar de novo"},
    "en": {"nothing": "Nothing was added", "retry": "I will try again", "retry2": "try again."},
}


async def test_an_unreachable_calendar_is_answered_one_way(owner: Lumina, language: str):
    import socket

    t = T9[language]
    with socket.socket() as sock:  # a loopback port nobody listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with owner.sessions.begin() as session:
        session.add(Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL"))
    await owner.say(OWNER, "/properties")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, "🔗")
    await owner.tap(OWNER, "➕")
    await owner.say(OWNER, f"http://127.0.0.1:{port}/airbnb.ics")
    text = owner.text(OWNER)
    assert t["nothing"] in text and t["retry"] not in text and t["retry2"] not in text
    async with owner.sessions() as session:
        assert (await session.scalars(select(Feed))).all() == []


# --- item 10: nothing offered that cannot work; a wrong file is told what is expected ----------------------------

T10 = {
    "pt-BR": {"documents": "📄 Documentos", "authorization": "Autorização de hospedagem", "pdf_off": "PDF estão",
              "install": "LibreOffice", "other_file": "Os únicos arquivos que aceito são modelos de documento"},
    "en": {"documents": "📄 Documents", "authorization": "Guest authorization", "pdf_off": "PDF documents are off",
           "install": "LibreOffice", "other_file": "The only files I take are document templates"},
}  # fmt: skip


async def test_without_libreoffice_no_pdf_button_and_settings_say_how(database_url, tmp_path, language: str):
    from tests.e2e.harness import running_lumina

    t = T10[language]
    async with running_lumina(database_url, tmp_path, soffice_path="") as lumina:
        await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
        await seed_documents_property(lumina, timezone="America/Sao_Paulo", currency="BRL", city="Rio de Janeiro")
        await lumina.say(OWNER, "/upcoming")
        await lumina.tap(OWNER, "Apto 101")
        await lumina.tap(OWNER, t["documents"])
        await lumina.tap(OWNER, t["authorization"])
        labels = [text for text, _data in lumina.buttons(lumina.screen(OWNER))]
        assert any("Word" in x for x in labels) and not any("PDF" in x for x in labels)
        [answer] = await lumina.say(OWNER, "/settings")
        assert t["pdf_off"] in answer["text"] and t["install"] in answer["text"]
        # a .txt where a template is expected: told what is expected, not "I did not understand"
        mark = lumina.api.mark()
        await lumina.handled(lumina.api.push_document(OWNER, "notes.txt", b"hello", language_code=language))
        [reply] = [r.params for r in lumina.api.calls("sendMessage", after=mark)]
        assert t["other_file"] in reply["text"] and "notes.txt" in reply["text"] and ".docx" in reply["text"]


# --- item 7: links the platforms cannot reach are said to be so ---------------------------------------------------

T7 = {
    "pt-BR": {"warn": "não conseguem acessar estes links", "fix": "LUMINA_PUBLIC_URL"},
    "en": {"warn": "cannot reach these links", "fix": "LUMINA_PUBLIC_URL"},
}


async def test_export_links_on_a_private_address_come_with_the_warning(database_url, tmp_path, language, caplog):
    t = T7[language]
    with caplog.at_level("WARNING", logger="lumina"):
        async with running_lumina_here(database_url, tmp_path / "a") as lumina:
            await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
            async with lumina.sessions.begin() as session:
                session.add(Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x"))
            [answer] = await lumina.say(OWNER, "/export")
            assert "http://127.0.0.1" in answer["text"] and t["warn"] in answer["text"] and t["fix"] in answer["text"]
    assert any("export links are not reachable" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="lumina"):
        async with running_lumina_here(database_url, tmp_path / "b", public_url="https://lumina.example.com") as lumina:
            await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
            [answer] = await lumina.say(OWNER, "/export")
            assert "https://lumina.example.com/ical/" in answer["text"] and t["warn"] not in answer["text"]
    assert not any("export links are not reachable" in r.getMessage() for r in caplog.records)


def running_lumina_here(database_url, data_dir, **settings):
    from tests.e2e.harness import running_lumina

    data_dir.mkdir(parents=True, exist_ok=True)
    return running_lumina(database_url, data_dir, **settings)
