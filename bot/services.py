"""What handlers, jobs and the web app share. Built without importing aiogram, so `lumina run` can answer
/health while the bot (a slow import on small machines) is still loading."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from domain.calendar.reconcile import Policy
from domain.feed_sync import HealthPolicy
from domain.time import person_today
from jobs.clock import Clock, utc_now
from jobs.delivery import Wakeup
from jobs.fetch import FeedFetcher, FetchConfig
from jobs.sync import FeedSyncer, SyncSchedule
from storage.db import create_engine, is_sqlite, session_factory
from storage.models import User


@dataclass
class Health:
    """Facts /ready reports: set by the Telegram session middleware and the scheduler."""

    telegram_ok: bool | None = None  # None: not tried yet
    telegram_checked_at: datetime | None = None
    telegram_error: str | None = None
    scheduler_running: bool = False


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    syncer: FeedSyncer
    fetcher: FeedFetcher
    clock: Clock = utc_now
    health: Health = field(default_factory=Health)
    outbox_wakeup: Wakeup = field(default_factory=Wakeup)  # call after queuing alerts: delivery starts at once
    mail_wakeup: Wakeup = field(default_factory=Wakeup)  # call after queuing mails: the mail job starts at once
    # Webhook mode: takes one update as Telegram posted it (set by the Application once the bot runs).
    webhook: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    @property
    def default_zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.default_timezone)

    async def today_for(self, session: AsyncSession, user: User) -> date:
        """The date it is now for this person, in their zone (domain.time.person_today): what /today, /upcoming,
        /free, /documents and /stats start from, the same day as their morning summary."""
        return await person_today(session, user, self.clock(), self.default_zone)


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
