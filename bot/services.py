"""What handlers, jobs and the web app share, built once by the composition root (bot/app.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from jobs.clock import Clock, utc_now
from jobs.delivery import Wakeup
from jobs.fetch import FeedFetcher
from jobs.sync import FeedSyncer


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
