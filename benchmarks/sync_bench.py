"""Sync benchmark for "Calendar sync that never cries wolf".

1,000 feeds x 40 events (60% Airbnb-shaped, 40% Booking.com-shaped), one property per feed, served without ETag
from a FeedServer on 127.0.0.1 running in a child process (so its CPU is not counted), synced by the production
FeedSyncer + FeedFetcher into a freshly migrated SQLite database with one owner (so alert rows are written).

Phases, each timed in wall and CPU (time.process_time: every thread of this process, the aiosqlite one included):
  floor      icalendar.Calendar.from_ical(body) over the 1,000 bodies of the "changed" phase, nothing else
  full       first sync: every feed new, 40,000 bookings inserted
  unchanged  every feed re-downloaded with only DTSTAMP changed (the content-fingerprint fast path)
  changed    every feed re-downloaded with one stay's dates moved: parse + reconcile + write + alert + conflict check
Then the unchanged and changed phases run once more under tracemalloc for the Python allocation peak; ru_maxrss is
the whole process's high-water mark.

    .venv/bin/python benchmarks/sync_bench.py                     # the benchmark (about 1.5 min)
    .venv/bin/python benchmarks/sync_bench.py --profile changed   # cProfile one phase instead (slower)
    .venv/bin/python benchmarks/sync_bench.py --json out.json     # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import io
import json
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from icalendar import Calendar  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

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
    cpu_s: float = 0.0  # whole process, all threads
    main_cpu_s: float = 0.0  # the event-loop thread only; the rest is mostly the aiosqlite worker thread
    peak_mb: float | None = None  # tracemalloc peak during the phase
    maxrss_mb: float = 0.0  # process high-water mark after the phase
    extra: dict[str, Any] = field(default_factory=dict)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def measured(into: Measure, *, trace: bool = False) -> Iterator[None]:
    gc.collect()
    if trace:
        tracemalloc.start()
    wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
    try:
        yield
    finally:
        into.wall_s = time.perf_counter() - wall
        into.cpu_s = time.process_time() - cpu
        into.main_cpu_s = time.thread_time() - main
        if trace:
            into.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        into.maxrss_mb = maxrss_mb()


def floor(bodies: list[bytes]) -> Measure:
    result = Measure()
    with measured(result):
        for body in bodies:
            Calendar.from_ical(body)
    return result


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class World:
    sessions: Any
    syncer: FeedSyncer
    server: ServerProcess
    clock: Clock
    specs: list[FeedSpec]


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


async def run_phase(world: World, phase: int, expected_digest: str | None = None) -> list[SyncOutcome]:
    served = world.server.phase(phase)
    if expected_digest is not None and served != expected_digest:
        raise RuntimeError("the server serves other bytes than the floor parsed")
    world.clock.now = START + timedelta(minutes=10 * phase)
    ids = await world.syncer.feeds_of()
    return await world.syncer.sync_feeds(ids)


def check(outcomes: list[SyncOutcome], count: int, outcome: str, counts: dict[str, int], alerts: int) -> str:
    """Every feed must have done exactly what the phase is about, or the timing means nothing."""
    seen = Counter((o.outcome, tuple(sorted(o.counts.items())), o.alerts) for o in outcomes)
    expected = (outcome, tuple(sorted(counts.items())), alerts)
    if len(outcomes) != count or seen != Counter({expected: count}):
        raise RuntimeError(f"unexpected outcomes: {dict(seen.most_common(5))}, expected {count} x {expected}")
    return f"{count} x {outcome} {counts or ''} alerts={alerts}".strip()


async def table_counts(sessions: Any) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: int((await session.scalar(select(func.count()).select_from(model))) or 0)
            for model in (Booking, BookingChange, Outbox)
        }


async def benchmark(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    specs = build_feeds(args.feeds, args.seed, args.events)
    floor_bodies = [body_of(spec, FLOOR_PHASE) for spec in specs]
    floor_digest = digest(floor_bodies)
    n_events = sum(len(s.stays) for s in specs)
    results: dict[str, Any] = {
        "feeds": len(specs),
        "events": n_events,
        "airbnb_feeds": sum(s.platform == "airbnb" for s in specs),
        "booking_feeds": sum(s.platform == "booking" for s in specs),
        "bytes": sum(map(len, floor_bodies)),
        "phases": {},
    }
    phases: dict[str, Measure] = results["phases"]
    if args.profile is None:
        phases["floor"] = floor(floor_bodies)
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
        world = World(sessions, FeedSyncer(sessions, fetcher, clock=clock), server, clock, specs)
        count, per_feed = len(specs), args.events
        plan: list[tuple[str, int, Callable[[list[SyncOutcome]], str]]] = [
            ("full", 0, lambda o: check(o, count, "ok", {"new": per_feed}, 0)),
            ("unchanged", 1, lambda o: check(o, count, "unchanged", {}, 0)),
            ("changed", 2, lambda o: check(o, count, "ok", {"changed": 1}, 1)),
        ]
        for name, phase, verify in plan:
            measure = Measure()
            run: Callable[[], Awaitable[list[SyncOutcome]]] = lambda phase=phase: run_phase(  # noqa: E731
                world, phase, floor_digest if phase == FLOOR_PHASE else None
            )
            if args.profile == name:
                results["profile"] = await profiled(run, measure, verify, args.profile_top)
            else:
                with measured(measure):
                    outcomes = await run()
                measure.extra["verified"] = verify(outcomes)
            phases[name] = measure
        if args.profile is None and not args.no_trace:
            for name, phase, verify in (
                ("changed (tracemalloc)", 3, lambda o: check(o, count, "ok", {"changed": 1}, 1)),
                ("unchanged (tracemalloc)", 4, lambda o: check(o, count, "unchanged", {}, 0)),
            ):
                measure = Measure()
                with measured(measure, trace=True):
                    outcomes = await run_phase(world, phase)
                measure.extra["verified"] = verify(outcomes)
                phases[name] = measure
        results["rows"] = await table_counts(sessions)
    finally:
        await fetcher.aclose()
        await engine.dispose()
        server.close()
    results["server_hits"] = server.hits
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    results["server_cpu_s"] = child.ru_utime + child.ru_stime  # the migration runs in-process: this is the server
    results["maxrss_mb"] = maxrss_mb()
    return results


# ---------------------------------------------------------------------------------------------- profiling

_GROUPS = (
    ("icalendar", "icalendar (parse)"),
    ("sqlalchemy", "sqlalchemy"),
    ("aiosqlite", "aiosqlite"),
    ("sqlite3", "sqlite3 driver"),
    ("httpx", "httpx/httpcore/h11"),
    ("httpcore", "httpx/httpcore/h11"),
    ("h11", "httpx/httpcore/h11"),
    ("anyio", "httpx/httpcore/h11"),
    ("asyncio", "asyncio"),
    ("/domain/calendar/", "domain.calendar (parse, classify, reconcile)"),
    ("/domain/", "domain (feed_sync, conflicts, outbox)"),
    ("/jobs/", "jobs (sync, fetch)"),
    ("/storage/", "storage"),
    ("logging", "logging"),
)


def _group(filename: str) -> str:
    for marker, label in _GROUPS:
        if f"/{marker}/" in filename or f"/{marker}.py" in filename or (marker.startswith("/") and marker in filename):
            return label
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "other python"


async def profiled(
    run: Callable[[], Awaitable[list[SyncOutcome]]],
    measure: Measure,
    verify: Callable[[list[SyncOutcome]], str],
    top: int,
) -> dict[str, Any]:
    profiler = cProfile.Profile()
    with measured(measure):
        profiler.enable()
        outcomes = await run()
        profiler.disable()
    measure.extra["verified"] = verify(outcomes)
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _cc, _nc, tt, _ct, _callers in raw.values())
    by_group: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_group[_group(filename if not filename.startswith("~") else name)] += tt
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    interesting = (
        "parse_feed",
        "from_ical",
        "content_fingerprint",
        "reconcile",
        "apply_download",
        "_apply",
        "check_property",
        "_write_alerts",
        "queue_alert",
        "feed_stays",
        "fetch",
        "sync_feed",
        "_write",
        "flush",
        "execute",
        "scalars",
        "commit",
    )
    named: dict[str, float] = {}
    for (filename, line, name), (_cc, nc, _tt, ct, _callers) in raw.items():
        if name in interesting and ("/domain/" in filename or "/jobs/" in filename or "icalendar" in filename):
            named[f"{Path(filename).name}:{line}({name}) x{nc}"] = ct
    return {
        "profiled_total_s": total,
        "by_package_tottime_s": dict(by_group.most_common()),
        "named_cumulative_s": dict(sorted(named.items(), key=lambda kv: -kv[1])),
        "top_cumulative": buffer.getvalue(),
    }


# ---------------------------------------------------------------------------------------------- report


def report(results: dict[str, Any]) -> str:
    phases: dict[str, Measure] = results["phases"]
    lines = [
        f"{results['feeds']} feeds ({results['airbnb_feeds']} Airbnb, {results['booking_feeds']} Booking.com), "
        f"{results['events']} events, {results['bytes'] / 2**20:.1f} MiB per download round; "
        f"server in a child process (its CPU, not counted: {results['server_cpu_s']:.1f} s; "
        f"{results['server_hits']} requests served)",
        "",
        f"{'phase':<26}{'wall s':>9}{'CPU s':>9}{'loop-thread CPU s':>19}{'tracemalloc peak MB':>21}{'maxrss MB':>11}",
    ]
    for name, m in phases.items():
        peak = f"{m.peak_mb:.1f}" if m.peak_mb is not None else "-"
        lines.append(f"{name:<26}{m.wall_s:>9.2f}{m.cpu_s:>9.2f}{m.main_cpu_s:>19.2f}{peak:>21}{m.maxrss_mb:>11.1f}")
    for name, m in phases.items():
        if "verified" in m.extra:
            lines.append(f"  {name}: {m.extra['verified']}")
    if "floor" in phases:
        base = phases["floor"]
        lines.append("")
        for name in ("changed", "full"):
            m = phases[name]
            lines.append(
                f"{name}/floor: {m.cpu_s / base.cpu_s:.2f}x CPU, {m.wall_s / base.wall_s:.2f}x wall (aim: <= 1.5x)"
            )
        unchanged = phases["unchanged"]
        lines.append(f"unchanged sync CPU: {unchanged.cpu_s:.2f} s (aim: < 2 s)")
        traced = [m.peak_mb for m in phases.values() if m.peak_mb is not None]
        peak = f"tracemalloc peak {max(traced):.1f} MB, " if traced else ""
        lines.append(f"memory: {peak}ru_maxrss {results['maxrss_mb']:.1f} MB (aim: < 200 MB)")
    lines.append(f"rows: {results.get('rows')}, database {results.get('db_mb', 0):.1f} MB")
    profile = results.get("profile")
    if profile:
        lines += ["", f"cProfile total (loop thread only): {profile['profiled_total_s']:.2f} s; tottime by package:"]
        lines += [f"  {k:<48}{v:>8.2f} s" for k, v in profile["by_package_tottime_s"].items()]
        lines += ["cumulative time of the steps:"]
        lines += [f"  {k:<70}{v:>8.2f} s" for k, v in list(profile["named_cumulative_s"].items())[:25]]
        lines += ["", profile["top_cumulative"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--profile", choices=("full", "unchanged", "changed"), help="cProfile this phase")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc round")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the server child
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.feeds, args.seed, args.events))
        return
    tmp = Path(tempfile.mkdtemp(prefix="lumina-sync-bench-"))
    try:
        results = asyncio.run(benchmark(args, tmp))
        results["db_mb"] = sum(p.stat().st_size for p in tmp.iterdir()) / 2**20
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(report(results))
    if args.json:
        serializable = {**results, "phases": {k: vars(v) for k, v in results["phases"].items()}}
        args.json.write_text(json.dumps(serializable, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
