"""The once-a-minute job: daily summaries, check-in and check-out reminders, conflicts whose snooze ended, the
periodic turnover refresh, and (hourly) forgetting finished outbox rows.

Each run asks the pure "what is due at this instant" functions of the domain and queues the answers with
idempotency keys (summary:<user>:<local date>, checkin:<booking>:<date>:<user>, ...), so a restart, a second run
or a second instance never doubles anything. Delivery (quiet hours included) is the outbox job's business.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.alerts import prune_outbox
from domain.audit import prune_audit
from domain.conflict_actions import wake_snoozed
from domain.monthly_stats import queue_monthly
from domain.reminders import ReminderTimes, queue_reminders
from domain.summary import GRACE, queue_summaries
from domain.turnovers import refresh_all
from jobs.clock import Clock, utc_now
from jobs.metrics import ALERTS

log = logging.getLogger("lumina.reminders")


@dataclass(frozen=True, slots=True)
class ReminderConfig:
    times: ReminderTimes = ReminderTimes()
    default_timezone: str = "America/Sao_Paulo"
    summary_grace: timedelta = GRACE
    turnover_refresh: timedelta = timedelta(minutes=5)
    keep_outbox: timedelta = timedelta(days=30)  # finished outbox rows older than this are deleted, hourly
    keep_audit: timedelta = timedelta(days=730)  # audit events older than this are deleted, hourly


@dataclass(slots=True)
class ReminderRun:
    summaries: int = 0
    reminders: int = 0
    turnovers: int = 0
    snoozes: int = 0
    pruned: int = 0
    audit_pruned: int = 0

    @property
    def total(self) -> int:
        return self.summaries + self.reminders + self.turnovers + self.snoozes


class ReminderJob:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        config: ReminderConfig = ReminderConfig(),
        clock: Clock = utc_now,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._on_queued = on_queued
        self._zone = ZoneInfo(config.default_timezone)
        self._turnovers_at: datetime | None = None
        self._pruned_at: datetime | None = None

    async def run(self) -> ReminderRun:
        now = self._clock()
        run = ReminderRun()
        async with self._sessions.begin() as session:
            run.summaries = await queue_summaries(
                session, now=now, default_zone=self._zone, grace=self._config.summary_grace
            )
            run.summaries += await queue_monthly(
                session, now=now, default_zone=self._zone, grace=self._config.summary_grace
            )
            run.reminders = await queue_reminders(session, now=now, times=self._config.times)
            run.snoozes = await wake_snoozed(session, now=now)
            if self._turnovers_at is None or now - self._turnovers_at >= self._config.turnover_refresh:
                run.turnovers = await refresh_all(session, now=now)
                self._turnovers_at = now
            if self._pruned_at is None or now - self._pruned_at >= timedelta(hours=1):
                run.pruned = await prune_outbox(session, before=now - self._config.keep_outbox)
                run.audit_pruned = await prune_audit(session, before=now - self._config.keep_audit)
                self._pruned_at = now
        if run.total:
            ALERTS.labels("queued").inc(run.total)
            log.info(
                "reminders queued",
                extra={
                    "summaries": run.summaries,
                    "reminders": run.reminders,
                    "turnovers": run.turnovers,
                    "snoozes": run.snoozes,
                },
            )
            if self._on_queued is not None:
                self._on_queued()
        return run
