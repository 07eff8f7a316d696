"""Composition root: settings → engine → services → dispatcher, scheduler and web app, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.bot_api import JsonSession
from bot.commands import publish_commands
from bot.middlewares.access import AccessMiddleware
from bot.middlewares.db import UnitOfWorkMiddleware
from bot.middlewares.lookup import LookupMiddleware
from bot.middlewares.metrics import UpdateMetrics
from bot.routers import get_routers
from bot.routers.documents import pdf_converter
from bot.routers.errors import on_error
from bot.sender import TelegramSender
from bot.services import Health, Services, build_services
from bot.settings import Settings
from bot.views import format as format_views
from bot.views.alerts import render_alert
from bot.views.mail import compose as compose_mail
from bot.web import WebServer
from domain import access
from domain.documents.defaults import templates_dir
from domain.reminders import ReminderTimes
from jobs.backups import BackupJob
from jobs.clock import Clock, utc_now
from jobs.delivery import Delivery, DeliveryConfig
from jobs.imap import ImapReader
from jobs.mail import MailConfig, MailJob
from jobs.metrics import TELEGRAM_CALLS
from jobs.reminders import ReminderConfig, ReminderJob
from storage.db import is_sqlite

log = logging.getLogger("lumina")
UPDATE_CONCURRENCY = 8  # below the database pool (10 + 10 overflow on PostgreSQL), one writer on SQLite anyway


def build_delivery(services: Services, bot: Bot) -> Delivery:
    settings = services.settings
    timeout = settings.delivery_send_timeout
    config = DeliveryConfig(
        global_rate=settings.delivery_global_rate,
        chat_rate=settings.delivery_chat_rate,
        interval=settings.delivery_interval,
        lease=settings.delivery_lease or timeout + 90,  # longer than a claim can wait (3 waits of 10 s) and a send
        stop_grace=timeout + 5,
        default_timezone=settings.default_timezone,
        recover_all_on_start=is_sqlite(settings.resolved_database_url),  # one process owns a SQLite database
    )
    delivery = Delivery(
        services.sessions, TelegramSender(bot, timeout=timeout), render_alert, config=config, clock=services.clock
    )
    services.outbox_wakeup.connect(delivery.wake)
    return delivery


def build_reminders(services: Services) -> ReminderJob:
    settings = services.settings
    config = ReminderConfig(
        times=ReminderTimes(checkin=settings.checkin_reminder_time, checkout=settings.checkout_reminder_time),
        default_timezone=settings.default_timezone,
        keep_outbox=timedelta(days=settings.outbox_keep_days),
        keep_audit=timedelta(days=settings.audit_keep_days),
    )
    return ReminderJob(services.sessions, config=config, clock=services.clock, on_queued=services.outbox_wakeup)


def build_backups(services: Services) -> BackupJob:
    settings = services.settings
    return BackupJob(
        services.sessions, settings.resolved_database_url, settings.resolved_backup_dir,
        keep_days=settings.backup_keep_days, clock=services.clock, on_alerts=services.outbox_wakeup,
    )  # fmt: skip


def build_mail(services: Services) -> MailJob:
    settings = services.settings
    smtp = settings.smtp_config()
    config = MailConfig(
        lease=(smtp.timeout if smtp else 30) * 4 + settings.pdf_timeout + 60,
        recover_all_on_start=is_sqlite(settings.resolved_database_url),
    )
    mail = MailJob(
        services.sessions, smtp, compose_mail, templates=templates_dir(settings.templates_dir),
        pdf=lambda: pdf_converter(settings.soffice_path, settings.pdf_timeout), config=config, clock=services.clock,
        on_alerts=services.outbox_wakeup,
    )  # fmt: skip
    services.mail_wakeup.connect(mail.wake)
    services.outbox_wakeup.connect(mail.wake)  # a sync that changed stays: authorizations may need a revision
    return mail


def build_dispatcher(services: Services) -> Dispatcher:
    # Dialogs (FSM state and data) in Redis when configured: then any instance can take a dialog's next step.
    redis_url = services.settings.redis_url
    storage = RedisStorage.from_url(redis_url) if redis_url else MemoryStorage()
    dp = Dispatcher(storage=storage, services=services)
    dp.update.outer_middleware(UnitOfWorkMiddleware(services.sessions))
    dp.update.outer_middleware(
        AccessMiddleware(
            owner_ids=frozenset(services.settings.owner_ids),
            default_locale=services.settings.default_locale,
            clock=services.clock,
        )
    )
    for observer in (dp.message, dp.callback_query):  # inner: applies to every included router's handlers
        observer.middleware(UpdateMetrics())
    dp.callback_query.middleware(LookupMiddleware())  # loads what a button names, with the access check
    dp.include_routers(*get_routers())
    dp.errors.register(on_error)
    return dp


class TelegramHealthMiddleware(BaseRequestMiddleware):
    """Remembers whether the last call to Telegram worked, for /ready."""

    def __init__(self, health: Health, clock: Clock) -> None:
        self._health = health
        self._clock = clock

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        name = getattr(method, "__api_method__", type(method).__name__)
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            self._record(ok=not _is_network_error(exc), error=type(exc).__name__)
            TELEGRAM_CALLS.labels(name, "429" if isinstance(exc, TelegramRetryAfter) else type(exc).__name__).inc()
            raise
        self._record(ok=True, error=None)
        TELEGRAM_CALLS.labels(name, "ok").inc()
        return response

    def _record(self, *, ok: bool, error: str | None) -> None:
        self._health.telegram_ok, self._health.telegram_error = ok, error
        self._health.telegram_checked_at = self._clock()


def _is_network_error(exc: Exception) -> bool:
    from aiogram.exceptions import (
        ClientDecodeError,
        TelegramNetworkError,
        TelegramServerError,
        TelegramUnauthorizedError,
    )

    # An API error (say 400) proves Telegram answered; these mean it did not, or a proxy answered instead, or it
    # refused the token (revoked in BotFather): nothing will work until the operator acts.
    return isinstance(
        exc,
        TelegramNetworkError | TelegramServerError | ClientDecodeError | asyncio.TimeoutError
        | TelegramUnauthorizedError,
    )  # fmt: skip


def create_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = (
        JsonSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
        if settings.telegram_api_base
        else JsonSession()
    )
    return Bot(
        settings.bot_token.get_secret_value(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


class Application:
    """Everything `lumina run` runs: the bot (long polling), the scheduler and the web app."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        services: Services | None = None,
        web: WebServer | None = None,
    ) -> None:
        self.settings = settings
        self.services = services or build_services(settings, clock=clock)
        format_views.use_clock(self.services.clock)
        self.web = web or WebServer(self.services, settings.http_host, settings.http_port)
        self.bot = create_bot(settings)
        self.bot.session.middleware(TelegramHealthMiddleware(self.services.health, clock))
        self.dispatcher = build_dispatcher(self.services)
        self.delivery = build_delivery(self.services, self.bot)
        self.reminders = build_reminders(self.services)
        self.backups = build_backups(self.services)
        self.mail = build_mail(self.services)
        imap = settings.imap_config()
        self.imap = ImapReader(self.services.sessions, imap, clock=self.services.clock,
                               on_alerts=self.services.outbox_wakeup) if imap else None  # fmt: skip
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._polling: asyncio.Task[Any] | None = None
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self.setup_code: str | None = None
        self.startup_phases: dict[str, float] = {}  # seconds each step of start() took (benchmarks/startup_bench.py)

    @property
    def port(self) -> int | None:
        return self.web.port

    async def start(self) -> None:
        phase = _Phases(self.startup_phases)
        await self.web.start()  # no-op when `lumina run` started it early, so /health answers during start-up
        if not self.settings.owner_ids:  # with pre-authorized owners nobody needs a code
            async with self.services.sessions.begin() as session:
                self.setup_code = await access.issue_setup_code(session)
        phase("setup_code")
        if self.setup_code is not None:
            await self._announce_setup_code(self.setup_code)
        phase("announce")
        self._start_scheduler()
        phase("scheduler")
        if not self.settings.public_url_reachable:
            log.warning(
                "export links are not reachable by Airbnb, Booking.com or VRBO: they point to %s; set "
                "LUMINA_PUBLIC_URL to a public https address (a domain behind a reverse proxy, or a tunnel such as "
                "Cloudflare Tunnel or ngrok)", self.settings.resolved_public_url,
            )  # fmt: skip
        await asyncio.to_thread(_log_pdf, self.settings)
        phase("pdf_check")
        with contextlib.suppress(Exception):  # Telegram may be down at start; polling retries on its own
            await publish_commands(self.bot, self.settings.default_locale)
        phase("commands")
        if self.settings.webhook_url:
            await self._start_webhook(self.settings.webhook_url)
        else:
            self._polling = asyncio.create_task(
                # a bounded number of updates at once: a burst waits in aiogram's queue, not at the database pool
                self.dispatcher.start_polling(
                    self.bot, handle_signals=False, close_bot_session=False,
                    tasks_concurrency_limit=UPDATE_CONCURRENCY,
                )
            )  # fmt: skip
        # What start-up loaded lives as long as the process: keep it out of full collections, which otherwise
        # stall the event loop for hundreds of milliseconds (benchmarks/README.md, "Chat screens").
        gc.freeze()

    async def _start_webhook(self, url: str) -> None:
        """Telegram posts updates to the web app; each is handled in the background (Telegram gets its 200 at once),
        at most UPDATE_CONCURRENCY at a time. The webhook stays set on a clean stop: updates wait at Telegram."""
        slots = asyncio.Semaphore(UPDATE_CONCURRENCY)

        async def handle(update: dict[str, Any]) -> None:
            async with slots:
                await self.dispatcher.feed_raw_update(self.bot, update)

        async def take(update: dict[str, Any]) -> None:
            task = asyncio.create_task(handle(update))
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)

        self.services.webhook = take
        try:
            await self.bot.set_webhook(
                url, secret_token=self.settings.resolved_webhook_secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )  # fmt: skip
        except Exception:
            log.exception("could not set the webhook; Telegram keeps the previous setting", extra={"url": url})

    def _start_scheduler(self) -> None:
        self.scheduler.add_job(
            self.services.syncer.sync_due,
            "interval",
            seconds=self.settings.sync_tick,
            id="sync_due",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.reminders.run,
            "interval",
            seconds=60,
            id="reminders",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.add_job(
            self.backups.scheduled, "cron", hour=self.settings.backup_hour, timezone=self.settings.default_timezone,
            id="backup", max_instances=1, coalesce=True, misfire_grace_time=3600,
        )  # fmt: skip
        self.scheduler.start()
        self.services.health.scheduler_running = True
        # The outbox is delivered by its own long-lived task, not an APScheduler job: a pass can rightly last
        # minutes under Telegram's rate limits, and an interval job would pile up "skipped" runs meanwhile. It
        # wakes on new rows (wake()) and every delivery_interval seconds.
        self.delivery.start()
        if self.mail.enabled:
            self.mail.start()
        if self.imap is not None:
            self.imap.start()

    async def _announce_setup_code(self, code: str) -> None:
        link = ""
        with contextlib.suppress(Exception):
            me = await self.bot.get_me()
            link = f"https://t.me/{me.username}?start={code}"
        message = f"\nNo owner yet. Send this to your bot in Telegram to become the owner:\n    /start {code}\n" + (
            f"or open {link}\n" if link else ""
        )
        print(message, flush=True)
        log.info("setup code issued (shown on the console only)")

    async def stop(self) -> None:
        if self._polling is not None:
            with contextlib.suppress(Exception):
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, timeout=10)
        self.services.webhook = None
        if self._webhook_tasks:
            await asyncio.wait(self._webhook_tasks, timeout=10)
        await self.delivery.stop()  # before the bot session closes: sends on the wire are finished and recorded
        await self.mail.stop()
        if self.imap is not None:
            await self.imap.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.services.health.scheduler_running = False
        await self.web.stop()
        await self.services.fetcher.aclose()
        await self.bot.session.close()
        await self.dispatcher.storage.close()
        await self.services.engine.dispose()
        format_views.use_clock(utc_now)


class _Phases:
    """Records how long each step of start-up took, into `into` (name → seconds since the previous step)."""

    def __init__(self, into: dict[str, float]) -> None:
        self._into, self._last = into, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self._into[name] = now - self._last
        self._last = now


def _log_pdf(settings: Settings) -> None:
    """Say once how documents become PDFs here (finding soffice and testing `unshare` take a moment: in a thread)."""
    converter = pdf_converter(settings.soffice_path, settings.pdf_timeout)
    if not converter.available:
        log.info("PDF documents are off: LibreOffice (soffice) was not found")
    elif converter.isolation:
        log.info("PDF documents: LibreOffice runs without network (%s)", " ".join(converter.isolation))
    else:
        log.warning(
            "PDF documents: LibreOffice runs with network access (this machine does not allow "
            "unshare --net); uploaded templates are still refused if they link outside"
        )
