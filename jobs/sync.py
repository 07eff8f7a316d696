"""Polling the feeds: fetch, then hand the download to domain.feed_sync in one transaction per feed."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.calendar.reconcile import Policy
from domain.feed_sync import Download, HealthPolicy, SyncOutcome, apply_download
from jobs.clock import Clock, utc_now
from jobs.fetch import FetchResult
from storage.models import Feed, Property

log = logging.getLogger("lumina.sync")

Progress = Callable[[int, int, SyncOutcome], Awaitable[None]]


class Fetcher(Protocol):
    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult: ...


@dataclass(frozen=True, slots=True)
class SyncSchedule:
    interval: timedelta = timedelta(minutes=10)
    jitter: timedelta = timedelta(minutes=1)


def as_download(result: FetchResult) -> Download:
    return Download(
        status=result.status,
        body=result.body,
        reason=result.reason,
        detail=result.detail,
        http_status=result.http_status,
        etag=result.etag,
        last_modified=result.last_modified,
    )


class FeedSyncer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        *,
        policy: Policy = Policy(),
        health: HealthPolicy = HealthPolicy(),
        schedule: SyncSchedule = SyncSchedule(),
        clock: Clock = utc_now,
        serialize_writes: bool = True,
        on_alerts: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._fetcher = fetcher
        self._policy = policy
        self._health = health
        self._schedule = schedule
        self._clock = clock
        # SQLite has one writer: queue the short write transactions instead of letting them fight for the lock.
        self._write_lock = asyncio.Lock() if serialize_writes else None
        self._on_alerts = on_alerts

    async def sync_feed(self, feed_id: int) -> SyncOutcome | None:
        async with self._sessions() as session:
            feed = await session.get(Feed, feed_id)
            if feed is None or not feed.enabled:
                return None
            url, etag, modified = feed.url, feed.etag, feed.last_modified
        result = await self._fetcher.fetch(url, etag=etag, last_modified=modified)
        return await self.record(feed_id, as_download(result))

    async def record(self, feed_id: int, download: Download) -> SyncOutcome:
        """Write what a download of this feed means, one feed at a time on SQLite."""
        if self._write_lock is None:
            return await self._write(feed_id, download)
        async with self._write_lock:
            return await self._write(feed_id, download)

    async def _write(self, feed_id: int, download: Download) -> SyncOutcome:
        now = self._clock()
        async with self._sessions.begin() as session:
            outcome = await apply_download(
                session, feed_id, download, now=now, policy=self._policy, health=self._health
            )
            feed = await session.get(Feed, feed_id)
            assert feed is not None
            feed.next_sync_at = now + self._next_delay()
        log.info(
            "feed synced",
            extra={
                "feed_id": feed_id,
                "outcome": outcome.outcome,
                "reason": outcome.reason,
                "counts": outcome.counts,
                "alerts": outcome.alerts,
            },
        )
        if outcome.alerts and self._on_alerts is not None:
            self._on_alerts()
        return outcome

    def _next_delay(self) -> timedelta:
        jitter = self._schedule.jitter.total_seconds()
        return self._schedule.interval + timedelta(seconds=random.uniform(0, jitter) if jitter else 0)

    async def sync_feeds(self, feed_ids: Sequence[int], progress: Progress | None = None) -> list[SyncOutcome]:
        """Fetch concurrently (the fetcher enforces its limits), write one feed at a time as each arrives."""
        done: list[SyncOutcome] = []

        async def one(feed_id: int) -> None:
            try:
                outcome = await self.sync_feed(feed_id)
            except Exception:  # one broken feed must never stop the others
                log.exception("feed sync crashed", extra={"feed_id": feed_id})
                return
            if outcome is not None:
                done.append(outcome)
                if progress is not None:
                    await progress(len(done), len(feed_ids), outcome)

        await asyncio.gather(*(one(feed_id) for feed_id in feed_ids))
        return done

    async def feeds_of(self, property_ids: Sequence[int] | None = None) -> list[int]:
        query = select(Feed.id).join(Property).where(Feed.enabled.is_(True), Property.archived_at.is_(None))
        if property_ids is not None:
            query = query.where(Feed.property_id.in_(property_ids))
        async with self._sessions() as session:
            return list((await session.scalars(query.order_by(Feed.id))).all())

    async def sync_due(self) -> list[SyncOutcome]:
        """The scheduled job: every enabled feed whose next poll time has come."""
        now = self._clock()
        query = (
            select(Feed.id)
            .join(Property)
            .where(
                Feed.enabled.is_(True),
                Property.archived_at.is_(None),
                or_(Feed.next_sync_at.is_(None), Feed.next_sync_at <= now),
            )
            .order_by(Feed.next_sync_at.nulls_first(), Feed.id)
        )
        async with self._sessions() as session:
            due = list((await session.scalars(query)).all())
        return await self.sync_feeds(due) if due else []
