"""The building's e-mail end to end: the real bot, the fake Bot API and a real SMTP server on loopback (STARTTLS
with a certificate the test makes). "✉️ Send to the building" from the booking card, the chat's confirmation, the
revision question after a date change, and the property's mail settings, in both languages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.keyboards.callbacks import BookingCB, MailCB
from storage.models import Booking, Guest, ListingMap, MailOutbox, MailSettings, Property
from tests.e2e.conftest import OWNER
from tests.e2e.delivery_harness import until
from tests.e2e.harness import Lumina, running_lumina
from tests.support.clock import e2e_today
from tests.support.smtp_server import SmtpServer, smtp_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TZ = ZoneInfo("America/Sao_Paulo")
T = {
    "pt-BR": {
        "send": "Enviar ao prédio", "queued": "Enviando a autorização de hospedagem para portaria@predio.test",
        "sent": "Enviado ao prédio: autorização de hospedagem", "to": "Para portaria@predio.test às",
        "subject": "Autorização de hospedagem: Apto 101", "revised_q": "Esta hospedagem mudou (datas)",
        "revise": "Enviar a autorização revisada", "revised_subject": "Autorização de hospedagem REVISADA",
        "replaces": "Esta autorização SUBSTITUI a enviada em",
        "sent_rev": "Enviado ao prédio: autorização de hospedagem revisada",
        "mail_settings": "E-mail para o prédio", "addresses": "Endereços", "automatic": "Automático",
        "saved": "Salvo.", "no_addr": "ainda não tem e-mail do prédio", "bad": "não parece um endereço de e-mail",
        "missing": "a autorização precisa de alguns dados",
    },
    "en": {
        "send": "Send to the building", "queued": "Sending the guest authorization to portaria@predio.test",
        "sent": "Sent to the building: guest authorization", "to": "To portaria@predio.test at",
        "subject": "Guest authorization: Apto 101", "revised_q": "This stay changed (dates)",
        "revise": "Send the revised authorization", "revised_subject": "REVISED guest authorization",
        "replaces": "This authorization REPLACES the one sent on",
        "sent_rev": "Sent to the building: revised guest authorization",
        "mail_settings": "E-mail to the building", "addresses": "Addresses", "automatic": "Automatic",
        "saved": "Saved.", "no_addr": "has no building e-mail yet", "bad": "e-mail",
        "missing": "the authorization needs a few details",
    },
}  # fmt: skip
LOCALE = {"pt-BR": "pt_BR", "en": "en"}


@pytest.fixture
async def mailed(database_url: str, tmp_path: Path, language: str) -> AsyncIterator[tuple[Lumina, SmtpServer]]:
    with smtp_server(tmp_path, "starttls") as server:
        async with running_lumina(database_url, tmp_path, soffice_path="", **server.settings()) as lumina:
            await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
            yield lumina, server


def arrival() -> date:
    return e2e_today() + timedelta(days=5)


async def seed(lumina: Lumina, language: str, *, addresses: bool = True, guests_count: int | None = 2) -> int:
    async with lumina.sessions.begin() as session:
        info = {"host_name": "Ana Lima", "host_document": "", "city": "Rio"}
        prop = Property(name="Apto 101", address="Rua das Flores, 100", timezone="America/Sao_Paulo",
                        export_token="1-x", currency="BRL", private_info=info)  # fmt: skip
        session.add(prop)
        await session.flush()
        stay = Booking(property_id=prop.id, source="direct", kind="reservation", export_uid="e1@lumina",
                       check_in=arrival(), check_out=arrival() + timedelta(days=3), guest_name="Maria Souza",
                       guests_count=guests_count, vehicle_plate="ABC1D23")  # fmt: skip
        session.add(stay)
        await session.flush()
        session.add(Guest(booking_id=stay.id, position=0, full_name="Maria Souza", document_type="CPF",
                          document_number="123.456.789-09"))  # fmt: skip
        session.add(Guest(booking_id=stay.id, position=1, full_name="João Pereira", document_type="RG",
                          document_number="12.345.678-9"))  # fmt: skip
        if addresses:
            session.add(MailSettings(property_id=prop.id, addresses=["portaria@predio.test"], mode="ask",
                                     locale=LOCALE[language]))  # fmt: skip
        return stay.id


async def open_card(lumina: Lumina, booking_id: int) -> None:
    message = lumina.api.last_message(OWNER)
    await lumina.press(OWNER, BookingCB(id=booking_id).pack(), message_id=message["message_id"])


async def wait_text(lumina: Lumina, fragment: str) -> dict:
    await until(lambda: any(fragment in str(m.get("text", "")) for m in lumina.api.sent_messages(OWNER)))
    return next(m for m in reversed(lumina.api.sent_messages(OWNER)) if fragment in str(m.get("text", "")))


async def test_send_to_the_building_from_the_card_and_the_confirmation(mailed, language: str):
    lumina, server = mailed
    t = T[language]
    booking_id = await seed(lumina, language)
    await open_card(lumina, booking_id)
    await lumina.tap(OWNER, t["send"])
    assert t["queued"] in lumina.text(OWNER)
    await until(lambda: len(server.handler.received) == 1)
    confirmation = await wait_text(lumina, t["sent"])
    assert t["to"] in confirmation["text"] and f"{arrival().isoformat()}-apto-101.docx" in confirmation["text"]
    message = server.handler.received[0].message
    assert message["Subject"].startswith(t["subject"]) and message["To"] == "portaria@predio.test"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename().endswith(f"{arrival().isoformat()}-apto-101.docx")
    body = message.get_body(("plain",)).get_content()
    assert "Maria Souza, João Pereira" in body and "ABC1D23" in body

    # A second press of the same button is the same request: never sent twice
    await lumina.tap(OWNER, t["send"])
    await asyncio.sleep(0.3)
    assert len(server.handler.received) == 1


async def test_a_date_change_asks_for_a_revision_which_then_goes_out(mailed, language: str):
    lumina, server = mailed
    t = T[language]
    booking_id = await seed(lumina, language)
    await open_card(lumina, booking_id)
    await lumina.tap(OWNER, t["send"])
    await until(lambda: len(server.handler.received) == 1)
    await wait_text(lumina, t["sent"])

    async with lumina.sessions.begin() as session:  # the platform moved the stay by a day
        stay = await session.get(Booking, booking_id)
        assert stay is not None
        stay.check_out = stay.check_out + timedelta(days=1)
    assert await lumina.app.mail.watch() == 1
    assert await lumina.app.mail.watch() == 0  # asked once per state of the stay
    question = await wait_text(lumina, t["revised_q"])
    assert "portaria@predio.test" in question["text"]
    await lumina.tap(OWNER, t["revise"])
    await until(lambda: len(server.handler.received) == 2)
    revised = server.handler.received[1].message
    assert revised["Subject"].startswith(t["revised_subject"])
    assert t["replaces"] in revised.get_body(("plain",)).get_content()
    await wait_text(lumina, t["sent_rev"])
    async with lumina.sessions() as session:
        kinds = [(r.kind, r.status) for r in (await session.scalars(select(MailOutbox).order_by(MailOutbox.id))).all()]
    assert kinds == [("authorization", "sent"), ("revision", "sent")]


async def test_mail_settings_addresses_and_mode(mailed, language: str):
    lumina, server = mailed
    t = T[language]
    booking_id = await seed(lumina, language, addresses=False)
    await open_card(lumina, booking_id)
    await lumina.tap(OWNER, t["send"])
    assert t["no_addr"] in lumina.text(OWNER)
    await lumina.tap(OWNER, t["addresses"])
    answer = await lumina.say(OWNER, "portaria@predio.test, not-an-address")
    assert t["bad"] in answer[-1]["text"]
    await lumina.say(OWNER, "portaria@predio.test; adm@predio.test")
    screen = lumina.text(OWNER)
    assert "portaria@predio.test, adm@predio.test" in screen
    await lumina.tap(OWNER, t["automatic"])
    async with lumina.sessions() as session:
        settings = await session.scalar(select(MailSettings))
        assert settings is not None and settings.mode == "auto"
        assert settings.addresses == ["portaria@predio.test", "adm@predio.test"]
    # An "automatic" property sends the authorization of an arrival within three days by itself
    async with lumina.sessions.begin() as session:
        stay = await session.get(Booking, booking_id)
        assert stay is not None
        stay.check_in, stay.check_out = arrival() - timedelta(days=3), arrival()
    await lumina.app.mail.watch()
    await until(lambda: len(server.handler.received) == 1)
    assert server.handler.received[0].recipients == ["portaria@predio.test", "adm@predio.test"]


async def test_missing_details_are_asked_first(mailed, language: str):
    lumina, server = mailed
    t = T[language]
    booking_id = await seed(lumina, language, guests_count=None)
    await open_card(lumina, booking_id)
    await lumina.tap(OWNER, t["send"])
    assert t["missing"] in lumina.text(OWNER)
    context = lumina.app.dispatcher.fsm.get_context(lumina.app.bot, chat_id=OWNER, user_id=OWNER)
    assert (await context.get_data())["need"]["key"] == "guests_count"
    await lumina.say(OWNER, "2")
    [document] = lumina.api.documents(OWNER)  # made in the chat first, with the mail button under it
    await lumina.press(OWNER, MailCB(id=booking_id).pack(), message_id=document.message_id)
    await until(lambda: len(server.handler.received) == 1)


PLATFORM_T = {
    "pt-BR": {"filled": "Preenchido a partir do e-mail do Airbnb: Maria Silva, 2 hóspedes, R$\xa01.240,00",
              "unmatched": "Um e-mail do Booking.com não corresponde a nenhuma hospedagem", "attach": "Anexar",
              "attached": "Anexado: 4 dados preenchidos", "guest": "Hóspede: Maria Silva"},
    "en": {"filled": "Filled from the Airbnb e-mail: Maria Silva, 2 guests, R$1,240.00",
           "unmatched": "A Booking.com e-mail matches no stay", "attach": "Attach to a stay",
           "attached": "Attached: 4 details filled in", "guest": "Guest: Maria Silva"},
}  # fmt: skip


async def test_a_platform_mail_fills_a_stay_and_an_unmatched_one_is_attached(database_url, tmp_path, language):
    from tests.support.dovecot import append, dovecot
    from tests.support.platform_mails import airbnb_mail, booking_mail

    t = PLATFORM_T[language]
    with dovecot(tmp_path) as imap:
        async with running_lumina(database_url, tmp_path, imap_poll=5, **imap.settings()) as lumina:
            await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
            async with lumina.sessions.begin() as session:
                prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
                session.add(prop)
                await session.flush()
                stays = [Booking(property_id=prop.id, source=source, kind="reservation", uid=source,
                                 export_uid=f"{source}@l", check_in=date(2027, 8, 12), check_out=end,
                                 reservation_code=code)
                         for source, end, code in (("airbnb", date(2027, 8, 15), "HMQX7Z2K4B"),
                                                   ("booking", date(2027, 8, 16), None))]  # fmt: skip
                session.add_all(stays)
                await session.flush()
                ids = [s.id for s in stays]
            await append(imap, airbnb_mail("confirmed", "pt"), booking_mail("confirmed", "en", listing="4242"))
            filled = await wait_text(lumina, t["filled"])
            assert filled["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == BookingCB(id=ids[0]).pack()
            await open_card(lumina, ids[0])
            assert t["guest"] in lumina.text(OWNER)

            await wait_text(lumina, t["unmatched"])
            await lumina.tap(OWNER, t["attach"])
            await lumina.tap(OWNER, "Apto 101 · 12/08 · Booking.com")
            assert t["attached"] in lumina.text(OWNER)
            async with lumina.sessions() as session:
                stay = await session.get(Booking, ids[1])
                assert stay is not None and stay.guest_name == "João Pereira" and stay.guests_count == 3
                mapped = await session.scalar(select(func.count()).select_from(ListingMap))
                assert mapped == 1
