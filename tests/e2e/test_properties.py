"""Properties and their calendar links, through the chat, in Portuguese and English."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from storage.models import Booking, Feed, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

T = {
    "pt-BR": {
        "name_q": "Qual é o nome do imóvel?",
        "too_long": "Está longo demais: 5000 caracteres, no máximo 120.",
        "time_bad": "Não entendi esse horário",
        "saved": "Imóvel salvo.",
        "email_bad": "não parece um endereço",
        "skip": "Pular",
        "add": "Adicionar imóvel",
        "html": "página da web",
        "nothing": "Nada foi adicionado",
        "reservations": "2 reservas · 1 período bloqueado · próximo check-in",
        "edit": "Editar",
        "archive": "Arquivar",
        "yes": "Sim",
        "archived": "Arquivado",
        "cancelled": "Cancelado. Nada foi alterado.",
    },
    "en": {
        "name_q": "What is the property called?",
        "too_long": "That is too long: 5000 characters, at most 120.",
        "time_bad": "I could not read that time",
        "saved": "Property saved.",
        "email_bad": "does not look like",
        "skip": "Skip",
        "add": "Add a property",
        "html": "web page",
        "nothing": "Nothing was added",
        "reservations": "2 reservations · 1 blocked period · next check-in",
        "edit": "Edit",
        "archive": "Archive",
        "yes": "Yes",
        "archived": "Archived",
        "cancelled": "Cancelled. Nothing was changed.",
    },
}


async def properties(lumina: Lumina) -> list[Property]:
    async with lumina.sessions() as session:
        return list((await session.scalars(select(Property).order_by(Property.id))).all())


async def test_add_a_property_with_wrong_inputs_on_the_way(owner: Lumina, language: str):
    t = T[language]
    await owner.say(OWNER, "/properties")
    await owner.tap(OWNER, t["add"])
    assert t["name_q"] in owner.text(OWNER)
    answer = await owner.say(OWNER, "x" * 5000)
    assert t["too_long"] in answer[0]["text"]
    await owner.say(OWNER, "Apto 101 <Copacabana>")
    await owner.say(OWNER, "Rua Barata Ribeiro, 200 — Rio de Janeiro")
    await owner.tap(OWNER, "America/Sao_Paulo")
    answer = await owner.say(OWNER, "25:00")
    assert t["time_bad"] in answer[0]["text"]
    await owner.say(OWNER, "14h")
    await owner.tap(OWNER, "11:00")
    await owner.say(OWNER, "4")
    await owner.tap(OWNER, "BRL")
    await owner.tap(OWNER, t["skip"])  # building contact
    answer = await owner.say(OWNER, "not an email")
    assert t["email_bad"] in answer[0]["text"]
    answer = await owner.say(OWNER, "portaria@condominio.com.br")
    assert t["saved"] in answer[0]["text"]
    assert "Apto 101 &lt;Copacabana&gt;" in answer[0]["text"]  # escaped, never HTML
    [prop] = await properties(owner)
    assert (
        prop.name,
        prop.timezone,
        prop.checkin_time,
        prop.checkout_time,
        prop.capacity,
        prop.currency,
        prop.building_contact_name,
        prop.building_email,
    ) == (
        "Apto 101 <Copacabana>",
        "America/Sao_Paulo",
        time(14),
        time(11),
        4,
        "BRL",
        None,
        "portaria@condominio.com.br",
    )
    assert prop.export_token.startswith(f"{prop.id}-") and len(prop.export_token) > 30


async def test_back_and_cancel_in_the_dialog(owner: Lumina, language: str):
    t = T[language]
    await owner.say(OWNER, "/properties")
    await owner.tap(OWNER, t["add"])
    await owner.say(OWNER, "Casa da Praia")
    await owner.tap(OWNER, "⬅️")  # back to the name
    assert t["name_q"] in owner.text(OWNER)
    await owner.say(OWNER, "Casa da Praia 2")
    answer = await owner.say(OWNER, "/cancel")
    assert answer[0]["text"] == t["cancelled"]
    assert await properties(owner) == []
    assert await owner.say(OWNER, "14h")  # outside any dialog: a hint, not a crash


async def _make_property(lumina: Lumina) -> int:
    async with lumina.sessions.begin() as session:
        prop = Property(name="Loft Centro", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
        session.add(prop)
        await session.flush()
        return prop.id


async def test_edit_a_field_and_archive(owner: Lumina, language: str):
    t = T[language]
    property_id = await _make_property(owner)
    await owner.say(OWNER, "/properties")
    await owner.tap(OWNER, "Loft Centro")
    await owner.tap(OWNER, t["edit"])
    await owner.tap(OWNER, "mail")
    await owner.say(OWNER, "adm@predio.com")
    async with owner.sessions() as session:
        prop = await session.get(Property, property_id)
        assert prop is not None and prop.building_email == "adm@predio.com"
    await owner.tap(OWNER, t["archive"])
    await owner.tap(OWNER, t["yes"])
    assert t["archived"] in owner.text(OWNER)
    async with owner.sessions() as session:
        prop = await session.get(Property, property_id)
        assert prop is not None and prop.archived_at is not None
    await owner.say(OWNER, "/properties")
    assert "Loft Centro" not in str(owner.screen(OWNER))


async def test_add_a_feed_reads_it_at_once(owner: Lumina, language: str):
    t = T[language]
    property_id = await _make_property(owner)
    today = e2e_today()
    stays = [
        Stay("r1@airbnb.com", today + timedelta(days=150), today + timedelta(days=153)),
        Stay("r2@airbnb.com", today + timedelta(days=170), today + timedelta(days=172)),
        Stay("b1@airbnb.com", today + timedelta(days=200), today + timedelta(days=204), blocked=True),
    ]
    async with FeedServer() as server:
        server.route("/airbnb.ics", body=airbnb(stays))
        server.html_page("/login.ics")
        await owner.say(OWNER, "/properties")
        await owner.tap(OWNER, "Loft Centro")
        await owner.tap(OWNER, "🔗")
        await owner.tap(OWNER, "➕")
        await owner.say(OWNER, server.url("/login.ics"))
        assert t["html"] in owner.text(OWNER) and t["nothing"] in owner.text(OWNER)
        answer = await owner.say(OWNER, "ftp://nope")  # still in the dialog: the next link is tried
        assert "http(s)" in answer[0]["text"]
        await owner.say(OWNER, server.url("/airbnb.ics"))
    text = owner.text(OWNER)
    assert "Airbnb · " + t["reservations"] in text
    async with owner.sessions() as session:
        feeds = (await session.scalars(select(Feed))).all()
        assert [(f.property_id, f.platform) for f in feeds] == [(property_id, "airbnb")]
        assert len((await session.scalars(select(Booking))).all()) == 3
