"""The mail job: delivers the mail outbox through SMTP and watches for authorizations the building should hear
again about.

A row goes pending → sending (claimed) → sent | pending (a temporary failure: retried with backoff) | dead (a
permanent failure, too many attempts, or nothing to send). Claiming is one UPDATE ... WHERE status = 'pending', so
two loops never send one row. The authorization is rendered (and made a PDF where LibreOffice is) when the row is
first claimed, and its bytes, subject and text are stored in the row before the first attempt, so every retry sends
the same mail with the same Message-ID.

Never twice: a row still "sending" after a crash may or may not have reached the server (nothing can tell), so it
is not sent again by itself: it is marked dead ("interrupted") and the host is asked in the chat whether to send it
again. Every outcome is told in the chat: the time and the address, or the server's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.booking_fields import display_guest
from domain.bookings import GUEST_KINDS
from domain.documents import service as documents
from domain.documents.pdf import PdfConverter, PdfError
from domain.mail import building
from domain.mail.config import SmtpConfig
from domain.mail.message import build_message
from domain.time import property_today
from jobs.clock import Clock, utc_now
from jobs.metrics import EMAILS
from jobs.smtp import SmtpFailure, SmtpResult, send_message
from storage.models import Booking, MailOutbox, Property, hosted

log = logging.getLogger("lumina.mail")


class Composer(Protocol):
    def __call__(self, kind: str, locale: str, facts: dict[str, Any]) -> tuple[str, str]:
        """(subject, plain text body) of a mail to the building, in `locale`."""
        ...


Send = Callable[[SmtpConfig, Any, list[str]], Any]


@dataclass(frozen=True, slots=True)
class MailConfig:
    interval: float = 30.0  # seconds between passes when nobody wakes the job
    backoff_base: float = 30.0
    backoff_cap: float = 3600.0
    max_attempts: int = 8  # temporary failures before giving up (about 2 hours with the defaults)
    lease: float = 600.0  # a row "sending" longer than this was left by a process that died
    recover_all_on_start: bool = False  # SQLite: one process owns the database, every "sending" row is orphaned
    auto_days_ahead: int = 3  # "automatic" properties: the authorization goes out this many days before check-in


class MailJob:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        smtp: SmtpConfig | None,
        composer: Composer,
        *,
        templates: Path,
        pdf: Callable[[], PdfConverter | None] = lambda: None,
        config: MailConfig = MailConfig(),
        clock: Clock = utc_now,
        on_alerts: Callable[[], None] = lambda: None,
        send: Callable[..., Any] = send_message,
    ) -> None:
        self._sessions, self.smtp, self._compose = sessions, smtp, composer
        # Finding LibreOffice and testing `unshare` take a moment: done in a thread, when the first mail needs it
        self._templates, self._pdf_factory, self.config, self._clock = templates, pdf, config, clock
        self._on_alerts, self._send = on_alerts, send
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._recovered = False

    @property
    def enabled(self) -> bool:
        return self.smtp is not None

    # --- running -----------------------------------------------------------------------------------------------

    def wake(self) -> None:
        self._woken.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="mail-delivery")

    async def stop(self) -> None:
        self._stopping = True
        self._woken.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task  # a send in progress finishes and is recorded: stopping is not a crash

    async def _loop(self) -> None:
        while not self._stopping:
            self._woken.clear()  # before the pass: a wake-up during it means another pass
            try:
                await self.watch()
                await self.run_pass()
            except Exception:
                log.exception("mail pass failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=self.config.interval)

    async def run_pass(self) -> int:
        """Send every row due now, one at a time; returns how many were handled."""
        if self.smtp is None:
            return 0
        if not self._recovered:
            await self.recover()
        handled = 0
        while not self._stopping:
            row_id = await self._claim()
            if row_id is None:
                break
            await self._deliver(row_id)
            handled += 1
        return handled

    async def recover(self) -> int:
        """Rows a dead process left "sending": maybe sent, maybe not. Not sent again by themselves; the host is
        asked (never twice)."""
        now = self._clock()
        self._recovered = True
        query = select(MailOutbox).where(MailOutbox.status == "sending")
        if not self.config.recover_all_on_start:
            query = query.where(MailOutbox.not_before < now)
        count = 0
        async with self._sessions.begin() as session:
            for row in (await session.scalars(query)).all():
                row.status, row.last_error, row.not_before = "dead", "interrupted", None
                await self._tell_failure(session, row, "interrupted", "", now=now)
                count += 1
        if count:
            log.warning("mails interrupted by a restart: the host is asked whether to send them again",
                        extra={"count": count})  # fmt: skip
            self._on_alerts()
        return count

    async def _claim(self) -> int | None:
        now = self._clock()
        async with self._sessions.begin() as session:
            candidates = (
                await session.scalars(
                    select(MailOutbox.id)
                    .where(MailOutbox.status == "pending")
                    .where((MailOutbox.not_before.is_(None)) | (MailOutbox.not_before <= now))
                    .order_by(MailOutbox.id)
                    .limit(5)
                )
            ).all()
            for row_id in candidates:
                result = await session.execute(
                    update(MailOutbox)
                    .where(MailOutbox.id == row_id, MailOutbox.status == "pending")
                    .values(status="sending", attempts=MailOutbox.attempts + 1,
                            not_before=now + timedelta(seconds=self.config.lease))
                    .execution_options(synchronize_session=False)
                )  # fmt: skip
                if getattr(result, "rowcount", 0) == 1:
                    return row_id
        return None

    # --- one row -------------------------------------------------------------------------------------------------

    async def _deliver(self, row_id: int) -> None:
        assert self.smtp is not None
        prepared = await self._prepare(row_id)
        if prepared is None:
            return
        row = prepared
        message = build_message(
            sender=self.smtp.sender, recipients=list(row.recipients), subject=row.subject, body=row.body,
            message_id=row.message_id, date=row.created_at,
            attachment=(row.attachment_name, row.attachment) if row.attachment_name and row.attachment else None,
        )  # fmt: skip
        try:
            result: SmtpResult = await self._send(self.smtp, message, list(row.recipients))
        except SmtpFailure as failure:
            await self._failed(row, failure)
            return
        except Exception as error:  # a bug: retry like a temporary failure, a few times
            log.exception("unexpected error sending a mail", extra={"mail_id": row.id})
            await self._failed(row, SmtpFailure("error", f"{type(error).__name__}: {error}", permanent=False))
            return
        await self._sent(row, result)

    async def _prepare(self, row_id: int) -> MailOutbox | None:
        """The row with its subject, text and attachment, rendered now if this is its first attempt."""
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(MailOutbox, row_id)
            assert row is not None
            if row.subject:
                session.expunge(row)
                return row
            if row.kind == "test":  # a test mail carries its text from the start
                session.expunge(row)
                return row
            booking = await session.get(Booking, row.booking_id) if row.booking_id else None
            prop = await session.get(Property, row.property_id) if row.property_id else None
            if booking is None or prop is None:
                row.status, row.last_error = "dead", "booking gone"
                return None
            settings = await building.building_mail(session, prop)
            facts = await self._facts(session, row, booking, prop, settings)
            docx_name: str | None = None
            docx: bytes | None = None
            if row.kind != "cancellation":
                outcome = await documents.prepare(session, booking, prop, "authorization", settings.locale,
                                                  directory=self._templates, now=now)  # fmt: skip
                if isinstance(outcome, documents.Missing):
                    row.status, row.last_error, row.not_before = "dead", f"missing: {outcome.need.key}", None
                    await self._tell_failure(session, row, "missing", outcome.need.key, now=now)
                    self._on_alerts()
                    return None
                docx_name, docx = outcome.file_name, outcome.docx
            subject, body = self._compose(row.kind, settings.locale, facts)
        name, content = docx_name, docx
        pdf = await asyncio.to_thread(self._pdf_factory) if content is not None else None
        if content is not None and name is not None and pdf is not None and pdf.available:
            try:
                content = await pdf.convert(content)
                name = name.removesuffix(".docx") + ".pdf"
            except PdfError as error:  # the .docx goes instead; the mail is not held back for it
                log.warning("pdf conversion failed; sending the .docx",
                            extra={"mail_id": row_id, "reason": error.reason})  # fmt: skip
                content, name = docx, docx_name
        async with self._sessions.begin() as session:
            row = await session.get(MailOutbox, row_id)
            assert row is not None
            row.subject, row.body = subject[:300], body
            if content is not None and name is not None:
                row.attachment_name, row.attachment = name, content
                row.attachment_sha256 = hashlib.sha256(content).hexdigest()
            await session.flush()
            session.expunge(row)
            return row

    async def _facts(self, session: AsyncSession, row: MailOutbox, booking: Booking, prop: Property,
                     settings: building.BuildingMail) -> dict[str, Any]:  # fmt: skip
        snap = row.snapshot or await building.snapshot(session, booking)
        previous = None
        if row.kind in ("revision", "cancellation"):
            earlier = await session.scalar(
                select(MailOutbox).where(MailOutbox.booking_id == booking.id, MailOutbox.id < row.id,
                                         MailOutbox.status == "sent", MailOutbox.kind.in_(building.NOTICE_KINDS))
                .order_by(MailOutbox.id.desc()).limit(1)
            )  # fmt: skip
            previous = earlier
        return {
            "property": prop.name,
            "address": prop.address or "",
            "timezone": prop.timezone,
            "checkin_time": prop.checkin_time.strftime("%H:%M"),
            "checkout_time": prop.checkout_time.strftime("%H:%M"),
            "guest_name": display_guest(booking) or "",
            "reservation_code": booking.reservation_code or "",
            "host_body": settings.body,
            "previous_sent_at": previous.sent_at.isoformat() if previous and previous.sent_at else None,
            "previous": previous.snapshot if previous else None,
            **snap,
        }

    async def _sent(self, row: MailOutbox, result: SmtpResult) -> None:
        now = self._clock()
        async with self._sessions.begin() as session:
            await session.execute(
                update(MailOutbox).where(MailOutbox.id == row.id, MailOutbox.status == "sending")
                .values(status="sent", sent_at=now, not_before=None, last_error=None,
                        smtp_response=result.response[:500])
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            if row.booking_id and row.attachment and row.kind != "test":
                await self._record_document(session, row, now)
            prop = await session.get(Property, row.property_id) if row.property_id else None
            if prop is not None and row.kind != "test":
                payload = {
                    "booking_id": row.booking_id, "mail_kind": row.kind, "to": list(row.recipients),
                    "at": now.isoformat(), "automatic": row.user_id is None, "refused": result.refused,
                    "attachment": row.attachment_name, "timezone": prop.timezone,
                    "mail_id": row.id,
                }  # fmt: skip
                await building.tell(session, prop, "mail_sent", f"mail_sent:{row.id}", now=now, payload=payload,
                                    user_id=row.user_id, booking_id=row.booking_id)  # fmt: skip
        EMAILS.labels("sent").inc()
        log.info("mail sent", extra={"mail_id": row.id, "kind": row.kind, "to": row.recipients,
                                     "message_id": row.message_id, "response": result.response})  # fmt: skip
        self._on_alerts()

    async def _record_document(self, session: AsyncSession, row: MailOutbox, now: datetime) -> None:
        from storage.models import Document

        assert row.attachment is not None and row.attachment_name is not None and row.booking_id is not None
        session.add(Document(
            booking_id=row.booking_id, kind="authorization", template_id=None, template_version="mail",
            file_name=row.attachment_name, content=row.attachment, sha256=row.attachment_sha256 or "",
            created_by=row.user_id, emailed_to=", ".join(row.recipients)[:254], created_at=now,
        ))  # fmt: skip

    async def _failed(self, row: MailOutbox, failure: SmtpFailure) -> None:
        now = self._clock()
        detail = str(failure)[:500]
        give_up = failure.permanent or row.attempts >= self.config.max_attempts
        EMAILS.labels("failed" if give_up else "retried").inc()
        async with self._sessions.begin() as session:
            if give_up:
                values: dict[str, Any] = {"status": "dead", "not_before": None,
                                          "last_error": f"{failure.reason}: {detail}"}  # fmt: skip
            else:
                delay = min(self.config.backoff_cap, self.config.backoff_base * 2 ** max(row.attempts - 1, 0))
                values = {"status": "pending", "last_error": f"{failure.reason}: {detail}",
                          "not_before": now + timedelta(seconds=delay * random.uniform(0.8, 1.2))}  # fmt: skip
            await session.execute(
                update(MailOutbox).where(MailOutbox.id == row.id, MailOutbox.status == "sending").values(**values)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            if give_up:
                reason = failure.reason if failure.permanent else "gave_up"
                await self._tell_failure(session, row, reason, detail, now=now)
        log.log(logging.WARNING if give_up else logging.INFO, "mail not sent",
                extra={"mail_id": row.id, "reason": failure.reason, "detail": detail, "attempts": row.attempts,
                       "given_up": give_up})  # fmt: skip
        if give_up:
            self._on_alerts()

    async def _tell_failure(self, session: AsyncSession, row: MailOutbox, reason: str, detail: str, *,
                            now: datetime) -> None:  # fmt: skip
        prop = await session.get(Property, row.property_id) if row.property_id else None
        if prop is None or row.kind == "test":
            return
        payload = {"booking_id": row.booking_id, "mail_kind": row.kind, "to": list(row.recipients),
                   "reason": reason, "detail": detail, "mail_id": row.id}  # fmt: skip
        await building.tell(session, prop, "mail_failed", f"mail_failed:{row.id}", now=now, payload=payload,
                            user_id=row.user_id, booking_id=row.booking_id)  # fmt: skip

    # --- watching: revisions, cancellations, automatic authorizations --------------------------------------------

    async def watch(self) -> int:
        """Ask the host (or, for "automatic" properties, just send) when a booking whose authorization went out has
        changed or was cancelled; send "automatic" properties' authorizations a few days before check-in. Returns
        how many questions and mails were queued. Idempotent: each state of a booking is asked about once."""
        if self.smtp is None:
            return 0
        now = self._clock()
        queued = 0
        async with self._sessions.begin() as session:
            for pending in await building.outdated_notices(session, today=now.date()):
                settings = await building.building_mail(session, pending.prop)
                if not settings.can_send:
                    continue
                key = building.snapshot_key(pending.now_snapshot)
                if settings.mode == "auto":
                    row = await building.queue_notice(session, pending.prop, pending.booking, settings, now=now,
                                                      sender=self.smtp.sender)  # fmt: skip
                    queued += row is not None
                    continue
                payload = {"booking_id": pending.booking.id, "fields": pending.fields, "to": list(settings.addresses),
                           "check_in": pending.booking.check_in.isoformat(),
                           "check_out": pending.booking.check_out.isoformat(),
                           "sent_at": pending.notice.sent_at.isoformat() if pending.notice.sent_at else None,
                           "timezone": pending.prop.timezone}  # fmt: skip
                queued += await building.tell(session, pending.prop, "mail_revision",
                                              f"mail_revision:{pending.booking.id}:{key}", now=now, payload=payload,
                                              booking_id=pending.booking.id)  # fmt: skip
            queued += await self._automatic(session, now)
        if queued:
            self._on_alerts()
            self.wake()
        return queued

    async def _automatic(self, session: AsyncSession, now: datetime) -> int:
        from storage.models import MailSettings

        assert self.smtp is not None
        rows = await session.execute(
            select(Booking, Property)
            .join(Property, Property.id == Booking.property_id)
            .join(MailSettings, MailSettings.property_id == Property.id)
            .where(MailSettings.mode == "auto", hosted(), Booking.kind.in_(GUEST_KINDS),
                   Property.archived_at.is_(None),
                   Booking.check_in >= now.date() - timedelta(days=1),
                   Booking.check_in <= now.date() + timedelta(days=self.config.auto_days_ahead + 1))
        )  # fmt: skip
        queued = 0
        for booking, prop in rows.all():
            today = property_today(prop, now)
            if not today <= booking.check_in <= today + timedelta(days=self.config.auto_days_ahead):
                continue
            earlier = select(MailOutbox.id).where(MailOutbox.booking_id == booking.id,
                                                  MailOutbox.kind.in_(building.NOTICE_KINDS))  # fmt: skip
            if await session.scalar(earlier.limit(1)) is not None:
                continue
            settings = await building.building_mail(session, prop)
            if not settings.can_send:
                continue
            row = await building.queue_notice(session, prop, booking, settings, now=now, sender=self.smtp.sender,
                                              kind="authorization")  # fmt: skip
            queued += row is not None
        return queued
