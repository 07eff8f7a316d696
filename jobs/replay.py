"""`lumina replay`: feed saved downloads through the real sync path, in time order, into a throwaway database.

Each DIR is one feed of one property; every file is one download named by its UTC fetch time
(20251208T073012Z.ics). This is how support answers "why did LUMINA say that?".
"""

from __future__ import annotations

import heapq
import json
import re
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from domain.conflict_check import ConflictEvent
from domain.feed_sync import SyncOutcome
from jobs.fetch import FetchResult
from jobs.sync import FeedSyncer, SyncSchedule
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import BookingChange, Feed, Property

_STAMP = re.compile(r"^(\d{8}T\d{6}Z)")


class ReplayError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    feed: str
    path: Path


def snapshots(dirs: Sequence[Path]) -> Iterator[Snapshot]:
    """All downloads of all feeds, merged in fetch-time order."""
    per_feed: list[list[Snapshot]] = []
    for folder in dirs:
        if not folder.is_dir():
            raise ReplayError(f"{folder} is not a folder")
        found = []
        for path in sorted(folder.iterdir()):
            match = _STAMP.match(path.name)
            if match:
                at = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                found.append(Snapshot(at, folder.name, path))
        if not found:
            raise ReplayError(f"{folder} holds no file named like 20251208T073012Z.ics")
        per_feed.append(found)
    yield from heapq.merge(*per_feed, key=lambda s: (s.at, s.feed))


class _SnapshotFetcher:
    """Answers the syncer's fetch with the snapshot being replayed."""

    def __init__(self) -> None:
        self.body = b""

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        return FetchResult(status="ok", body=self.body, http_status=200, final_url=url)


class _ReplayClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def run_replay(dirs: Sequence[Path], *, platform: str, timezone: str, as_json: bool, out: TextIO) -> int:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReplayError(f"unknown time zone {timezone!r}") from None
    names = [folder.name for folder in dirs]
    if len(set(names)) != len(names):
        raise ReplayError("two folders have the same name; each feed needs its own")
    plan = list(snapshots(dirs))
    with tempfile.TemporaryDirectory(prefix="lumina-replay-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'replay.sqlite3'}"
        migrate.upgrade(url)
        engine = create_engine(url)
        try:
            return await _replay(engine, plan, names, platform=platform, timezone=timezone, as_json=as_json, out=out)
        finally:
            await engine.dispose()


async def _replay(
    engine: Any, plan: list[Snapshot], names: list[str], *, platform: str, timezone: str, as_json: bool, out: TextIO
) -> int:
    sessions = session_factory(engine)
    fetcher, clock = _SnapshotFetcher(), _ReplayClock()
    syncer = FeedSyncer(sessions, fetcher, clock=clock, schedule=SyncSchedule())
    async with sessions.begin() as session:
        prop = Property(name="replay", timezone=timezone, export_token=secrets.token_urlsafe(24))
        session.add(prop)
        await session.flush()
        feed_ids = {}
        for name in names:
            feed = Feed(
                property_id=prop.id,
                url=f"replay://{name}",
                label=name,
                platform=platform if platform != "auto" else "other",
            )
            session.add(feed)
            await session.flush()
            feed_ids[name] = feed.id

    totals = {
        "snapshots": 0,
        "failed": 0,
        "suspicious": 0,
        "alerts": 0,
        "changes": 0,
        "conflicts_opened": 0,
        "conflicts_closed": 0,
    }
    feed_names = {feed_id: name for name, feed_id in feed_ids.items()}
    writer = _Writer(out, as_json)
    for snap in plan:
        fetcher.body, clock.now = snap.path.read_bytes(), snap.at
        outcome = await syncer.sync_feed(feed_ids[snap.feed])
        assert outcome is not None
        totals["snapshots"] += 1
        totals["failed"] += outcome.outcome == "failed"
        totals["suspicious"] += outcome.outcome == "suspicious"
        if outcome.outcome == "failed":
            writer.failure(snap, outcome)
        for change in await _changes(sessions, outcome):
            totals["changes"] += 1
            totals["alerts"] += change.alert
            writer.change(snap, change)
        for event in outcome.conflicts:
            totals["conflicts_" + event.event] += 1
            totals["alerts"] += event.alert
            writer.conflict(snap, event, feed_names)
    writer.summary(totals)
    return 0


async def _changes(sessions: Any, outcome: SyncOutcome) -> list[BookingChange]:
    async with sessions() as session:
        query = select(BookingChange).where(BookingChange.sync_run_id == outcome.run_id).order_by(BookingChange.id)
        return list((await session.scalars(query)).all())


class _Writer:
    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out, self.as_json = out, as_json
        if not as_json:
            print(f"{'at':<20} {'feed':<18} {'change':<10} {'kind':<12} {'dates':<23} {'was':<23} alert", file=out)

    def change(self, snap: Snapshot, change: BookingChange) -> None:
        after, before = change.after or {}, change.before
        record: dict[str, Any] = {
            "at": _iso(snap.at),
            "feed": snap.feed,
            "change": change.change,
            "kind": change.kind,
            "uid": change.uid,
            "previous_uid": change.previous_uid,
            "check_in": after.get("check_in"),
            "check_out": after.get("check_out"),
            "previous": before,
            "alert": change.alert,
        }
        if self.as_json:
            print(json.dumps(record), file=self.out)
            return
        dates = f"{record['check_in']}..{record['check_out']}"
        was = f"{before['check_in']}..{before['check_out']}" if before else ""
        print(
            f"{record['at']:<20} {snap.feed[:18]:<18} {change.change:<10} {change.kind:<12} {dates:<23} "
            f"{was:<23} {'yes' if change.alert else ''}",
            file=self.out,
        )

    def conflict(self, snap: Snapshot, event: ConflictEvent, feed_names: dict[int, str]) -> None:
        stays: list[dict[str, Any]] = [
            {
                "feed": feed_names.get(b.feed_id or 0, "direct"),
                "uid": b.uid,
                "check_in": b.check_in.isoformat(),
                "check_out": b.check_out.isoformat(),
            }
            for b in event.stays
        ]
        record = {
            "at": _iso(snap.at),
            "conflict": event.event,
            "class": event.klass,
            "stays": stays,
            "alert": event.alert,
        }
        if self.as_json:
            print(json.dumps(record), file=self.out)
            return
        pair = " x ".join(f"{s['feed'][:12]} {s['check_in']}..{s['check_out']}" for s in stays)
        print(
            f"{record['at']:<20} conflict {event.event:<6} {event.klass:<14} {pair} {'yes' if event.alert else ''}",
            file=self.out,
        )

    def failure(self, snap: Snapshot, outcome: SyncOutcome) -> None:
        if self.as_json:
            print(json.dumps({"at": _iso(snap.at), "feed": snap.feed, "failed": outcome.reason}), file=self.out)
        else:
            print(f"{_iso(snap.at):<20} {snap.feed[:18]:<18} failed: {outcome.reason}", file=self.out)

    def summary(self, totals: dict[str, int]) -> None:
        if self.as_json:
            print(json.dumps({"summary": totals}), file=self.out)
        else:
            print(", ".join(f"{key}: {value}" for key, value in totals.items()), file=self.out)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")
