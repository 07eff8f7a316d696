"""Polling the feeds: fetch, then hand the downloads to domain.feed_sync.

Downloads that change nothing are recorded many feeds per transaction (domain.feed_sync.record_quiet); every other
one gets its own transaction (apply_download), so one feed's failure never undoes another's sync.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.calendar.parse import ParseCache
from domain.calendar.reconcile import Policy
from domain.feed_sync import Arrival, Download, HealthPolicy, SyncOutcome, apply_download, record_quiet
from jobs.clock import Clock, utc_now
from jobs.fetch import FetchResult
from jobs.metrics import ALERTS, FEED_DOWNLOADS, SYNC_SECONDS
from storage import repositories, sync_rows

# How long a claimed feed is left to the instance that claimed it: well over one sync of thousands of feeds.
CLAIM_LEASE = timedelta(minutes=15)
CLAIM_BATCH = 500  # feeds claimed at a time: instances share a big backlog instead of one taking it all

log = logging.getLogger("lumina.sync")

Progress = Callable[[int, int, SyncOutcome], Awaitable[None]]
# Downloads recorded per write batch at most: the batch holds SQLite's write lock for one short transaction.
WRITE_BATCH = 100


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
        parse_cache: ParseCache | None = None,
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
        # Each feed's last download, cut into events, so that the next one only parses what changed.
        self._parse_cache = parse_cache if parse_cache is not None else ParseCache()

    async def sync_feed(self, feed_id: int) -> SyncOutcome | None:
        """Fetch and record one feed now; None if it does not exist or is disabled. Errors propagate."""
        async with self._sessions() as session:
            targets = await repositories.fetch_targets(session, [feed_id])
        if not targets:
            return None
        target = targets[0]
        result = await self._fetcher.fetch(target.url, etag=target.etag, last_modified=target.last_modified)
        return await self.record(feed_id, as_download(result))

    async def record(self, feed_id: int, download: Download) -> SyncOutcome:
        """Write what a download of this feed means. Errors propagate."""
        [(_feed_id, outcome)] = await self._write_batch([(feed_id, download)])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def sync_feeds(self, feed_ids: Sequence[int], progress: Progress | None = None) -> list[SyncOutcome]:
        """Fetch concurrently (the fetcher enforces its limits) and record the downloads as they arrive: while one
        batch is written, the next one gathers. A feed that crashes is logged and left out; the others go on."""
        async with self._sessions() as session:
            targets = await repositories.fetch_targets(session, feed_ids)
        arrived: asyncio.Queue[tuple[int, Download] | None] = asyncio.Queue()

        async def fetch_one(feed_id: int, url: str, etag: str | None, last_modified: str | None) -> None:
            try:
                result = await self._fetcher.fetch(url, etag=etag, last_modified=last_modified)
            except Exception:  # one broken feed must never stop the others
                log.exception("feed sync crashed", extra={"feed_id": feed_id})
                return
            arrived.put_nowait((feed_id, as_download(result)))

        async def fetch_all() -> None:
            try:
                await asyncio.gather(*(fetch_one(t.id, t.url, t.etag, t.last_modified) for t in targets))
            finally:
                arrived.put_nowait(None)  # no more downloads

        fetching = asyncio.create_task(fetch_all())
        done: list[SyncOutcome] = []
        started = time.perf_counter()
        try:
            finished = False
            while not finished:
                batch, finished = await _next_batch(arrived)
                for feed_id, outcome in await self._write_batch(batch):
                    if isinstance(outcome, BaseException):
                        log.error("feed sync crashed", exc_info=outcome, extra={"feed_id": feed_id})
                        continue
                    done.append(outcome)
                    if progress is not None:
                        await progress(len(done), len(feed_ids), outcome)
        finally:
            if not fetching.done():
                fetching.cancel()
            await asyncio.gather(fetching, return_exceptions=True)
            if targets:
                SYNC_SECONDS.observe(time.perf_counter() - started)
        return done

    async def _write_batch(
        self, batch: Sequence[tuple[int, Download]]
    ) -> list[tuple[int, SyncOutcome | BaseException]]:
        """Record downloads: those that change nothing first, together in one transaction, then the others in order
        of arrival, one feed per transaction. Returns an outcome, or the error that stopped it, per download."""
        if not batch:
            return []
        arrivals = [Arrival.of(feed_id, download) for feed_id, download in batch]
        try:
            quiet, rest = await self._record_quiet(arrivals)
        except Exception:  # e.g. the database went away for a moment: try each feed on its own
            log.exception("recording unchanged downloads failed", extra={"feeds": len(arrivals)})
            quiet, rest = [], arrivals
        results: list[tuple[int, SyncOutcome | BaseException]] = [(o.feed_id, o) for o in quiet]
        for arrival in rest:
            try:
                results.append((arrival.feed_id, await self._apply(arrival)))
            except Exception as exc:  # handed to the caller, which logs or raises it
                results.append((arrival.feed_id, exc))
        outcomes = [outcome for _feed_id, outcome in results if isinstance(outcome, SyncOutcome)]
        for outcome in outcomes:
            FEED_DOWNLOADS.labels(outcome.outcome, outcome.reason or "", outcome.platform or "unknown").inc()
        ALERTS.labels("queued").inc(sum(outcome.alerts for outcome in outcomes))
        for outcome in outcomes:
            log.info(
                "feed synced",
                extra={
                    "feed_id": outcome.feed_id,
                    "outcome": outcome.outcome,
                    "reason": outcome.reason,
                    "counts": outcome.counts,
                    "alerts": outcome.alerts,
                },
            )
        if any(outcome.alerts for outcome in outcomes) and self._on_alerts is not None:
            self._on_alerts()
        return results

    async def _record_quiet(self, arrivals: list[Arrival]) -> tuple[list[SyncOutcome], list[Arrival]]:
        async with self._writing():
            now = self._clock()
            timed = [replace(arrival, next_sync_at=now + self._next_delay()) for arrival in arrivals]
            async with self._sessions.begin() as session:
                return await record_quiet(session, timed, now=now)

    async def _apply(self, arrival: Arrival) -> SyncOutcome:
        """One download that changes something (or may), in its own transaction."""
        async with self._writing():
            now = self._clock()
            async with self._sessions.begin() as session:
                return await apply_download(
                    session,
                    arrival.feed_id,
                    arrival.download,
                    now=now,
                    policy=self._policy,
                    health=self._health,
                    parse_cache=self._parse_cache,
                    fingerprint=arrival.fingerprint,
                    next_sync_at=now + self._next_delay(),
                )

    def _writing(self) -> AbstractAsyncContextManager[object]:
        """The write lock, around each write transaction, when writes are serialized (SQLite)."""
        return self._write_lock if self._write_lock is not None else nullcontext()

    def _next_delay(self) -> timedelta:
        jitter = self._schedule.jitter.total_seconds()
        return self._schedule.interval + timedelta(seconds=random.uniform(0, jitter) if jitter else 0)

    async def feeds_of(self, property_ids: Sequence[int] | None = None) -> list[int]:
        async with self._sessions() as session:
            return await sync_rows.live_feeds(session, property_ids)

    async def sync_due(self) -> list[SyncOutcome]:
        """The scheduled job: every enabled feed whose next poll time has come, a claimed batch at a time, so that
        several instances on one PostgreSQL share the feeds and fetch each once. Recording a download sets the feed's
        real next time; the feeds of an instance that dies mid-sync are due again when their lease ends."""
        outcomes: list[SyncOutcome] = []
        while due := await self._claim_due():
            outcomes += await self.sync_feeds(due)
        return outcomes

    async def _claim_due(self) -> list[int]:
        """This instance's share of the due feeds (storage.sync_rows.claim_due_feeds: never a feed twice)."""
        async with self._writing(), self._sessions.begin() as session:
            return await sync_rows.claim_due_feeds(session, now=self._clock(), limit=CLAIM_BATCH, lease=CLAIM_LEASE)


async def _next_batch(
    arrived: asyncio.Queue[tuple[int, Download] | None],
) -> tuple[list[tuple[int, Download]], bool]:
    """Wait for one download, then take every other one already there (up to WRITE_BATCH). True once the end
    marker is reached: no download follows."""
    batch: list[tuple[int, Download]] = []
    item = await arrived.get()
    while item is not None:
        batch.append(item)
        if len(batch) >= WRITE_BATCH or arrived.empty():
            return batch, False
        item = arrived.get_nowait()
    return batch, True
