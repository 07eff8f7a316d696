"""The mail outbox against a real SMTP server on loopback (aiosmtpd): STARTTLS and implicit TLS with a certificate
the test makes, a certificate for another name refused, temporary failures retried with backoff, permanent ones
given up with the server's words, never sent twice, and every mail recorded."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import load_settings
from bot.views.mail import compose
from domain.documents.defaults import templates_dir
from domain.documents.pdf import PdfConverter, find_soffice
from domain.mail import building
from jobs.mail import MailConfig, MailJob
from jobs.metrics import REGISTRY
from storage.models import Booking, Document, MailOutbox, Outbox, Property
from tests.support.clock import FakeClock
from tests.support.documents import docx_text, have_pdf_tools, pdf_text
from tests.support.mail import ready_booking
from tests.support.smtp_server import smtp_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
NOW = datetime(2027, 8, 10, 15, 0, tzinfo=UTC)


def job(sessions: async_sessionmaker[AsyncSession], server_settings: dict, clock: FakeClock,
        **config: object) -> MailJob:  # fmt: skip
    settings = load_settings(**server_settings)
    return MailJob(sessions, settings.smtp_config(), compose, templates=templates_dir(), clock=clock,
                   config=MailConfig(**config))  # type: ignore[arg-type]  # fmt: skip


async def queue(sessions: async_sessionmaker[AsyncSession], **kwargs: object) -> int:
    async with sessions.begin() as session:
        owner, prop, booking = await ready_booking(session, now=NOW, **kwargs)  # type: ignore[arg-type]
        settings = await building.building_mail(session, prop)
        row = await building.queue_notice(session, prop, booking, settings, now=NOW, sender="lumina@example.test",
                                          user=owner)  # fmt: skip
        assert row is not None
        return row.id


async def mail_row(sessions: async_sessionmaker[AsyncSession], row_id: int) -> MailOutbox:
    async with sessions() as session:
        row = await session.get(MailOutbox, row_id)
        assert row is not None
        return row


async def chat_rows(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_the_authorization_goes_out_over_tls_and_is_recorded(sessions, tmp_path: Path, security: str):
    clock = FakeClock(NOW)
    row_id = await queue(sessions)
    with smtp_server(tmp_path, security) as server:
        mailer = job(sessions, server.settings(), clock)
        assert await mailer.run_pass() == 1
        assert await mailer.run_pass() == 0  # nothing twice
    assert len(server.handler.received) == 1
    received = server.handler.received[0]
    assert received.recipients == ["portaria@predio.test"] and received.sender == "lumina@example.test"
    message = received.message
    row = await mail_row(sessions, row_id)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at == NOW
    assert message["Message-ID"] == row.message_id
    assert message["Subject"].startswith("Autorização de hospedagem: Apto 101")
    body = message.get_body(("plain",)).get_content()
    assert "Maria Souza" in body and "ABC1D23" in body and "12/08/2027" in body
    (attachment,) = list(message.iter_attachments())
    content = attachment.get_content()
    assert attachment.get_filename() == "autorizacao-2027-08-12-apto-101.docx"
    assert "Maria Souza" in docx_text(content) and "CPF 123.456.789-09" in docx_text(content)
    assert row.attachment_sha256 == hashlib.sha256(content).hexdigest()
    async with sessions() as session:
        document = await session.scalar(select(Document))
        assert document is not None and document.emailed_to == "portaria@predio.test"
        assert document.sha256 == row.attachment_sha256
    (told,) = await chat_rows(sessions)
    assert told.kind == "mail_sent" and told.chat_id == 1
    assert told.payload["to"] == ["portaria@predio.test"] and told.payload["at"] == NOW.isoformat()


async def test_a_certificate_for_another_name_is_refused(sessions, tmp_path: Path):
    row_id = await queue(sessions)
    with smtp_server(tmp_path, "tls", certificate_for="mail.other.test") as server:
        await job(sessions, server.settings(), FakeClock(NOW)).run_pass()
    assert server.handler.received == []
    row = await mail_row(sessions, row_id)
    assert row.status == "dead" and row.last_error.startswith("certificate:")
    (told,) = await chat_rows(sessions)
    assert told.kind == "mail_failed" and told.payload["reason"] == "certificate"


def emails(result: str) -> float:
    return REGISTRY.get_sample_value("lumina_emails_total", {"result": result}) or 0.0


@pytest.mark.parametrize("answer", ["451 4.3.0 Temporary local problem", "421 4.7.0 Try again later"])
async def test_a_temporary_failure_is_retried_with_backoff_and_sent_once(sessions, tmp_path: Path, answer: str):
    clock = FakeClock(NOW)
    counted = {result: emails(result) for result in ("sent", "retried", "failed")}
    row_id = await queue(sessions)
    with smtp_server(tmp_path, "starttls") as server:
        server.handler.data_answers = [answer]
        mailer = job(sessions, server.settings(), clock, backoff_base=60)
        await mailer.run_pass()
        row = await mail_row(sessions, row_id)
        assert row.status == "pending" and row.attempts == 1 and answer[:3] in (row.last_error or "")
        assert row.not_before is not None and 48 <= (row.not_before - NOW).total_seconds() <= 72
        assert await mailer.run_pass() == 0  # not before its time
        clock.advance(seconds=80)
        assert await mailer.run_pass() == 1
    assert len(server.handler.received) == 1 and server.handler.data_attempts == 2
    row = await mail_row(sessions, row_id)
    assert row.status == "sent" and row.attempts == 2
    assert [r.kind for r in await chat_rows(sessions)] == ["mail_sent"]
    assert {result: emails(result) - before for result, before in counted.items()} == {
        "sent": 1,
        "retried": 1,
        "failed": 0,
    }  # what /metrics says


async def test_a_permanent_refusal_is_given_up_with_the_servers_words(sessions, tmp_path: Path):
    row_id = await queue(sessions)
    with smtp_server(tmp_path, "starttls") as server:
        server.handler.rcpt_answer = "550 5.1.1 <portaria@predio.test>: Recipient address rejected"
        mailer = job(sessions, server.settings(), FakeClock(NOW))
        await mailer.run_pass()
        await mailer.run_pass()
    row = await mail_row(sessions, row_id)
    assert row.status == "dead" and row.attempts == 1
    (told,) = await chat_rows(sessions)
    assert told.kind == "mail_failed" and told.payload["reason"] == "refused"
    assert "Recipient address rejected" in told.payload["detail"]


async def test_a_server_that_is_down_is_retried_then_given_up(sessions, tmp_path: Path):
    clock = FakeClock(NOW)
    row_id = await queue(sessions)
    with smtp_server(tmp_path, "none") as server:
        settings = server.settings()
    mailer = job(sessions, settings, clock, backoff_base=1, max_attempts=3)  # the server is gone: refused
    for _ in range(3):
        await mailer.run_pass()
        clock.advance(seconds=10)
    row = await mail_row(sessions, row_id)
    assert row.status == "dead" and row.attempts == 3 and (row.last_error or "").startswith("network:")
    (told,) = await chat_rows(sessions)
    assert told.payload["reason"] == "gave_up"


async def test_a_row_left_sending_by_a_crash_is_not_sent_again_but_asked_about(sessions, tmp_path: Path):
    row_id = await queue(sessions)
    async with sessions.begin() as session:
        row = await session.get(MailOutbox, row_id)
        assert row is not None
        row.status, row.attempts, row.not_before = "sending", 1, NOW
    with smtp_server(tmp_path, "none") as server:
        mailer = job(sessions, server.settings(), FakeClock(NOW), recover_all_on_start=True)
        await mailer.run_pass()
    assert server.handler.received == []
    assert (await mail_row(sessions, row_id)).status == "dead"
    (told,) = await chat_rows(sessions)
    assert told.payload["reason"] == "interrupted"


async def test_two_loops_never_send_a_row_twice(sessions, tmp_path: Path):
    await queue(sessions)
    with smtp_server(tmp_path, "none") as server:
        first, second = (job(sessions, server.settings(), FakeClock(NOW)) for _ in range(2))
        await asyncio.gather(first.run_pass(), second.run_pass())
    assert len(server.handler.received) == 1


async def test_missing_details_are_told_and_nothing_is_sent(sessions, tmp_path: Path):
    row_id = await queue(sessions)
    async with sessions.begin() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        booking.guests_count = None
    with smtp_server(tmp_path, "none") as server:
        await job(sessions, server.settings(), FakeClock(NOW)).run_pass()
    assert server.handler.received == []
    assert (await mail_row(sessions, row_id)).last_error == "missing: guests_count"
    (told,) = await chat_rows(sessions)
    assert told.payload["reason"] == "missing"


async def test_the_same_state_is_queued_once(sessions):
    async with sessions.begin() as session:
        owner, prop, booking = await ready_booking(session, now=NOW)
        settings = await building.building_mail(session, prop)
        first = await building.queue_notice(session, prop, booking, settings, now=NOW, sender="l@x.test", user=owner)
        again = await building.queue_notice(session, prop, booking, settings, now=NOW, sender="l@x.test", user=owner)
        assert first is not None and first.kind == "authorization" and again is None
        count = len((await session.scalars(select(MailOutbox))).all())
        assert count == 1
        assert await session.get(Property, prop.id) is not None


@pytest.mark.parametrize("mode", ["ask", "auto"])
async def test_a_cancelled_stay_gets_a_cancellation_notice_asked_or_sent(sessions, tmp_path: Path, mode: str):
    clock = FakeClock(NOW)
    async with sessions.begin() as session:
        owner, prop, booking = await ready_booking(session, now=NOW, mode=mode)
        settings = await building.building_mail(session, prop)
        await building.queue_notice(session, prop, booking, settings, now=NOW, sender="l@x.test", user=owner)
    with smtp_server(tmp_path, "none") as server:
        mailer = job(sessions, server.settings(), clock)
        await mailer.run_pass()
        assert await mailer.watch() == 0  # nothing changed
        async with sessions.begin() as session:
            stay = await session.scalar(select(Booking))
            assert stay is not None
            stay.status, stay.cancelled_at = "cancelled", NOW
        assert await mailer.watch() == 1
        assert await mailer.watch() == 0
        await mailer.run_pass()
    rows = await chat_rows(sessions)
    if mode == "ask":
        assert [r.kind for r in rows] == ["mail_sent", "mail_revision"]
        assert rows[1].payload["fields"] == ["cancelled"] and len(server.handler.received) == 1
        return
    assert [r.kind for r in rows] == ["mail_sent", "mail_sent"] and rows[1].payload["automatic"] is True
    assert rows[1].payload["mail_kind"] == "cancellation"
    cancelled = server.handler.received[1].message
    assert cancelled["Subject"].startswith("Hospedagem CANCELADA: Apto 101")
    assert list(cancelled.iter_attachments()) == []


@pytest.mark.skipif(not have_pdf_tools(), reason="LibreOffice and pdftotext are not installed")
async def test_the_authorization_is_a_pdf_where_libreoffice_is(sessions, tmp_path: Path):
    await queue(sessions)
    converter = PdfConverter(find_soffice("soffice"), timeout=120)
    with smtp_server(tmp_path, "none") as server:
        settings = load_settings(**server.settings())
        mailer = MailJob(sessions, settings.smtp_config(), compose, templates=templates_dir(), clock=FakeClock(NOW),
                         pdf=lambda: converter)  # fmt: skip
        await mailer.run_pass()
    (attachment,) = list(server.handler.received[0].message.iter_attachments())
    assert attachment.get_filename() == "autorizacao-2027-08-12-apto-101.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert "Maria Souza" in pdf_text(attachment.get_content())
