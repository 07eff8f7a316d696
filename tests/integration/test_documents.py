"""The documents service on SQLite and PostgreSQL: asking until nothing is missing, recording what was made, the
hosts' templates with their versions, the private details, and who may fetch a stored document."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.documents import service
from domain.documents.answers import parse_answer
from domain.documents.defaults import DEFAULT_VERSION, templates_dir
from storage.models import AuditLog, Booking, Document, DocumentTemplate, Guest, Property, PropertyAccess, User
from tests.support.documents import docx_text, make_template

NOW = datetime(2027, 8, 10, 15, 0, tzinfo=UTC)
TEMPLATES = templates_dir()


async def seed(session: AsyncSession) -> tuple[User, Property, Booking]:
    owner = User(telegram_id=1, first_name="Ana", role="owner")
    prop = Property(name="Apto 101", address="", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
    session.add_all([owner, prop])
    await session.flush()
    booking = Booking(property_id=prop.id, source="airbnb", kind="reservation", export_uid="x@lumina", uid="u1",
                      check_in=date(2027, 8, 12), check_out=date(2027, 8, 15),
                      feed_guest_name="Maria Souza")  # fmt: skip
    session.add(booking)
    await session.flush()
    return owner, prop, booking


ANSWERS = {
    "guests_count": "2",
    "guest_document": "CPF 123.456.789-09",
    "companion": "João Pereira",
    "vehicle_plate": "",
    "address": "Rua das Flores, 100",
    "host_name": "Ana Lima",
    "host_document": "",
    "city": "Rio de Janeiro",
}


async def test_a_document_is_made_only_once_nothing_is_missing(sessions: async_sessionmaker[AsyncSession]):
    async with sessions.begin() as session:
        owner, prop, booking = await seed(session)
        asked = []
        for _ in range(20):
            outcome = await service.prepare(session, booking, prop, "authorization", "pt_BR", directory=TEMPLATES,
                                            now=NOW)  # fmt: skip
            if isinstance(outcome, service.Rendered):
                break
            need = outcome.need
            asked.append(need.info or need.key)
            text = ANSWERS[need.info or need.key]
            value = parse_answer(need, text) if text else ""
            await service.apply_answer(session, booking, prop, need, value, user=owner, now=NOW)
        assert isinstance(outcome, service.Rendered)
        assert asked == ["guests_count", "guest_document", "companion", "guest_document", "vehicle_plate", "address",
                         "host_name", "host_document", "city"]  # fmt: skip
        assert outcome.file_name == "autorizacao-2027-08-12-apto-101.docx"
        assert outcome.template.version == DEFAULT_VERSION and outcome.template.template_id is None
        text = docx_text(outcome.docx)
        for value in (
            "Maria Souza",
            "João Pereira",
            "CPF 123.456.789-09",
            "Rua das Flores, 100",
            "Ana Lima",
            "Os hóspedes não virão de carro.",
            "Rio de Janeiro, 10 de agosto de 2027.",
        ):
            assert value in text, value  # fmt: skip
        document = await service.record(session, booking, outcome, content=outcome.docx, name=outcome.file_name,
                                        user=owner, now=NOW)  # fmt: skip
    async with sessions() as session:
        stored = await session.get(Document, document.id)
        assert stored is not None and stored.content == outcome.docx
        assert stored.sha256 == hashlib.sha256(outcome.docx).hexdigest()
        assert [d.file_name for d in await service.recent_documents(session, booking.id)] == [outcome.file_name]
        guests = (await session.scalars(select(Guest).order_by(Guest.id))).all()
        assert [(g.full_name, g.document_number) for g in guests] == [
            ("Maria Souza", "123.456.789-09"), ("João Pereira", "123.456.789-09")]  # fmt: skip
        refreshed = await session.get(Property, prop.id)
        assert refreshed is not None and refreshed.private_info == {
            "host_name": "Ana Lima", "host_document": "", "city": "Rio de Janeiro"}  # fmt: skip


async def test_secrets_never_reach_the_audit_log(sessions: async_sessionmaker[AsyncSession]):
    async with sessions.begin() as session:
        owner, prop, _booking = await seed(session)
        await service.set_property_info(session, prop, "door_code", "4321#", user=owner, now=NOW)
        await service.set_property_info(session, prop, "wifi_name", "", user=owner, now=NOW)
    async with sessions() as session:
        refreshed = await session.get(Property, prop.id)
        assert refreshed is not None and refreshed.private_info == {"door_code": "4321#", "wifi_name": "",
                                                                    "wifi_password": ""}  # fmt: skip
        details = [row.details for row in (await session.scalars(select(AuditLog))).all()]
        assert {"field": "door_code", "changed": True} in details
        assert "4321" not in repr(details)


async def test_uploaded_templates_are_versioned_and_reverted(sessions: async_sessionmaker[AsyncSession]):
    first = make_template("v1 {{ payer_name }} {{ amount }}")
    second = make_template("v2 {{ payer_name }} {{ amount }}")
    async with sessions.begin() as session:
        owner, prop, booking = await seed(session)
        booking.price, booking.guest_name = Decimal("500"), "Maria Souza"
        check = await service.check_upload(first, "receipt", "en")
        assert "v1 Maria Silva R$1,234.56" in docx_text(check.sample)
        one = await service.store_template(session, prop, "receipt", "en", first, user=owner, now=NOW)
        two = await service.store_template(session, prop, "receipt", "en", second, user=owner, now=NOW)
        assert (one.version, two.version) == (1, 2)
        source = await service.active_template(session, prop.id, "receipt", "en", TEMPLATES)
        assert (source.content, source.version, source.template_id) == (second, "2", two.id)
        other_language = await service.active_template(session, prop.id, "receipt", "pt_BR", TEMPLATES)
        assert other_language.version == DEFAULT_VERSION
        outcome = await service.prepare(session, booking, prop, "receipt", "en", directory=TEMPLATES, now=NOW)
        assert isinstance(outcome, service.Rendered) and "v2 Maria Souza R$500.00" in docx_text(outcome.docx)
        uploads = await service.active_uploads(session, prop.id)
        assert list(uploads) == [("receipt", "en")] and uploads[("receipt", "en")].version == 2
        assert await service.revert_template(session, prop, "receipt", "en", user=owner, now=NOW)
        assert not await service.revert_template(session, prop, "receipt", "en", user=owner, now=NOW)
        source = await service.active_template(session, prop.id, "receipt", "en", TEMPLATES)
        assert source.version == DEFAULT_VERSION
        three = await service.store_template(session, prop, "receipt", "en", first, user=owner, now=NOW)
        assert three.version == 3
    async with sessions() as session:
        rows = (await session.scalars(select(DocumentTemplate).order_by(DocumentTemplate.version))).all()
        assert [(t.version, t.active) for t in rows] == [(1, False), (2, False), (3, True)]


async def test_only_managers_of_the_property_get_a_stored_document(sessions: async_sessionmaker[AsyncSession]):
    async with sessions.begin() as session:
        owner, prop, booking = await seed(session)
        other = Property(name="Casa 7", timezone="America/Sao_Paulo", export_token="2-x")
        viewer = User(telegram_id=2, role="viewer")
        manager = User(telegram_id=3, role="manager")
        outsider = User(telegram_id=4, role="manager")
        session.add_all([other, viewer, manager, outsider])
        await session.flush()
        session.add_all([PropertyAccess(user_id=viewer.id, property_id=prop.id, role="viewer"),
                         PropertyAccess(user_id=manager.id, property_id=prop.id, role="manager"),
                         PropertyAccess(user_id=outsider.id, property_id=other.id, role="manager")])  # fmt: skip
        document = Document(booking_id=booking.id, kind="receipt", template_version=DEFAULT_VERSION, file_name="r.docx",
                            content=b"x", sha256="0" * 64, created_by=owner.id, created_at=NOW)  # fmt: skip
        session.add(document)
        await session.flush()
        ids = (document.id, owner.id, viewer.id, manager.id, outsider.id)
    async with sessions() as session:
        document_id, *user_ids = ids
        found = [await service.document_for(session, await _user(session, uid), document_id) for uid in user_ids]
        assert [f is not None for f in found] == [True, False, True, False]
        assert await service.document_for(session, await _user(session, user_ids[0]), document_id + 1) is None


async def _user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user
