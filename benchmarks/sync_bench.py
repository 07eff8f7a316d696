"""Sync benchmark for "Calendar sync that never cries wolf" (figures and analysis: benchmarks/README.md).

1,000 feeds x 40 events (60% Airbnb-shaped, 40% Booking.com-shaped), one property per feed, served without ETag
from a FeedServer on 127.0.0.1 running in a child process (so its CPU is not counted), synced by the production
FeedSyncer + FeedFetcher into a freshly migrated SQLite database with one owner (so alert rows are written).

Phases, each timed in wall and CPU (time.process_time: every thread of this process, the aiosqlite one included):
  floor                icalendar.Calendar.from_ical(body) over the 1,000 bodies of the "changed" phase, nothing else
  full                 first sync: every feed new, 40,000 bookings inserted
  unchanged            every feed re-downloaded with only DTSTAMP changed (the batched, no-parse path)
  changed              every feed re-downloaded with one stay's dates moved: parse (incremental) + reconcile + write +
                       alert + conflict check
  changed, cold cache  the stay moves back, in a new FeedSyncer (as after a restart): every event parsed again
  fetch only           the same 1,000 downloads through the same fetcher, no database, no parsing
  floor, again         the floor once more at the end: the machine's speed drifts over a run
Every sync phase is also bracketed by a quarter of the floor (before and after) to compare it with the floor as it
was around it ("local floor"). Every phase checks that each feed had exactly the expected outcome. The loop-thread
CPU of each sync is split by step (see Ledger); ru_maxrss is the process's high-water mark. --memory runs the syncs
under tracemalloc instead.

    .venv/bin/python benchmarks/sync_bench.py                                # the benchmark (~90 s of CPU)
    .venv/bin/python benchmarks/sync_bench.py --memory --feeds 250           # tracemalloc peaks, what outcomes hold
    .venv/bin/python benchmarks/sync_bench.py --profile changed --feeds 250  # cProfile one phase (thread-CPU timer)
    .venv/bin/python benchmarks/sync_bench.py --what-if-sniffio              # as if sniffio were installed (README)
    .venv/bin/python benchmarks/sync_bench.py --json out.json                # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import hashlib
import inspect
import io
import json
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from icalendar import Calendar  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import domain.calendar.parse  # noqa: E402
import domain.conflict_check  # noqa: E402
import domain.feed_sync  # noqa: E402
import jobs.sync  # noqa: E402
import storage.repositories  # noqa: E402
from domain.calendar.parse import ParseCache  # noqa: E402
from domain.feed_sync import SyncOutcome  # noqa: E402
from jobs.fetch import FeedFetcher, FetchConfig  # noqa: E402
from jobs.sync import FeedSyncer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Booking, BookingChange, Feed, Outbox, Property, User  # noqa: E402
from tests.support.ical_builder import Stay, airbnb, booking  # noqa: E402

START = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)  # 07:00 in São Paulo: local today is 2026-08-01
TODAY = date(2026, 8, 1)
TIMEZONE = "America/Sao_Paulo"
HORIZON_DAYS = 365
AIRBNB_SHARE = 0.6
BLOCK_SHARE = 0.15  # of Airbnb events; Booking.com exports guests and closures alike as "CLOSED - Not available"
WINDOW_SHARE = 0.5  # of Airbnb feeds: the last event is an availability-window block reaching the horizon
# The body served in each phase: (DTSTAMP, whether the moved stay is one night shorter). Every phase has a new
# DTSTAMP, like every real download. Phases 3 (dates back: a change) and 4 (DTSTAMP only) are the tracemalloc round.
PHASES: dict[int, tuple[str, bool]] = {
    0: ("20260801T100000Z", False),
    1: ("20260801T101000Z", False),
    2: ("20260801T102000Z", True),
    3: ("20260801T103000Z", False),
    4: ("20260801T104000Z", False),
}
FLOOR_PHASE = 2  # the floor parses the very bytes the "changed" sync parses

# ---------------------------------------------------------------------------------------------- the feeds


@dataclass(frozen=True, slots=True)
class FeedSpec:
    index: int
    platform: str  # airbnb | booking
    path: str
    stays: tuple[Stay, ...]
    moved: int  # index in stays of the reservation whose check-out moves one day earlier in the "changed" phases


def _code(rng: random.Random) -> str:
    return "HM" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=8))


def _uid(rng: random.Random, platform: str) -> str:
    if platform == "airbnb":
        return f"1418fb94e984-{rng.getrandbits(128):032x}@airbnb.com"
    return f"{rng.getrandbits(128):032x}@booking.com"


def _nights(rng: random.Random, count: int) -> list[int]:
    nights = [rng.randint(1, 10) for _ in range(count)]
    while sum(nights) + count - 1 > HORIZON_DAYS - 5:  # keep at least one free night between stays
        i = rng.randrange(count)
        nights[i] = max(1, nights[i] - 1)
    return nights


def build_feed(index: int, seed: int, events: int) -> FeedSpec:
    rng = random.Random(f"{seed}:{index}")
    platform = "airbnb" if rng.random() < AIRBNB_SHARE else "booking"
    window = platform == "airbnb" and rng.random() < WINDOW_SHARE
    count = events - 1 if window else events
    nights = _nights(rng, count)
    slack = HORIZON_DAYS - 5 - sum(nights) - (count - 1)
    weights = [rng.random() for _ in range(count + 1)]
    total = sum(weights)
    gaps = [int(slack * w / total) for w in weights]
    stays: list[Stay] = []
    day = TODAY + timedelta(days=gaps[0])
    for i, n in enumerate(nights):
        blocked = platform == "airbnb" and rng.random() < BLOCK_SHARE
        code, phone = _code(rng), f"{rng.randrange(10_000):04d}"
        stays.append(Stay(_uid(rng, platform), day, day + timedelta(days=n), blocked, code, phone))
        day += timedelta(days=n + 1 + gaps[i + 1])
    if window:  # Airbnb's "not available after N months" block, ending at its 366-day export horizon
        start = max(stays[-1].check_out + timedelta(days=1), TODAY + timedelta(days=300))
        stays.append(Stay(_uid(rng, platform), start, TODAY + timedelta(days=366), blocked=True))
    movable = [i for i, s in enumerate(stays) if not s.blocked and (s.check_out - s.check_in).days >= 2]
    if not movable:  # vanishingly rare: make the first stay a two-night reservation
        stays[0] = replace(stays[0], check_out=stays[0].check_in + timedelta(days=2), blocked=False)
        movable = [0]
    token = f"{rng.getrandbits(64):016x}"
    path = f"/calendar/ical/{index}-{token}.ics" if platform == "airbnb" else f"/v1/export/{index}-{token}.ics"
    return FeedSpec(index, platform, path, tuple(stays), rng.choice(movable))


def build_feeds(count: int, seed: int, events: int) -> list[FeedSpec]:
    return [build_feed(i, seed, events) for i in range(count)]


def body_of(spec: FeedSpec, phase: int) -> bytes:
    stamp, shortened = PHASES[phase]
    stays = list(spec.stays)
    if shortened:  # one night less: a DTEND-only change keeps the UID on every platform (ICAL_FACTS §2.2)
        stay = stays[spec.moved]
        stays[spec.moved] = replace(stay, check_out=stay.check_out - timedelta(days=1))
    render = airbnb if spec.platform == "airbnb" else booking
    return render(stays, stamp=stamp)


def digest(bodies: list[bytes]) -> str:
    h = hashlib.sha256()
    for b in bodies:
        h.update(hashlib.sha256(b).digest())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- the server child


async def _serve(count: int, seed: int, events: int) -> None:
    from tests.support.feed_server import FeedServer

    specs = build_feeds(count, seed, events)
    loop = asyncio.get_running_loop()
    async with FeedServer() as server:
        print(f"port {server.port}", flush=True)
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "quit":
                print(f"bye {sum(server.hits.values())}", flush=True)
                return
            phase = int(line[1])
            bodies = [body_of(spec, phase) for spec in specs]
            for spec, body in zip(specs, bodies, strict=True):
                server.route(spec.path, body=body)  # no ETag, no Last-Modified: what the platforms do
            print(f"ready {phase} {digest(bodies)} {sum(server.hits.values())}", flush=True)


class ServerProcess:
    """The FeedServer in a child process, driven over stdin/stdout."""

    def __init__(self, count: int, seed: int, events: int) -> None:
        args = [sys.executable, __file__, "--serve", "--feeds", str(count), "--seed", str(seed)]
        self._proc = subprocess.Popen(
            [*args, "--events", str(events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=ROOT,
        )
        word, port = self._read().split()
        assert word == "port", word
        self.port = int(port)
        self.hits = 0

    def _read(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"feed server exited with {self._proc.wait()}")
        return line.strip()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def phase(self, phase: int) -> str:
        assert self._proc.stdin is not None
        self._proc.stdin.write(f"phase {phase}\n")
        self._proc.stdin.flush()
        word, got, body_digest, hits = self._read().split()
        assert word == "ready" and int(got) == phase, (word, got)
        self.hits = int(hits)
        return body_digest

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write("quit\n")
                self._proc.stdin.flush()
                self.hits = int(self._read().split()[1])
                self._proc.wait(timeout=10)
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()


# ---------------------------------------------------------------------------------------------- measuring


@dataclass
class Measure:
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the whole process, every thread
    loop_cpu_s: float = 0.0  # the event-loop thread; the rest is the aiosqlite worker thread(s)
    peak_mb: float | None = None  # tracemalloc peak during the phase (--memory)
    retained_mb: float | None = None  # tracemalloc: still allocated at the end, while sync_feeds' result is alive
    outcomes_mb: float | None = None  # tracemalloc: freed by dropping sync_feeds' list of outcomes
    maxrss_mb: float = 0.0  # the process's high-water mark so far
    split: dict[str, float] = field(default_factory=dict)  # loop-thread CPU of instrumented pure steps
    verified: str = ""
    local_floor_s: float | None = None  # the floor's CPU at the time of this phase, from probes around it
    sys_s: float = 0.0  # of cpu_s, time in the kernel (system calls: sockets, the thread hand-offs, SQLite's I/O)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def measured(into: Measure, *, trace: bool = False) -> Iterator[None]:
    gc.collect()
    if trace:
        tracemalloc.start()
    wall, cpu, loop = time.perf_counter(), time.process_time(), time.thread_time()
    kernel = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    try:
        yield
    finally:
        into.wall_s = time.perf_counter() - wall
        into.cpu_s = time.process_time() - cpu
        into.loop_cpu_s = time.thread_time() - loop
        into.sys_s = resource.getrusage(resource.RUSAGE_SELF).ru_stime - kernel
        if trace:
            current, peak = tracemalloc.get_traced_memory()
            into.peak_mb, into.retained_mb = peak / 2**20, current / 2**20
        into.maxrss_mb = maxrss_mb()


class _Metered:
    """Awaits a coroutine, adding the loop-thread CPU of each of its steps (and so of everything it awaits, SQLAlchemy's
    greenlet work included) to a ledger line. Time spent suspended, while other feeds run, is not counted."""

    __slots__ = ("_coro", "_ledger", "_label")

    def __init__(self, coro: Any, ledger: defaultdict[str, float], label: str) -> None:
        self._coro, self._ledger, self._label = coro, ledger, label

    def __await__(self) -> Any:
        value: Any = None
        error: BaseException | None = None
        while True:
            started = time.thread_time()
            try:
                step = self._coro.send(value) if error is None else self._coro.throw(error)
            except StopIteration as stop:
                return stop.value
            finally:
                self._ledger[self._label] += time.thread_time() - started
            try:
                value, error = (yield step), None
            except BaseException as exc:  # cancellation and the like: hand it to the coroutine
                value, error = None, exc


class Ledger:
    """Inclusive loop-thread CPU of the steps of a sync, by wrapping them where the sync code looks them up.

    Synchronous steps are timed around the call; coroutines step by step (see _Metered). Unlike cProfile, whose
    cumulative times are meaningless across SQLAlchemy's greenlet switches, nesting is exact: a line includes the
    lines under it. Overhead: two thread_time() calls per call or step.
    """

    TARGETS: tuple[tuple[Any, str, str], ...] = (
        (FeedSyncer, "sync_feeds", "sync_feeds"),
        (FeedSyncer, "_write_batch", "_write_batch"),
        (FeedSyncer, "_apply", "FeedSyncer._apply"),
        (FeedSyncer, "feeds_of", "feeds_of"),
        (FeedFetcher, "fetch", "fetch"),
        (storage.repositories, "fetch_targets", "fetch_targets"),
        (jobs.sync, "record_quiet", "record_quiet"),
        (storage.repositories, "feed_sync_states", "feed_sync_states"),
        (jobs.sync, "apply_download", "apply_download"),
        (storage.repositories, "feed_for_sync", "feed_for_sync"),
        (storage.repositories, "feed_stays", "feed_stays"),
        (domain.feed_sync, "content_fingerprint", "content_fingerprint"),
        (domain.feed_sync, "parse_feed", "parse_feed"),
        (domain.calendar.parse, "_split", "_split"),
        (domain.calendar.parse, "_parse_components", "_parse_components"),
        (domain.feed_sync, "reconcile", "reconcile"),
        (domain.feed_sync, "_insert_run", "_insert_run"),
        (domain.feed_sync, "_apply", "_apply"),
        (domain.feed_sync, "_mark_seen", "_mark_seen"),
        (domain.feed_sync, "_write_alerts", "_write_alerts"),
        (domain.feed_sync, "check_property", "check_property"),
        (domain.feed_sync, "refresh_turnovers", "refresh_turnovers"),
        (domain.conflict_check, "live_spans", "live_spans"),
        (domain.conflict_check, "find_conflicts", "find_conflicts"),
    )

    def __init__(self) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> Ledger:
        for owner, name, label in self.TARGETS:
            original = owner.__dict__.get(name)
            if original is None:  # the code moved on: that line stays empty
                continue
            wrap = self._async if inspect.iscoroutinefunction(original) else self._sync
            setattr(owner, name, wrap(original, label))
            self._undo.append((owner, name, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def _sync(self, original: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu[label] += time.thread_time() - started

        return timed

    def _async(self, original: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            return _Metered(original(*args, **kwargs), self.cpu, label)

        return timed

    def take(self) -> dict[str, float]:
        taken = dict(self.cpu)
        self.cpu.clear()
        return taken


# (label, depth, how to get it from the ledger and the loop-thread total)
_APPLY_PARTS = (
    "feed_for_sync",
    "parse_feed",
    "feed_stays",
    "reconcile",
    "_insert_run",
    "_apply",
    "_mark_seen",
    "_write_alerts",
    "check_property",
    "refresh_turnovers",
)
LEDGER_ROWS: tuple[tuple[str, int, Callable[[dict[str, float], float], float]], ...] = (
    ("fetch: HTTP GET and body (httpx, in the fetch tasks)", 0, lambda c, t: c.get("fetch", 0.0)),
    ("sync_feeds: the writer (fetches excluded)", 0, lambda c, t: c.get("sync_feeds", 0.0)),
    ("fetch_targets: the feeds' URLs (one query)", 1, lambda c, t: c.get("fetch_targets", 0.0)),
    ("_write_batch: every write transaction", 1, lambda c, t: c.get("_write_batch", 0.0)),
    ("record_quiet: unchanged downloads, batched", 2, lambda c, t: c.get("record_quiet", 0.0)),
    ("feed_sync_states (one query per batch)", 3, lambda c, t: c.get("feed_sync_states", 0.0)),
    ("a transaction per changed feed (+ commit)", 2, lambda c, t: c.get("FeedSyncer._apply", 0.0)),
    ("apply_download", 3, lambda c, t: c.get("apply_download", 0.0)),
    ("feed_for_sync: the feed's row and property", 4, lambda c, t: c.get("feed_for_sync", 0.0)),
    ("parse_feed", 4, lambda c, t: c.get("parse_feed", 0.0)),
    ("split into events + hash (parse cache)", 5, lambda c, t: c.get("_split", 0.0)),
    ("icalendar Calendar.from_ical (new events)", 5, lambda c, t: c.get("_parse_components", 0.0)),
    (
        "read events, classify, uids, windows",
        5,
        lambda c, t: c.get("parse_feed", 0) - c.get("_split", 0) - c.get("_parse_components", 0),
    ),
    ("feed_stays: the stored stays (columns)", 4, lambda c, t: c.get("feed_stays", 0.0)),
    ("reconcile", 4, lambda c, t: c.get("reconcile", 0.0)),
    ("_insert_run: the SyncRun row", 4, lambda c, t: c.get("_insert_run", 0.0)),
    ("_apply: bulk update/insert, change rows", 4, lambda c, t: c.get("_apply", 0.0)),
    ("_mark_seen: last_seen_at, one statement", 4, lambda c, t: c.get("_mark_seen", 0.0)),
    ("_write_alerts", 4, lambda c, t: c.get("_write_alerts", 0.0)),
    ("check_property", 4, lambda c, t: c.get("check_property", 0.0)),
    ("live_spans: the property's stays (columns)", 5, lambda c, t: c.get("live_spans", 0.0)),
    ("find_conflicts", 5, lambda c, t: c.get("find_conflicts", 0.0)),
    ("refresh_turnovers (no cleaner here)", 4, lambda c, t: c.get("refresh_turnovers", 0.0)),
    (
        "the rest: the feed's UPDATE, outcome",
        4,
        lambda c, t: c.get("apply_download", 0) - sum(c.get(k, 0) for k in _APPLY_PARTS),
    ),
    (
        "commit (flush of feed + outbox rows), close",
        3,
        lambda c, t: c.get("FeedSyncer._apply", 0) - c.get("apply_download", 0),
    ),
    (
        "the rest: fingerprints, quiet BEGIN/COMMIT, log",
        2,
        lambda c, t: c.get("_write_batch", 0) - c.get("record_quiet", 0) - c.get("FeedSyncer._apply", 0),
    ),
    ("feeds_of", 0, lambda c, t: c.get("feeds_of", 0.0)),
    (
        "outside: event loop, selector, gather, queue",
        0,
        lambda c, t: t - c.get("sync_feeds", 0) - c.get("fetch", 0) - c.get("feeds_of", 0),
    ),
)


def floor(bodies: list[bytes]) -> Measure:
    result = Measure()
    with measured(result):
        for body in bodies:
            Calendar.from_ical(body)
    result.verified = f"{len(bodies)} bodies parsed"
    return result


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


# ---------------------------------------------------------------------------------------------- the run


async def seed_database(sessions: Any, server: ServerProcess, specs: list[FeedSpec]) -> None:
    async with sessions.begin() as session:
        session.add(User(telegram_id=1001, first_name="Owner", role="owner", locale="en"))
        props = [
            Property(name=f"Apto {spec.index}", timezone=TIMEZONE, export_token=f"export-{spec.index:05d}")
            for spec in specs
        ]
        session.add_all(props)
        await session.flush()
        session.add_all(
            Feed(property_id=prop.id, url=server.url(spec.path), platform="other", label=spec.platform)
            for prop, spec in zip(props, specs, strict=True)
        )


def check(outcomes: list[SyncOutcome], count: int, outcome: str, counts: dict[str, int], alerts: int) -> str:
    """Every feed must have done exactly what the phase is about, or the timing means nothing."""
    seen = Counter((o.outcome, tuple(sorted(o.counts.items())), o.alerts) for o in outcomes)
    expected = (outcome, tuple(sorted(counts.items())), alerts)
    if len(outcomes) != count or seen != Counter({expected: count}):
        raise RuntimeError(f"unexpected outcomes: {dict(seen.most_common(5))}, expected {count} x {expected}")
    return f"{count} x {outcome}" + (f" {counts}" if counts else "") + f", {alerts} alert(s) each"


async def table_counts(sessions: Any) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: int((await session.scalar(select(func.count()).select_from(model))) or 0)
            for model in (Booking, BookingChange, Outbox)
        }


# name, phase served, expected outcome, expected counts, alerts per feed, with a new (empty) parse cache
PLAN: tuple[tuple[str, int, str, dict[str, int], int, bool], ...] = (
    ("full", 0, "ok", {"new": -1}, 0, False),  # -1: the events per feed
    ("unchanged", 1, "unchanged", {}, 0, False),
    ("changed", 2, "ok", {"changed": 1}, 1, False),
    # The moved stay moves back, in a syncer just started (as after a restart): every event parsed again.
    ("changed, cold cache", 3, "ok", {"changed": 1}, 1, True),
)


async def benchmark(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    specs = build_feeds(args.feeds, args.seed, args.events)
    floor_bodies = [body_of(spec, FLOOR_PHASE) for spec in specs]
    floor_digest = digest(floor_bodies)
    results: dict[str, Any] = {
        "mode": "profile " + args.profile if args.profile else "memory" if args.memory else "timing",
        "feeds": len(specs),
        "events": sum(len(s.stays) for s in specs),
        "airbnb_feeds": sum(s.platform == "airbnb" for s in specs),
        "booking_feeds": sum(s.platform == "booking" for s in specs),
        "bytes": sum(map(len, floor_bodies)),
        "loadavg_before": os.getloadavg(),
        "phases": {},
    }
    phases: dict[str, Measure] = results["phases"]
    # A quarter of the floor, run just before and just after each sync phase: the machine's speed drifts over a
    # run (other VMs on the host), so each phase is also compared with the floor as it was around that phase.
    probe_bodies = floor_bodies[::4]
    probe_scale = 0.0
    if not (args.profile or args.memory):
        phases["floor"] = floor(floor_bodies)
        probe_scale = phases["floor"].cpu_s / floor(probe_bodies).cpu_s
    del floor_bodies

    url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    server = ServerProcess(args.feeds, args.seed, args.events)
    fetcher = FeedFetcher(FetchConfig(allow_private=True))
    try:
        sessions = session_factory(engine)
        await seed_database(sessions, server, specs)
        clock = Clock()
        cache = ParseCache()
        syncer = FeedSyncer(sessions, fetcher, clock=clock, parse_cache=cache)
        for name, phase, outcome, counts, alerts, restart in PLAN:
            if restart:
                cache = ParseCache()
                syncer = FeedSyncer(sessions, fetcher, clock=clock, parse_cache=cache)
            parsed, reused = cache.parsed_blocks, cache.reused_blocks
            served = server.phase(phase)  # the child swaps the bodies: outside the measured time
            if phase == FLOOR_PHASE and served != floor_digest:
                raise RuntimeError("the server serves other bytes than the floor parsed")
            clock.now = START + timedelta(minutes=10 * phase)
            measure = Measure()
            if args.profile == name:
                results["profile"] = await profiled(syncer, measure, args.profile_top)
                outcomes: list[SyncOutcome] = results["profile"].pop("outcomes")
            else:
                probe = floor(probe_bodies).cpu_s if probe_scale else 0.0
                with Ledger() as ledger, measured(measure, trace=args.memory):
                    outcomes = await syncer.sync_feeds(await syncer.feeds_of())
                measure.split = ledger.take()
                if probe_scale:
                    measure.local_floor_s = (probe + floor(probe_bodies).cpu_s) / 2 * probe_scale
            expected = {k: (args.events if v == -1 else v) for k, v in counts.items()}
            measure.verified = check(outcomes, len(specs), outcome, expected, alerts)
            measure.verified += (
                f"; parse cache: {cache.parsed_blocks - parsed} events parsed, {cache.reused_blocks - reused} reused,"
                f" {len(cache)} feeds, ~{cache.approx_bytes / 2**20:.1f} MB estimated"
            )
            if args.memory:
                results.setdefault("top_retained", {})[name] = retained_by(outcomes, measure)
            del outcomes
            phases[name] = measure
        if not (args.profile or args.memory):
            phases["fetch only (no DB, no parse)"] = await fetch_only(fetcher, [server.url(s.path) for s in specs])
            # Load on a shared machine drifts over a run: the floor again, to bracket the ratios.
            phases["floor, again at the end"] = floor([body_of(spec, FLOOR_PHASE) for spec in specs])
        results["rows"] = await table_counts(sessions)
    finally:
        await fetcher.aclose()
        await engine.dispose()
        server.close()
    results["server_hits"] = server.hits
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    results["server_cpu_s"] = child.ru_utime + child.ru_stime  # the only child process is the feed server
    results["maxrss_mb"] = maxrss_mb()
    results["loadavg_after"] = os.getloadavg()
    return results


def retained_by(outcomes: list[SyncOutcome], measure: Measure) -> list[str]:
    """What the list sync_feeds returns keeps alive: tracemalloc's view before and after dropping it."""
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    gc.collect()
    before = tracemalloc.take_snapshot()
    size_before = tracemalloc.get_traced_memory()[0]
    outcomes.clear()
    gc.collect()
    after = tracemalloc.take_snapshot()
    measure.outcomes_mb = (size_before - tracemalloc.get_traced_memory()[0]) / 2**20
    tracemalloc.stop()
    top = before.compare_to(after, "lineno")[:6]
    return [f"{stat.size_diff / 2**20:6.1f} MB in {stat.count_diff:7d} blocks at {stat.traceback}" for stat in top]


async def fetch_only(fetcher: FeedFetcher, urls: list[str]) -> Measure:
    """The HTTP part of a sync on its own: the same fetcher and concurrency limits, bodies dropped."""
    measure = Measure()
    with measured(measure):
        results = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    if any(r.status != "ok" for r in results):
        raise RuntimeError("a fetch failed")
    measure.verified = f"{len(results)} x ok, {sum(len(r.body) for r in results)} bytes"
    return measure


# ---------------------------------------------------------------------------------------------- profiling

_GROUPS = (
    ("/icalendar/", "icalendar"),
    ("/sqlalchemy/", "sqlalchemy"),
    ("/aiosqlite/", "aiosqlite"),
    ("/sqlite3/", "sqlite3"),
    ("/httpx/", "httpx/httpcore/h11/anyio"),
    ("/httpcore/", "httpx/httpcore/h11/anyio"),
    ("/h11/", "httpx/httpcore/h11/anyio"),
    ("/anyio/", "httpx/httpcore/h11/anyio"),
    ("/asyncio/", "asyncio"),
    ("/domain/calendar/", "domain.calendar (parse, classify, reconcile)"),
    ("/domain/", "domain (feed_sync, conflict_check, outbox)"),
    ("/jobs/", "jobs (sync, fetch)"),
    ("/storage/", "storage"),
    ("/logging/", "logging"),
)


def _group(filename: str, name: str) -> str:
    if filename == "~":  # a C function: name it by what it is
        return f"C: {name}" if name.startswith(("<method 'poll'", "<built-in method _thread")) else "C builtins"
    for marker, label in _GROUPS:
        if marker in filename:
            return label
    return "other Python (stdlib, greenlet glue...)"


async def profiled(syncer: FeedSyncer, measure: Measure, top: int) -> dict[str, Any]:
    """cProfile timed by the loop thread's CPU clock, so time spent idle in epoll or waiting for the GIL is not
    counted. Cumulative times of code that crosses SQLAlchemy's greenlet switches are overcounted; tottime is not."""
    profiler = cProfile.Profile(time.thread_time)
    with measured(measure):
        profiler.enable()
        outcomes = await syncer.sync_feeds(await syncer.feeds_of())
        profiler.disable()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by_group: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_group[_group(filename, name)] += tt
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return {
        "outcomes": outcomes,
        "profiled_total_s": sum(by_group.values()),
        "by_package_tottime_s": dict(by_group.most_common()),
        "stats": buffer.getvalue(),
    }


# ---------------------------------------------------------------------------------------------- report


def report(results: dict[str, Any]) -> str:
    phases: dict[str, Measure] = results["phases"]
    load = " -> ".join(
        " ".join(f"{x:.1f}" for x in avg) for avg in (results["loadavg_before"], results["loadavg_after"])
    )
    lines = [
        f"mode: {results['mode']}; {results['feeds']} feeds ({results['airbnb_feeds']} Airbnb, "
        f"{results['booking_feeds']} Booking.com), {results['events']} events, "
        f"{results['bytes'] / 2**20:.1f} MiB per download round; load average {load}",
        f"feed server in a child process: {results['server_hits']} requests, {results['server_cpu_s']:.1f} s CPU "
        "(not counted below)",
        "",
        f"{'phase':<30}{'wall s':>8}{'CPU s':>8}{'of it sys':>10}{'loop thread':>13}{'DB thread':>11}"
        f"{'tracemalloc peak':>18}{'retained':>10}{'outcomes':>10}{'maxrss MB':>11}",
    ]

    def mb(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for name, m in phases.items():
        cpu = f"{m.cpu_s:>8.2f}{m.sys_s:>10.2f}{m.loop_cpu_s:>13.2f}{m.cpu_s - m.loop_cpu_s:>11.2f}"
        lines.append(
            f"{name:<30}{m.wall_s:>8.2f}{cpu}"
            f"{mb(m.peak_mb):>18}{mb(m.retained_mb):>10}{mb(m.outcomes_mb):>10}{m.maxrss_mb:>11.1f}"
        )
    lines += [f"  {name}: {m.verified}" for name, m in phases.items()]
    split_rows = [(name, m) for name, m in phases.items() if m.split]
    if split_rows:
        lines += ["", "where the loop-thread CPU goes (s; a line includes the lines under it; DB thread above):"]
        lines.append(f"  {'':<52}" + "".join(f"{name:>12}" for name, _m in split_rows))
        for label, depth, value in LEDGER_ROWS:
            cells = "".join(f"{value(m.split, m.loop_cpu_s):>12.2f}" for _name, m in split_rows)
            lines.append(f"  {'  ' * depth + label:<52}{cells}")
    if "floor" in phases:
        floors = [phases[k] for k in ("floor", "floor, again at the end") if k in phases]
        lines.append("")
        lines.append("CPU against the floor (aim <= 1.5x): measured first / last / around the phase (local)")
        for name in ("changed", "changed, cold cache", "full"):
            m = phases[name]
            cpu = " / ".join(f"{m.cpu_s / f.cpu_s:.2f}x" for f in floors)
            local = (
                f" / {m.cpu_s / m.local_floor_s:.2f}x (local floor {m.local_floor_s:.2f} s)" if m.local_floor_s else ""
            )
            lines.append(f"  {name + '/floor:':<28}{cpu}{local}")
        lines.append(f"unchanged sync: {phases['unchanged'].cpu_s:.2f} s CPU (aim < 2 s)")
    traced = [m.peak_mb for m in phases.values() if m.peak_mb is not None]
    peak = f"tracemalloc peak {max(traced):.1f} MB, " if traced else ""
    lines.append(f"memory: {peak}ru_maxrss {results['maxrss_mb']:.1f} MB (aim < 200 MB)")
    lines.append(f"rows: {results.get('rows')}, database {results.get('db_mb', 0):.1f} MB")
    for name, top in results.get("top_retained", {}).items():
        lines += ["", f"kept alive by the outcomes of '{name}' (tracemalloc, top lines):", *(f"  {t}" for t in top)]
    profile = results.get("profile")
    if profile:
        lines += ["", f"cProfile, loop-thread CPU: {profile['profiled_total_s']:.2f} s; tottime by package:"]
        lines += [f"  {k:<48}{v:>8.2f} s" for k, v in profile["by_package_tottime_s"].items()]
        lines += ["", profile["stats"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20260801)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--profile", choices=("full", "unchanged", "changed"), help="cProfile this phase")
    mode.add_argument("--memory", action="store_true", help="run the sync phases under tracemalloc")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--what-if-sniffio",
        action="store_true",
        help="stub the sniffio module as if it were installed: httpcore imports it on every request, and a failed "
        "import searches sys.path each time (see README)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the feed-server child
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.feeds, args.seed, args.events))
        return
    if args.what_if_sniffio and "sniffio" not in sys.modules:
        # What `pip install sniffio` does to httpcore's per-request `import sniffio`: a dict lookup instead of a
        # failed search of sys.path. (The real sniffio.current_async_library costs ~1 µs more per call.)
        sys.modules["sniffio"] = types.SimpleNamespace(current_async_library=lambda: "asyncio")  # type: ignore
    results_mode = " (what if sniffio were installed)" if args.what_if_sniffio else ""
    tmp = Path(tempfile.mkdtemp(prefix="lumina-sync-bench-"))
    try:
        results = asyncio.run(benchmark(args, tmp))
        results["db_mb"] = sum(p.stat().st_size for p in tmp.iterdir()) / 2**20
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["mode"] += results_mode
    print(report(results))
    if args.json:
        serializable = {**results, "phases": {k: vars(v) for k, v in results["phases"].items()}}
        args.json.write_text(json.dumps(serializable, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
