"""Composition root: settings → engine → services → dispatcher, scheduler and web app, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands import publish_commands
from bot.middlewares.access import AccessMiddleware
from bot.middlewares.db import UnitOfWorkMiddleware
from bot.routers import get_routers
from bot.routers.errors import on_error
from bot.sender import TelegramSender
from bot.services import Health, Services
from bot.settings import Settings
from bot.views.alerts import render_alert
from bot.web import create_web_app
from domain import access
from domain.calendar.reconcile import Policy
from domain.feed_sync import HealthPolicy
from domain.reminders import ReminderTimes
from jobs.clock import Clock, utc_now
from jobs.delivery import Delivery, DeliveryConfig, Wakeup
from jobs.fetch import FeedFetcher, FetchConfig
from jobs.reminders import ReminderConfig, ReminderJob
from jobs.sync import FeedSyncer, SyncSchedule
from storage.db import create_engine, is_sqlite, session_factory

log = logging.getLogger("lumina")


def build_services(settings: Settings, *, clock: Clock = utc_now) -> Services:
    engine = create_engine(settings.resolved_database_url)
    wakeup = Wakeup()  # the delivery job connects to it once the bot exists
    sessions = session_factory(engine)
    fetcher = FeedFetcher(
        FetchConfig(
            max_body_bytes=settings.feed_max_bytes,
            max_concurrency=settings.feed_concurrency,
            per_host_concurrency=settings.feed_per_host,
            allow_private=settings.allow_private_feeds,
        )
    )
    syncer = FeedSyncer(
        sessions,
        fetcher,
        policy=Policy(
            absences_to_cancel=settings.cancel_after_absences,
            min_absence_span=timedelta(minutes=settings.cancel_min_gap_minutes),
        ),
        health=HealthPolicy(
            failures_for_trouble=settings.feed_trouble_failures, stale_after=timedelta(hours=settings.feed_stale_hours)
        ),
        schedule=SyncSchedule(
            interval=timedelta(seconds=settings.sync_interval), jitter=timedelta(seconds=settings.sync_jitter)
        ),
        clock=clock,
        serialize_writes=is_sqlite(settings.resolved_database_url),
        on_alerts=wakeup,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        syncer=syncer,
        fetcher=fetcher,
        clock=clock,
        outbox_wakeup=wakeup,
    )


def build_delivery(services: Services, bot: Bot) -> Delivery:
    settings = services.settings
    timeout = settings.delivery_send_timeout
    config = DeliveryConfig(
        global_rate=settings.delivery_global_rate,
        chat_rate=settings.delivery_chat_rate,
        interval=settings.delivery_interval,
        lease=timeout + 90,  # longer than any claim can wait for a slot (10 s) plus a send
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
    )
    return ReminderJob(services.sessions, config=config, clock=services.clock, on_queued=services.outbox_wakeup)


def build_dispatcher(services: Services) -> Dispatcher:
    dp = Dispatcher(services=services)
    dp.update.outer_middleware(UnitOfWorkMiddleware(services.sessions))
    dp.update.outer_middleware(
        AccessMiddleware(
            owner_ids=frozenset(services.settings.owner_ids),
            default_locale=services.settings.default_locale,
            clock=services.clock,
        )
    )
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
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            self._record(ok=not _is_network_error(exc), error=type(exc).__name__)
            raise
        self._record(ok=True, error=None)
        return response

    def _record(self, *, ok: bool, error: str | None) -> None:
        self._health.telegram_ok, self._health.telegram_error = ok, error
        self._health.telegram_checked_at = self._clock()


def _is_network_error(exc: Exception) -> bool:
    from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramServerError

    # An API error (say 400) proves Telegram answered; these mean it did not, or a proxy answered instead.
    return isinstance(exc, TelegramNetworkError | TelegramServerError | ClientDecodeError | asyncio.TimeoutError)


def create_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
        if settings.telegram_api_base
        else AiohttpSession()
    )
    return Bot(
        settings.bot_token.get_secret_value(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


class Application:
    """Everything `lumina run` runs: the bot (long polling), the scheduler and the web app."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.services = build_services(settings, clock=clock)
        self.bot = create_bot(settings)
        self.bot.session.middleware(TelegramHealthMiddleware(self.services.health, clock))
        self.dispatcher = build_dispatcher(self.services)
        self.delivery = build_delivery(self.services, self.bot)
        self.reminders = build_reminders(self.services)
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._runner: web.AppRunner | None = None
        self._polling: asyncio.Task[Any] | None = None
        self.setup_code: str | None = None
        self.port: int | None = None

    async def start(self) -> None:
        await self._start_web()
        if not self.settings.owner_ids:  # with pre-authorized owners nobody needs a code
            async with self.services.sessions.begin() as session:
                self.setup_code = await access.issue_setup_code(session)
        if self.setup_code is not None:
            await self._announce_setup_code(self.setup_code)
        self._start_scheduler()
        with contextlib.suppress(Exception):  # Telegram may be down at start; polling retries on its own
            await publish_commands(self.bot, self.settings.default_locale)
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False)
        )

    async def _start_web(self) -> None:
        self._runner = web.AppRunner(create_web_app(self.services), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.http_port
        log.info("web app listening", extra={"host": self.settings.http_host, "port": self.port})

    def _start_scheduler(self) -> None:
        self.scheduler.add_job(
            self.services.syncer.sync_due, "interval", seconds=30, id="sync_due", max_instances=1, coalesce=True
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
        self.scheduler.start()
        self.services.health.scheduler_running = True
        # The outbox is delivered by its own long-lived task, not an APScheduler job: a pass can rightly last
        # minutes under Telegram's rate limits, and an interval job would pile up "skipped" runs meanwhile. It
        # wakes on new rows (wake()) and every delivery_interval seconds.
        self.delivery.start()

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
        await self.delivery.stop()  # before the bot session closes: sends on the wire are finished and recorded
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.services.health.scheduler_running = False
        if self._runner is not None:
            await self._runner.cleanup()
        await self.services.fetcher.aclose()
        await self.bot.session.close()
        await self.services.engine.dispose()
