"""Conflict-check benchmark for "Double-booking guard".

100,000 stays over 1,000 properties (100 each): three feeds (Airbnb, Booking.com, VRBO) and direct bookings per
property, mostly back-to-back or spaced stays, plus the overlaps real calendars have: echoes (a Booking.com
"CLOSED - Not available" mirroring an Airbnb/VRBO/direct stay, an Airbnb block mirroring a Booking.com stay), a few
double bookings, and one long Airbnb availability-window block at the end of each calendar.

Measured, on the same data:
  find_conflicts      domain.conflicts.find_conflicts per property (sweep + classify + severity), pure
  overlapping_pairs   the sweep alone per property, over the stays still current (check-out after today)
  naive pairs         every pair of a property's current stays tested for overlap: O(n^2)
  naive + classify    the naive pairs, then classify + severity like find_conflicts: its like-for-like baseline
All four must give exactly the same pairs. CPU and wall (best and median of --repeat runs), then tracemalloc peak
of one more run of each. Then domain.conflict_check.check_property for the 1,000 properties against a migrated
SQLite database (stays bulk-inserted with SQLAlchemy Core), one transaction per property like a sync: once when
every conflict is new, and once more when nothing changed.

    .venv/bin/python benchmarks/conflict_bench.py            # about 1 min
    .venv/bin/python benchmarks/conflict_bench.py --no-db    # the pure part only
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import random
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from domain.calendar.model import Kind, Platform  # noqa: E402
from domain.conflict_check import check_property, live_spans  # noqa: E402
from domain.conflicts import Span, classify, find_conflicts, overlapping_pairs, severity  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import LIVE_STATUSES as LIVE  # noqa: E402
from storage.models import Booking, Conflict, Feed, Outbox, Property, User  # noqa: E402

TODAY = date(2026, 8, 1)
NOW = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)
FIRST_SEEN = NOW - timedelta(days=200)
FEEDS = (Platform.AIRBNB, Platform.BOOKING, Platform.VRBO)  # feed ids 3p+1, 3p+2, 3p+3 for property p (0-based)
BASE_SOURCES = (  # where the stays that really happened come from
    (Platform.AIRBNB, 0.50),
    (Platform.BOOKING, 0.33),
    (Platform.VRBO, 0.09),
    (Platform.DIRECT, 0.08),
)
NIGHTS = (1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7)
GAPS = (0, 0, 0, 1, 1, 2, 3)  # 0: a turnover day, check-out and check-in on the same date (never a conflict)

Pair = tuple[int, int]

# ---------------------------------------------------------------------------------------------- the data


@dataclass(frozen=True, slots=True)
class PropertyStays:
    property_id: int
    spans: list[Span]


def _source(platform: Platform, property_index: int) -> str:
    if platform is Platform.DIRECT:
        return "direct"
    return f"feed:{3 * property_index + FEEDS.index(platform) + 1}"


def build_property(index: int, per_property: int, seed: int, next_id: Iterator[int]) -> PropertyStays:
    rng = random.Random(f"{seed}:{index}")
    doubles = rng.choice((0, 1, 1, 2, 2, 3))
    echoes = rng.randint(15, 30)
    base_count = per_property - echoes - doubles - 1  # -1: the window block

    def seen(hours: float) -> datetime:
        return FIRST_SEEN + timedelta(hours=hours)

    def make(platform: Platform, kind: Kind, check_in: date, nights: int, hours: float) -> Span:
        return Span(
            next(next_id),
            _source(platform, index),
            platform,
            kind,
            check_in,
            check_in + timedelta(days=nights),
            seen(hours),
        )

    base: list[Span] = []
    day = TODAY - timedelta(days=rng.randint(20, 40))  # a few stays are already over: the check skips them
    platforms = [platform for platform, _share in BASE_SOURCES]
    weights = [share for _platform, share in BASE_SOURCES]
    for _ in range(base_count):
        platform = rng.choices(platforms, weights)[0]
        kind = Kind.BLOCK if platform is Platform.AIRBNB and rng.random() < 0.1 else Kind.RESERVATION
        nights = rng.choice(NIGHTS)
        base.append(make(platform, kind, day, nights, rng.uniform(0, 4000)))
        day += timedelta(days=nights + rng.choice(GAPS))
    extra: list[Span] = []
    reservations = [s for s in base if s.kind is Kind.RESERVATION]
    for original in rng.sample(reservations, min(echoes, len(reservations))):
        later = (original.first_seen or FIRST_SEEN) + timedelta(minutes=rng.randint(10, 120))
        hours = (later - FIRST_SEEN).total_seconds() / 3600
        nights = (original.check_out - original.check_in).days
        if original.platform is Platform.BOOKING:  # our export closed Airbnb: the Airbnb feed shows a block
            extra.append(make(Platform.AIRBNB, Kind.BLOCK, original.check_in, nights, hours))
        else:  # our export closed Booking.com: it comes back as "CLOSED - Not available", a reservation there
            extra.append(make(Platform.BOOKING, Kind.RESERVATION, original.check_in, nights, hours))
    for original in rng.sample(reservations, min(doubles, len(reservations))):
        # a VRBO guest or a direct booking on nights already sold elsewhere, within the original stay's nights
        other = Platform.DIRECT if original.platform is Platform.VRBO else rng.choice((Platform.VRBO, Platform.DIRECT))
        nights = (original.check_out - original.check_in).days
        offset = rng.randrange(nights)
        stay = rng.randint(1, nights - offset)
        extra.append(
            make(other, Kind.RESERVATION, original.check_in + timedelta(days=offset), stay, rng.uniform(0, 4000))
        )
    window_start = TODAY + timedelta(days=rng.randint(290, 320))  # Airbnb's "not available after N months"
    extra.append(make(Platform.AIRBNB, Kind.WINDOW, window_start, (TODAY + timedelta(days=366) - window_start).days, 0))
    return PropertyStays(index + 1, base + extra)


def build(properties: int, per_property: int, seed: int) -> list[PropertyStays]:
    counter = iter(range(1, 10**9))
    return [build_property(i, per_property, seed, counter) for i in range(properties)]


# ---------------------------------------------------------------------------------------------- the methods


def current(spans: list[Span]) -> list[Span]:
    return [s for s in spans if s.check_out > TODAY]


def run_find_conflicts(data: list[PropertyStays]) -> tuple[set[Pair], Counter[str]]:
    pairs: set[Pair] = set()
    classes: Counter[str] = Counter()
    for prop in data:
        for overlap in find_conflicts(prop.spans, today=TODAY):
            pairs.add((overlap.a.id, overlap.b.id))
            classes[overlap.klass.value] += 1
    return pairs, classes


def run_sweep(data: list[PropertyStays]) -> tuple[set[Pair], Counter[str]]:
    pairs: set[Pair] = set()
    for prop in data:
        pairs.update((a.id, b.id) for a, b in overlapping_pairs(current(prop.spans)))
    return pairs, Counter()


def _naive_pairs(spans: list[Span]) -> Iterator[tuple[Span, Span]]:
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a.check_in < b.check_out and b.check_in < a.check_out:
                yield (a, b) if a.id < b.id else (b, a)


def run_naive(data: list[PropertyStays]) -> tuple[set[Pair], Counter[str]]:
    pairs: set[Pair] = set()
    for prop in data:
        pairs.update((a.id, b.id) for a, b in _naive_pairs(current(prop.spans)))
    return pairs, Counter()


def run_naive_classified(data: list[PropertyStays]) -> tuple[set[Pair], Counter[str]]:
    pairs: set[Pair] = set()
    classes: Counter[str] = Counter()
    for prop in data:
        for a, b in _naive_pairs(current(prop.spans)):
            start, end = max(a.check_in, b.check_in), min(a.check_out, b.check_out)
            klass = classify(a, b)
            severity(klass, max(start, TODAY), end, TODAY)
            pairs.add((a.id, b.id))
            classes[klass.value] += 1
    return pairs, classes


METHODS: tuple[tuple[str, Callable[[list[PropertyStays]], tuple[set[Pair], Counter[str]]]], ...] = (
    ("find_conflicts", run_find_conflicts),
    ("overlapping_pairs (sweep)", run_sweep),
    ("naive pairs", run_naive),
    ("naive pairs + classify", run_naive_classified),
)


def _classified_count(spans: list[Span]) -> int:
    count = 0
    for a, b in _naive_pairs(spans):
        start, end = max(a.check_in, b.check_in), min(a.check_out, b.check_out)
        severity(classify(a, b), max(start, TODAY), end, TODAY)
        count += 1
    return count


# The same work with each property's answer dropped once counted: the peak is then the working memory of one
# property's check, not the 100,000-stay run's set of answers.
STREAMING: dict[str, Callable[[list[Span]], int]] = {
    "find_conflicts": lambda spans: len(find_conflicts(spans, today=TODAY)),
    "overlapping_pairs (sweep)": lambda spans: sum(1 for _ in overlapping_pairs(current(spans))),
    "naive pairs": lambda spans: sum(1 for _ in _naive_pairs(current(spans))),
    "naive pairs + classify": lambda spans: _classified_count(current(spans)),
}


def _streamed(count: Callable[[list[Span]], int], data: list[PropertyStays]) -> int:
    return sum(count(p.spans) for p in data)


@dataclass
class Timing:
    cpu_best: float
    cpu_median: float
    wall_best: float
    wall_median: float
    peak_mb: float = 0.0  # the whole run, keeping every pair found
    streaming_peak_kb: float = 0.0  # one property at a time, answers dropped


def time_method(fn: Callable[[], object], repeat: int) -> Timing:
    cpus, walls = [], []
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return Timing(min(cpus), statistics.median(cpus), min(walls), statistics.median(walls))


def peak_of(fn: Callable[[], object]) -> float:
    """Python allocations made by one run at their peak, over what was allocated before it (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20


# ---------------------------------------------------------------------------------------------- the database


def _booking_row(span: Span, property_id: int) -> dict[str, Any]:
    feed_id = int(span.source.split(":")[1]) if span.source.startswith("feed:") else None
    return {
        "id": span.id,
        "property_id": property_id,
        "feed_id": feed_id,
        "source": span.platform.value,
        "kind": span.kind.value,
        "status": "active",
        "uid": f"{span.id:08d}-{secrets.token_hex(8)}@{span.platform.value}.example" if feed_id else None,
        "export_uid": f"{secrets.token_hex(16)}@lumina",
        "check_in": span.check_in,
        "check_out": span.check_out,
        "summary": "Reserved" if span.kind is Kind.RESERVATION else "Not available",
        "first_seen_at": span.first_seen,
        "last_seen_at": NOW,
        "missing_count": 0,
        "created_at": span.first_seen,
    }


async def load_database(url: str, data: list[PropertyStays]) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(User),
                [
                    {
                        "id": 1,
                        "telegram_id": 1001,
                        "first_name": "Owner",
                        "role": "owner",
                        "locale": "en",
                        "is_active": True,
                    }
                ],
            )
            await conn.execute(
                insert(Property),
                [
                    {
                        "id": p.property_id,
                        "name": f"Apto {p.property_id}",
                        "timezone": "America/Sao_Paulo",
                        "export_token": f"export-{p.property_id:05d}",
                        "created_at": NOW,
                    }
                    for p in data
                ],
            )
            await conn.execute(
                insert(Feed),
                [
                    {
                        "id": 3 * (p.property_id - 1) + i + 1,
                        "property_id": p.property_id,
                        "platform": platform.value,
                        "url": f"https://{platform.value}.example/{p.property_id}/{i}.ics",
                        "enabled": True,
                        "blocks_are_echo": False,
                        "consecutive_failures": 0,
                        "in_trouble": False,
                        "created_at": NOW,
                    }
                    for p in data
                    for i, platform in enumerate(FEEDS)
                ],
            )
            rows = [_booking_row(span, p.property_id) for p in data for span in p.spans]
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(Booking), rows[start : start + 5000])
    finally:
        await engine.dispose()
    return time.perf_counter() - started


@dataclass
class DbRun:
    wall_s: float
    cpu_s: float
    events: Counter[str]
    alerts: int


async def check_all(url: str, property_ids: list[int]) -> DbRun:
    engine = create_engine(url)
    sessions = session_factory(engine)
    events: Counter[str] = Counter()
    alerts = 0
    try:
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        for property_id in property_ids:
            async with sessions.begin() as session:  # one transaction per property, as in a feed's sync
                prop = await session.get(Property, property_id)
                assert prop is not None
                for event in await check_property(session, prop, now=NOW, today=TODAY):
                    events[f"{event.event} {event.klass}"] += 1
                    alerts += event.alert
        return DbRun(time.perf_counter() - wall, time.process_time() - cpu, events, alerts)
    finally:
        await engine.dispose()


async def db_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return {
                model.__tablename__: int((await session.scalar(select(func.count()).select_from(model))) or 0)
                for model in (Booking, Conflict, Outbox)
            }
    finally:
        await engine.dispose()


async def load_only(url: str, property_ids: list[int]) -> dict[str, tuple[float, float]]:
    """What the steady-state check spends loading a property's stays: live_spans (a Core select of the Span
    columns) against Booking entities, as live_spans loaded them before the sync work. Same rows, same
    session-per-property pattern."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    entities = select(Booking, Feed.blocks_are_echo).outerjoin(Feed, Booking.feed_id == Feed.id)
    out: dict[str, tuple[float, float]] = {}
    try:
        for label in ("live_spans (Core select of the Span columns)", "Booking entities (the former live_spans)"):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            for property_id in property_ids:
                async with sessions() as session:
                    if label.startswith("live_spans"):
                        await live_spans(session, property_id, today=TODAY)
                    else:
                        query = entities.where(
                            Booking.property_id == property_id,
                            Booking.status.in_(LIVE),
                            Booking.check_out > TODAY,
                        )
                        (await session.execute(query)).all()
            out[label] = (time.perf_counter() - wall, time.process_time() - cpu)
    finally:
        await engine.dispose()
    return out


async def database_part(tmp: Path, data: list[PropertyStays], expected_pairs: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{tmp / 'conflicts.sqlite3'}"
    await asyncio.to_thread(migrate.upgrade, url)
    load_s = await load_database(url, data)
    ids = [p.property_id for p in data]
    first = await check_all(url, ids)
    opened = sum(n for k, n in first.events.items() if k.startswith("opened"))
    if opened != expected_pairs:
        raise RuntimeError(f"check_property opened {opened} conflicts, the pure check found {expected_pairs} pairs")
    counts_after_first = await db_counts(url)
    steady = await check_all(url, ids)
    if steady.events:
        raise RuntimeError(f"a check with nothing changed did something: {dict(steady.events)}")
    loads = await load_only(url, ids)
    return {"load_s": load_s, "first": first, "steady": steady, "rows": counts_after_first, "loads": loads}


# ---------------------------------------------------------------------------------------------- scaling


def scaling(sizes: list[int], seed: int) -> list[tuple[int, int, float, float]]:
    """One property with more and more stays: where the O(n^2) check parts ways with the sweep."""
    rows = []
    for n in sizes:
        data = build(1, n, seed)
        repeat = max(1, 2000 // n)
        sweep = time_method(functools.partial(run_find_conflicts, data), repeat).cpu_median
        naive = time_method(functools.partial(run_naive_classified, data), repeat).cpu_median
        rows.append((n, len(run_sweep(data)[0]), sweep, naive))
    return rows


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, default=1000)
    parser.add_argument("--per-property", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scaling", type=int, nargs="*", default=[100, 1000, 4000], help="stays in one property")
    parser.add_argument("--no-db", action="store_true", help="skip the check_property part")
    args = parser.parse_args()

    data = build(args.properties, args.per_property, args.seed)
    total = sum(len(p.spans) for p in data)
    live = sum(len(current(p.spans)) for p in data)
    print(f"{args.properties} properties x {args.per_property} stays = {total} ({live} current on {TODAY})")

    results: dict[str, tuple[Timing, set[Pair], Counter[str]]] = {}
    for name, method in METHODS:
        pairs, classes = method(data)  # warm-up, and the answer to compare
        timing = time_method(functools.partial(method, data), args.repeat)
        timing.peak_mb = peak_of(functools.partial(method, data))
        timing.streaming_peak_kb = 1024 * peak_of(functools.partial(_streamed, STREAMING[name], data))
        results[name] = (timing, pairs, classes)

    reference = results["naive pairs"][1]
    for name, (_timing, pairs, _classes) in results.items():
        if pairs != reference:
            raise RuntimeError(f"{name} found {len(pairs)} pairs, the naive check {len(reference)}")
    if results["find_conflicts"][2] != results["naive pairs + classify"][2]:
        raise RuntimeError("find_conflicts and the naive check classify differently")
    classes = results["find_conflicts"][2]
    summary = ", ".join(f"{k} {v}" for k, v in classes.most_common())
    print(f"all four agree: {len(reference)} overlapping pairs ({summary})\n")
    naive_cpu = results["naive pairs + classify"][0].cpu_median
    header = f"{'method, all properties':<28}{'CPU best':>10}{'CPU median':>12}{'wall median':>13}{'peak MB':>9}"
    print(header + f"{'streaming peak KB':>19}{'CPU vs naive+classify':>23}")
    for name, (t, _pairs, _classes) in results.items():
        figures = f"{t.cpu_best:>10.3f}{t.cpu_median:>12.3f}{t.wall_median:>13.3f}{t.peak_mb:>9.2f}"
        print(f"{name:<28}{figures}{t.streaming_peak_kb:>19.1f}{t.cpu_median / naive_cpu:>22.2f}x")
    per_property = results["find_conflicts"][0].cpu_median / args.properties * 1e3
    print(f"find_conflicts: {per_property:.3f} ms CPU per property of {args.per_property} stays")

    if args.scaling:
        print("\none property, n stays: find_conflicts vs naive pairs + classify (CPU median, ms)")
        for n, pairs_n, sweep, naive in scaling(args.scaling, args.seed):
            figures = f"sweep {sweep * 1e3:9.2f}  naive {naive * 1e3:9.2f}  ({naive / sweep:.1f}x)"
            print(f"  n={n:<6} pairs={pairs_n:<6} {figures}")

    if not args.no_db:
        tmp = Path(tempfile.mkdtemp(prefix="lumina-conflict-bench-"))
        try:
            db = asyncio.run(database_part(tmp, data, len(reference)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"\nSQLite: {total} bookings bulk-inserted with Core in {db['load_s']:.1f} s; after the first check:")
        print(f"  rows {db['rows']}")
        n = args.properties
        for label, run in (("first (every conflict new)", db["first"]), ("again (nothing changed)", db["steady"])):
            per = run.cpu_s / n * 1e3
            print(
                f"check_property x{n}, {label}: {run.wall_s:.2f} s wall, {run.cpu_s:.2f} s CPU, {per:.1f} ms/property"
            )
            if run.events:
                events = ", ".join(f"{k} {v}" for k, v in run.events.most_common())
                print(f"  events: {events}; alert rows {run.alerts}")
        for label, (wall, cpu) in db["loads"].items():
            print(f"loading only, {label} x{n}: {wall:.2f} s wall, {cpu:.2f} s CPU, {cpu / n * 1e3:.1f} ms/property")
    print(f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
