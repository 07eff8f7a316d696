"""Several instances (issue 16): 2,000 properties × 3 feeds on one PostgreSQL, synced by one instance and by two.

Each "instance" is a child process running the production FeedSyncer.sync_due() until nothing is due (what the
scheduler does every 30 s), with its own fetcher and database pool. The feeds (40 events each, sync_bench's mix)
are served from a FeedServer in another child process. Phases:
  first import   every feed new (120,000 stays), one instance
  steady, 1      every feed due again, a new DTSTAMP in every body (the common case: nothing changed), one instance
  steady, 2      the same with two instances claiming batches side by side
Each instance reports its wall time, CPU time (user + system) and peak RSS; the server's hit count proves every
feed was fetched exactly once per cycle.

    .venv/bin/python benchmarks/cluster_bench.py                 # needs PostgreSQL; ~5 min here
    .venv/bin/python benchmarks/cluster_bench.py --properties 200
    LUMINA_BENCH_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/cluster_bench.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sync_bench import ServerProcess, build_feeds  # noqa: E402

from jobs.fetch import FeedFetcher, FetchConfig  # noqa: E402
from jobs.sync import FeedSyncer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Feed, Property, User  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/lumina_bench"
FEEDS_PER_PROPERTY = 3
EVENTS = 40


async def worker(url: str) -> dict[str, Any]:
    """One instance: sync_due until nothing is due. Prints what it did as one JSON line."""
    engine = create_engine(url)
    fetcher = FeedFetcher(FetchConfig(allow_private=True))
    started = time.perf_counter()
    try:
        outcomes = await FeedSyncer(session_factory(engine), fetcher).sync_due()
    finally:
        await fetcher.aclose()
        await engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "feeds": len(outcomes),
        "failed": sum(o.outcome == "failed" for o in outcomes),
        "wall_s": time.perf_counter() - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
    }


def run_instances(url: str, count: int) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    children = [
        subprocess.Popen([sys.executable, __file__, "--worker", url], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(count)
    ]
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=3600)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return time.perf_counter() - started, reports


async def prepare(url: str, server: ServerProcess, properties: int) -> None:
    parts = make_url(url)
    admin = create_engine(parts.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        if not await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": parts.database}):
            await conn.execute(text(f'CREATE DATABASE "{parts.database}"'))
    await admin.dispose()
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await asyncio.to_thread(migrate.upgrade, url)
    specs = build_feeds(properties * FEEDS_PER_PROPERTY, 7, EVENTS)
    async with session_factory(engine).begin() as session:
        session.add(User(telegram_id=1001, first_name="Owner", role="owner", locale="en"))
        props = [
            Property(name=f"Apto {i}", timezone="America/Sao_Paulo", export_token=f"x-{i}") for i in range(properties)
        ]
        session.add_all(props)
        await session.flush()
        session.add_all(
            Feed(property_id=props[i // FEEDS_PER_PROPERTY].id, url=server.url(spec.path), platform="other")
            for i, spec in enumerate(specs)
        )
    await engine.dispose()


async def make_all_due(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(update(Feed).values(next_sync_at=None))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--properties", type=int, default=2000)
    parser.add_argument("--worker", metavar="URL")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(worker(args.worker))))
        return
    url = os.environ.get("LUMINA_BENCH_DATABASE_URL", DEFAULT_URL)
    feeds = args.properties * FEEDS_PER_PROPERTY
    server = ServerProcess(feeds, 7, EVENTS)
    rows = []
    try:
        server.phase(0)
        asyncio.run(prepare(url, server, args.properties))
        for name, phase, instances in (("first import", 0, 1), ("steady, 1 instance", 1, 1),
                                       ("steady, 2 instances", 3, 2)):  # fmt: skip
            server.phase(phase)
            asyncio.run(make_all_due(url))
            before = server.hits
            wall, reports = run_instances(url, instances)
            server.phase(phase)  # reads the hit count
            fetched = server.hits - before
            assert fetched == feeds == sum(r["feeds"] for r in reports), (fetched, feeds, reports)
            per = " / ".join(f"{r['feeds']} feeds, {r['cpu_s']:.1f} s CPU, {r['maxrss_mb']:.0f} MB" for r in reports)
            rows.append(f"| {name} | {feeds} | {wall:.1f} s | {feeds / wall:.0f} | {per} |")
    finally:
        server.close()
    print("| cycle | feeds | wall | feeds/s | per instance |\n|---|---|---|---|---|\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
