"""Documents end to end: the real bot asks for what is missing, sends the .docx (and PDF), keeps it for "send again",
checks hosts' templates, and never hands a document to someone who may not have it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.keyboards.callbacks import DocCB, DocFileCB, DocSetupCB
from storage.models import Booking, Document, DocumentTemplate, Guest, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina, running_lumina
from tests.support.clock import e2e_today
from tests.support.documents import docx_text, field_xml, have_pdf_tools, make_template, patched_template, pdf_text

STRANGER, VIEWER, MANAGER = 6002, 7003, 8004
TZ = ZoneInfo("America/Sao_Paulo")
LOCALE = {"pt-BR": "pt_BR", "en": "en"}

T = {
    "pt-BR": {
        "documents": "📄 Documentos",
        "authorization": "Autorização de hospedagem",
        "receipt": "Recibo",
        "word": "🇧🇷 Português · Word",
        "pdf": "🇧🇷 Português · PDF",
        "file": "autorizacao",
        "title": "AUTORIZAÇÃO DE HOSPEDAGEM",
        "other": "Outros documentos",
        "unknown": "Estes campos não existem",
        "refused": "Recusei este modelo",
        "active": "Recusei este arquivo: ele contém um campo <code>INCLUDETEXT</code>",
        "saved": "Salvo: a partir de agora",
        "default": "Voltar ao modelo padrão",
        "yes": "✅ Sim",
        "templates": "Modelos e dados",
        "expired": "Este botão expirou.",
        "private": "Este bot é particular.",
        "no_pdf": "PDF não está disponível",
        "not_word": "Só consigo usar arquivos .docx",
    },
    "en": {
        "documents": "📄 Documents",
        "authorization": "Guest authorization",
        "receipt": "Receipt",
        "word": "🇬🇧 English · Word",
        "pdf": "🇬🇧 English · PDF",
        "file": "authorization",
        "title": "GUEST AUTHORIZATION",
        "other": "Other documents",
        "unknown": "These fields do not exist",
        "refused": "I refused this template",
        "active": "I refused this file: it contains a <code>INCLUDETEXT</code> field",
        "saved": "Saved: from now on",
        "default": "Back to the default",
        "yes": "✅ Yes",
        "templates": "Templates and details",
        "expired": "This button has expired.",
        "private": "This bot is private.",
        "no_pdf": "PDF is not available",
        "not_word": "I can only use Word .docx files",
    },
}


def arrival() -> date:
    return e2e_today() + timedelta(days=5)


async def seed(lumina: Lumina, **booking: object) -> dict[str, int]:
    """Apto 101 with the host's details set, and one direct reservation of Maria Souza for two, five days ahead."""
    async with lumina.sessions.begin() as session:
        prop = Property(
            name="Apto 101", address="Rua das Flores, 100 – Copacabana, Rio de Janeiro", timezone="America/Sao_Paulo",
            export_token="1-x", currency="BRL", building_contact_name="Portaria Central",
            private_info={"host_name": "Ana Lima", "host_document": "987.654.321-00", "city": "Rio de Janeiro"},
        )  # fmt: skip
        other = Property(name="Casa 7", timezone="America/Sao_Paulo", export_token="2-x", currency="BRL")
        session.add_all([prop, other])
        await session.flush()
        values: dict[str, object] = {"guest_name": "Maria Souza", "guests_count": 2, **booking}
        stay = Booking(property_id=prop.id, source="direct", kind="reservation", export_uid="e1@lumina",
                       check_in=arrival(), check_out=arrival() + timedelta(days=3), currency="BRL",
                       **values)  # fmt: skip
        session.add(stay)
        await session.flush()
        return {"property": prop.id, "other": other.id, "booking": stay.id}


async def need(lumina: Lumina) -> str | None:
    """What the document dialog is waiting for (the FSM data of the owner's chat)."""
    context = lumina.app.dispatcher.fsm.get_context(lumina.app.bot, chat_id=OWNER, user_id=OWNER)
    data = await context.get_data()
    return data.get("need", {}).get("key") if data else None


async def open_documents(lumina: Lumina, t: dict[str, str]) -> None:
    await lumina.say(OWNER, "/upcoming")
    await lumina.tap(OWNER, "Apto 101")
    await lumina.tap(OWNER, t["documents"])


async def test_authorization_asks_for_what_is_missing_then_arrives(owner: Lumina, language: str):
    t = T[language]
    ids = await seed(owner)
    await open_documents(owner, t)
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, t["word"])
    assert await need(owner) == "guest_document"
    assert "Maria Souza" in owner.text(OWNER)
    assert owner.api.documents(OWNER) == []  # never a half-empty document
    await owner.say(OWNER, "CPF 123.456.789-09")
    assert await need(owner) == "companion"
    answer = await owner.say(OWNER, "João Pereira")
    assert await need(owner) == "guest_document" and "João Pereira" in answer[-1]["text"]
    await owner.say(OWNER, "RG 12.345.678-9")
    assert await need(owner) == "vehicle_plate"
    await owner.say(OWNER, "abc1d23")
    assert await need(owner) is None

    [sent] = owner.api.documents(OWNER)
    assert sent.filename == f"{t['file']}-{arrival().isoformat()}-apto-101.docx"
    text = docx_text(sent.content)
    for value in (
        t["title"],
        "Maria Souza",
        "CPF 123.456.789-09",
        "João Pereira",
        "RG 12.345.678-9",
        "ABC1D23",
        "Rua das Flores, 100",
        "Ana Lima",
        "987.654.321-00",
        "Portaria Central",
        "Rio de Janeiro",
    ):
        assert value in text, value  # fmt: skip
    async with owner.sessions() as session:
        document = await session.scalar(select(Document))
        assert document is not None and document.booking_id == ids["booking"]
        assert (document.kind, document.template_version, document.file_name) == (
            "authorization", "default-1", sent.filename)  # fmt: skip
        assert document.sha256 == hashlib.sha256(sent.content).hexdigest()
        guests = (await session.scalars(select(Guest).order_by(Guest.id))).all()
        assert [(g.full_name, g.document_type, g.document_number) for g in guests] == [
            ("Maria Souza", "CPF", "123.456.789-09"), ("João Pereira", "RG", "12.345.678-9")]  # fmt: skip
        booking = await session.get(Booking, ids["booking"])
        assert booking is not None and booking.vehicle_plate == "ABC1D23"

    # "send again" re-sends the very same bytes, and nothing more is asked
    await owner.tap(OWNER, t["other"])
    await owner.tap(OWNER, "🔁")
    again = owner.api.documents(OWNER)[-1]
    assert (again.filename, again.content) == (sent.filename, sent.content)
    # a second authorization asks nothing: everything is known now
    await owner.tap(OWNER, t["other"])
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, t["word"])
    assert len(owner.api.documents(OWNER)) == 3


@pytest.mark.parametrize("language", ["en"])
async def test_receipt_asks_the_price_and_writes_it_in_words(owner: Lumina):
    t = T["en"]
    await seed(owner, vehicle_plate="")
    await open_documents(owner, t)
    await owner.tap(OWNER, t["receipt"])
    await owner.tap(OWNER, t["word"])
    assert await need(owner) == "price"
    answer = await owner.say(OWNER, "a lot")
    assert "I could not read that amount" in answer[0]["text"]
    await owner.say(OWNER, "1.234,56")
    [sent] = owner.api.documents(OWNER)
    assert sent.filename == f"receipt-{arrival().isoformat()}-apto-101.docx"
    text = docx_text(sent.content)
    assert "R$1,234.56" in text
    assert "one thousand, two hundred and thirty-four reais and fifty-six centavos" in text


@pytest.mark.parametrize("language", ["pt-BR"])
async def test_checkin_instructions_ask_the_secrets_once_and_skip_what_there_is_none(owner: Lumina):
    t = T["pt-BR"]
    await seed(owner)
    await open_documents(owner, t)
    await owner.tap(OWNER, "Instruções de check-in")
    await owner.tap(OWNER, t["word"])
    asked = []
    for answer in ("Retire a chave na portaria.", "4321", None, "Sem festas.\nSilêncio após 22h."):
        asked.append(await need(owner))
        if answer is None:
            await owner.tap(OWNER, "Pular")  # no Wi-Fi: its password is not asked
        else:
            await owner.say(OWNER, answer)
    assert asked == ["info"] * 4
    [sent] = owner.api.documents(OWNER)
    text = docx_text(sent.content)
    assert "4321" in text and "Retire a chave na portaria." in text and "Silêncio após 22h." in text
    assert "Wi-Fi" not in text
    async with owner.sessions() as session:
        prop = await session.scalar(select(Property).where(Property.name == "Apto 101"))
        assert prop is not None and prop.private_info is not None
        assert (prop.private_info["wifi_name"], prop.private_info["wifi_password"]) == ("", "")
    # the secrets stay out of the authorization
    await owner.tap(OWNER, "Outros documentos")
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, t["word"])
    while await need(owner) is not None:
        await owner.say(OWNER, {"guest_document": "CPF 123.456.789-09", "companion": "Zé", "vehicle_plate": "AAA0000"}[
            await need(owner) or ""])  # fmt: skip
    assert "4321" not in docx_text(owner.api.documents(OWNER)[-1].content)


async def test_uploaded_template_with_an_unknown_field_gets_the_list_of_fields(owner: Lumina, language: str):
    t = T[language]
    await seed(owner)
    template = make_template("Hóspede: {{ guest_name }}", "CPF: {{ hospede_cpf }}")
    await owner.handled(owner.api.push_document(OWNER, "meu-modelo.docx", template, language_code=language))
    await owner.tap(OWNER, "Apto 101")  # two properties: which one?
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, "Português")
    answer = owner.text(OWNER)
    assert t["unknown"] in answer and "hospede_cpf" in answer
    assert "{{ property_name }}" in answer and "{{ check_in }}" in answer  # the fields it could use
    async with owner.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DocumentTemplate)) == 0


@pytest.mark.parametrize(
    "jinja",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ guest_name.__class__ }}",
        "{% include 'secret.xml' %}",
        "{% for x in guests %}{{ x|attr('__dict__') }}{% endfor %}",
        "{{ guest_name.upper() }}",
    ],
)
@pytest.mark.parametrize("language", ["en"])
async def test_a_template_reaching_outside_its_data_is_refused(owner: Lumina, jinja: str):
    await seed(owner)
    await owner.handled(owner.api.push_document(OWNER, "evil.docx", make_template("Olá {{ guest_name }}", jinja)))
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, "Receipt")
    await owner.tap(OWNER, "English")
    assert T["en"]["refused"] in owner.text(OWNER)
    async with owner.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DocumentTemplate)) == 0


async def test_own_template_is_used_then_reverted_to_the_default(owner: Lumina, language: str):
    t = T[language]
    ids = await seed(owner)
    locale = LOCALE[language]
    template = make_template("MEU RECIBO para {{ payer_name|upper }}: {{ amount }} ({{ amount_words }})",
                             "{% for g in guests %}{{ loop.index }}. {{ g.name }}{% endfor %}")  # fmt: skip
    await owner.handled(owner.api.push_document(OWNER, "recibo.docx", template))
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, t["receipt"])
    await owner.tap(OWNER, t["word"].split(" · ")[0])
    assert t["saved"] in owner.api.sent_messages(OWNER)[-2]["text"]
    sample = owner.api.documents(OWNER)[-1]
    assert sample.filename.startswith("sample-") and "MARIA SILVA" in docx_text(sample.content)  # the sample booking

    async with owner.sessions.begin() as session:
        booking = await session.get(Booking, ids["booking"])
        assert booking is not None
        booking.price, booking.guests_count = Decimal(900), 1
        session.add(Guest(booking_id=booking.id, full_name="Maria Souza", document_number="123"))
    await open_documents(owner, t)
    await owner.tap(OWNER, t["receipt"])
    await owner.tap(OWNER, t["word"])
    mine = owner.api.documents(OWNER)[-1]
    assert "MEU RECIBO para MARIA SOUZA" in docx_text(mine.content) and "1. Maria Souza" in docx_text(mine.content)

    # the templates screen: download the current one, then back to the default
    await owner.tap(OWNER, t["other"])
    await owner.tap(OWNER, t["templates"])
    await owner.tap(OWNER, f"{t['receipt']} ({'PT' if locale == 'pt_BR' else 'EN'})")
    await owner.tap(OWNER, "⬇️")
    assert owner.api.documents(OWNER)[-1].content == template
    await owner.tap(OWNER, t["default"])
    await owner.tap(OWNER, t["yes"])
    await open_documents(owner, t)
    await owner.tap(OWNER, t["receipt"])
    await owner.tap(OWNER, t["word"])
    default = docx_text(owner.api.documents(OWNER)[-1].content)
    assert "MEU RECIBO" not in default and "Maria Souza" in default
    async with owner.sessions() as session:
        versions = (await session.scalars(select(Document.template_version).order_by(Document.id))).all()
        assert versions == ["1", "default-1"]
        [stored] = (await session.scalars(select(DocumentTemplate))).all()
        assert (stored.kind, stored.locale, stored.version, stored.active) == ("receipt", locale, 1, False)


async def test_a_file_with_a_field_that_reads_files_is_refused_on_arrival(owner: Lumina, language: str):
    await seed(owner)
    evil = patched_template({"word/document.xml": (b"<w:r><w:t>MARK</w:t></w:r>",
                                                   field_xml('INCLUDETEXT "/etc/passwd"'))})  # fmt: skip
    await owner.handled(owner.api.push_document(OWNER, "modelo.docx", evil, language_code=language))
    assert T[language]["active"] in owner.text(OWNER)
    assert not owner.buttons(owner.screen(OWNER))  # no "which document?" question: the file is not kept


@pytest.mark.parametrize("language", ["en"])
async def test_other_files_are_not_templates(owner: Lumina):
    await seed(owner)
    answer_id = owner.api.push_document(OWNER, "contrato.doc", b"\xd0\xcf\x11\xe0 old word file")
    await owner.handled(answer_id)
    assert T["en"]["not_word"] in owner.text(OWNER)
    await owner.handled(owner.api.push_document(OWNER, "fake.docx", b"PK\x03\x04 not really a zip"))
    assert "not a Word .docx file" in owner.text(OWNER)
    await owner.handled(owner.api.push_document(OWNER, "big.docx", b"x" * (2 * 1024 * 1024 + 1)))
    assert "larger than 2 MB" in owner.text(OWNER)


@pytest.mark.parametrize("language", ["en"])
async def test_strangers_viewers_and_other_managers_get_no_document(owner: Lumina):
    t = T["en"]
    ids = await seed(owner, vehicle_plate="", guests_count=1)
    async with owner.sessions.begin() as session:
        session.add(Guest(booking_id=ids["booking"], position=0, full_name="Maria Souza", document_type="CPF",
                          document_number="123.456.789-09"))  # fmt: skip
    await open_documents(owner, t)
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, t["word"])
    assert len(owner.api.documents(OWNER)) == 1
    async with owner.sessions() as session:
        document_id = await session.scalar(select(Document.id))
    card = owner.screen(OWNER)
    make = DocCB(id=ids["booking"], action="make", kind="authorization", lang="en", fmt="docx").pack()
    get = DocSetupCB(id=ids["property"], action="get", key="checkin", lang="en").pack()
    revert = DocSetupCB(id=ids["property"], action="revert_yes", key="receipt", lang="en").pack()
    secret = DocSetupCB(id=ids["property"], action="info", key="door_code").pack()

    # a stranger pressing buttons in the owner's chat
    for data in (DocFileCB(id=document_id).pack(), make, get):
        calls = await owner.press(STRANGER, data, message_id=card["message_id"], chat_id=OWNER, language_code="en")
        assert calls["answerCallbackQuery"][0]["text"] == t["private"]
        assert "sendDocument" not in calls

    # a viewer of the property, and a manager of another one
    await owner.add_member(VIEWER, ids["property"], "viewer")
    await owner.add_member(MANAGER, ids["other"], "manager")
    for user in (VIEWER, MANAGER):
        await owner.say(user, "/menu", language_code="en")
        message_id = owner.screen(user)["message_id"]
        for data in (DocFileCB(id=document_id).pack(), make, DocCB(id=ids["booking"]).pack(), get, revert, secret):
            calls = await owner.press(user, data, message_id=message_id)
            assert calls["answerCallbackQuery"][0]["text"] == t["expired"], (user, data)
            assert "sendDocument" not in calls
    await owner.say(VIEWER, "/upcoming", language_code="en")
    await owner.tap(VIEWER, "Apto 101")
    assert not any("Documents" in text for text, _data in owner.buttons(owner.screen(VIEWER)))
    answer = await owner.say(MANAGER, "/document", language_code="en")
    assert "Apto 101" not in str(answer)
    assert len(owner.api.documents()) == 1


@pytest.fixture
async def no_pdf(database_url, tmp_path) -> AsyncIterator[Lumina]:
    async with running_lumina(database_url, tmp_path, soffice_path="") as running:
        await running.say(OWNER, f"/start {running.app.setup_code}", language_code="en")
        yield running


async def test_without_libreoffice_pdf_is_not_available(no_pdf: Lumina):
    t = T["en"]
    await seed(no_pdf, vehicle_plate="", guests_count=1)
    await open_documents(no_pdf, t)
    await no_pdf.tap(OWNER, "Check-in")
    screen = no_pdf.screen(OWNER)
    assert not any("PDF" in text for text, _data in no_pdf.buttons(screen))  # not offered (issue 14 item 10)
    booking_id = int(no_pdf.buttons(screen)[0][1].split(":")[1])
    calls = await no_pdf.press(OWNER, f"dc:{booking_id}:make:checkin:en:pdf", message_id=screen["message_id"])
    assert t["no_pdf"] in calls["answerCallbackQuery"][0]["text"]  # an old button still says why
    assert no_pdf.api.documents(OWNER) == []


@pytest.mark.skipif(not have_pdf_tools(), reason="LibreOffice (soffice) and pdftotext are not installed")
@pytest.mark.parametrize("language", ["pt-BR"])
async def test_pdf_when_libreoffice_is_installed(owner: Lumina):
    t = T["pt-BR"]
    ids = await seed(owner, vehicle_plate="KZX9A88", guests_count=1)
    async with owner.sessions.begin() as session:
        session.add(Guest(booking_id=ids["booking"], position=0, full_name="Maria Souza", document_type="CPF",
                          document_number="123.456.789-09"))  # fmt: skip
    await open_documents(owner, t)
    await owner.tap(OWNER, t["authorization"])
    await owner.tap(OWNER, t["pdf"])
    [sent] = owner.api.documents(OWNER)
    assert sent.filename == f"autorizacao-{arrival().isoformat()}-apto-101.pdf" and sent.content.startswith(b"%PDF-")
    text = pdf_text(sent.content)
    for value in ("AUTORIZAÇÃO DE HOSPEDAGEM", "Maria Souza", "123.456.789-09", "KZX9A88", "Ana Lima"):
        assert value in text, value
    async with owner.sessions() as session:
        document = await session.scalar(select(Document))
        assert document is not None and document.content == sent.content and document.file_name == sent.filename


@pytest.mark.parametrize("language", ["en"])
async def test_the_document_command_and_the_propertys_details(owner: Lumina):
    ids = await seed(owner)
    answer = await owner.say(OWNER, "/document")
    assert "Which booking is the document for?" in answer[0]["text"]
    await owner.tap(OWNER, "Templates and details")
    await owner.tap(OWNER, "Apto 101")  # two properties: which one?
    screen = owner.text(OWNER)
    assert "Ana Lima" in screen and "Door code: not set" in screen
    await owner.tap(OWNER, "Door code")
    await owner.say(OWNER, "  12 34#  ")
    screen = owner.text(OWNER)
    assert "Door code: set (hidden)" in screen and "12 34#" not in screen
    await owner.tap(OWNER, "Wi-Fi network")
    await owner.tap(OWNER, "Skip")
    assert "Wi-Fi network: none" in owner.text(OWNER)
    async with owner.sessions() as session:
        prop = await session.get(Property, ids["property"])
        assert prop is not None and prop.private_info is not None
        assert (prop.private_info["door_code"], prop.private_info["wifi_name"]) == ("12 34#", "")
    assert not any("12 34#" in str(m.get("text")) for m in owner.api.sent_messages(OWNER))  # never echoed
    await owner.say(OWNER, "/document")
    await owner.tap(OWNER, "Apto 101 · ")
    assert "Which document do you want?" in owner.text(OWNER)
