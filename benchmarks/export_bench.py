"""Channel export benchmark: rendering a 500-stay feed, and serving it over HTTP.

Render: `select_stays` + `render_feed` over 500 stays (direct, Airbnb, Booking.com, VRBO stays and blocks), many
runs, in ms per feed; the same events serialized through icalendar objects, for comparison.

Serve: the real web app (bot.web.create_web_app on the production Services) in a child process, so the client's
CPU is not counted, on a freshly migrated SQLite database holding one property with 500 bookings (plus cancelled
and past ones the query must skip). An aiohttp ClientSession sends a fixed number of requests, 20 at a time,
on loopback:
  304  with If-None-Match: the ETag hit every platform poll should be
  200  the full feed (about 50 KB)

    .venv/bin/python benchmarks/export_bench.py                 # both (1-2 min on a small VM)
    .venv/bin/python benchmarks/export_bench.py --requests 5000 # more requests per HTTP phase
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from icalendar import Calendar, Event  # noqa: E402

from domain.calendar.export import ExportStay, Target, render_feed, select_stays  # noqa: E402
from domain.export import new_export_token  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Booking, Property  # noqa: E402

STAYS = 500
TODAY = date(2026, 8, 1)
NOW = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)
SOURCES = ("direct", "airbnb", "booking", "vrbo")


def synthetic_stays(n: int = STAYS) -> list[ExportStay]:
    stays = []
    for i in range(n):
        check_in = TODAY + timedelta(days=i)  # overlapping on purpose: several channels, one calendar
        kind = "block" if i % 5 == 0 else "reservation"
        stays.append(
            ExportStay(
                uid=f"{i:032x}@lumina",
                source=SOURCES[i % 4],
                kind=kind,
                status="missing" if i % 17 == 0 else "active",
                check_in=check_in,
                check_out=check_in + timedelta(days=1 + i % 6),
                guest_name=f"Hóspede Número {i}, da Silva" if kind == "reservation" else None,
                seq=i,
            )
        )
    return stays


def bench_render(runs: int) -> dict[str, float]:
    stays = synthetic_stays()
    for _ in range(20):  # warm-up
        render_feed(select_stays(stays, Target.ALL, today=TODAY), property_name="p", include_guest_names=True, now=NOW)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        chosen = select_stays(stays, Target.ALL, today=TODAY)
        body = render_feed(chosen, property_name="Apto 101", include_guest_names=True, now=NOW)
        timings.append(time.perf_counter() - started)
    icalendar_runs = max(runs // 20, 10)
    started = time.perf_counter()
    for _ in range(icalendar_runs):
        _icalendar_render(chosen)
    icalendar_ms = (time.perf_counter() - started) / icalendar_runs * 1000
    return {
        "events": len(chosen),
        "bytes": len(body),
        "median_ms": statistics.median(timings) * 1000,
        "p95_ms": sorted(timings)[int(len(timings) * 0.95)] * 1000,
        "icalendar_ms": icalendar_ms,
    }


def _icalendar_render(stays: list[ExportStay]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//LUMINA//Channel export 1.0//EN")
    calendar.add("version", "2.0")
    for stay in stays:
        event = Event()
        event.add("dtstamp", NOW)
        event.add("dtstart", stay.check_in)
        event.add("dtend", stay.check_out)
        event.add("summary", "Reserved")
        event.add("uid", stay.uid)
        calendar.add_component(event)
    return calendar.to_ical()


# --- HTTP -------------------------------------------------------------------------------------------------


async def seed(url: str) -> str:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="pending", created_at=NOW)
        session.add(prop)
        await session.flush()
        prop.export_token = token = new_export_token(prop.id)
        for stay in synthetic_stays():
            session.add(
                Booking(
                    property_id=prop.id,
                    source=stay.source,
                    kind=stay.kind,
                    status=stay.status,
                    export_uid=stay.uid,
                    check_in=stay.check_in,
                    check_out=stay.check_out,
                    guest_name=stay.guest_name,
                    created_at=NOW - timedelta(days=1),
                )
            )
        for i in range(200):  # rows the query must skip: cancelled and past stays
            day = TODAY - timedelta(days=400 - i)
            session.add(
                Booking(
                    property_id=prop.id,
                    source="airbnb",
                    kind="reservation",
                    status="cancelled" if i % 2 else "ended",
                    export_uid=f"old-{i}@lumina",
                    check_in=day,
                    check_out=day + timedelta(days=2),
                    created_at=NOW - timedelta(days=400),
                )
            )
    await engine.dispose()
    return token


async def serve(url: str, data_dir: str) -> None:
    """Child process: the production web app on an OS-chosen port, printed on stdout, until stdin closes."""
    from aiohttp import web

    from bot.services import build_services
    from bot.settings import load_settings
    from bot.web import create_web_app

    services = build_services(load_settings(database_url=url, data_dir=Path(data_dir)), clock=lambda: NOW)
    runner = web.AppRunner(create_web_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await services.fetcher.aclose()
    await services.engine.dispose()


async def hammer(url: str, total: int, concurrency: int, headers: dict[str, str], expect: int) -> dict[str, float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                async with http.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != expect:
                        raise RuntimeError(f"expected {expect}, got {response.status}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": total,
        "rps": total / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


async def bench_http(total: int, concurrency: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        await asyncio.to_thread(migrate.upgrade, url)
        token = await seed(url)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve",
            url,
            tmp,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert child.stdout is not None
            port = int(await child.stdout.readline())
            feed_url = f"http://127.0.0.1:{port}/ical/{token}/all.ics"
            async with aiohttp.ClientSession() as http, http.get(feed_url) as response:
                assert response.status == 200, response.status
                etag, size = response.headers["ETag"], len(await response.read())
            await hammer(feed_url, 200, concurrency, {"If-None-Match": etag}, 304)  # warm-up
            hit = await hammer(feed_url, total, concurrency, {"If-None-Match": etag}, 304)
            full = await hammer(feed_url, total, concurrency, {}, 200)
            full["bytes"] = size
            return {"304": hit, "200": full}
        finally:
            if child.stdin is not None:
                child.stdin.close()
            await asyncio.wait_for(child.wait(), timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000, help="renders to time")
    parser.add_argument("--requests", type=int, default=2000, help="requests per HTTP phase")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return

    render = bench_render(args.runs)
    print(
        f"render  {render['events']:.0f} events, {render['bytes'] / 1024:.1f} KiB: "
        f"median {render['median_ms']:.2f} ms, p95 {render['p95_ms']:.2f} ms per feed "
        f"(select + serialize, {args.runs} runs); through icalendar objects {render['icalendar_ms']:.1f} ms"
    )
    http = asyncio.run(bench_http(args.requests, args.concurrency))
    for status, figures in http.items():
        extra = f", {figures['bytes'] / 1024:.1f} KiB body" if "bytes" in figures else ""
        print(
            f"http {status}  {figures['requests']:.0f} requests, concurrency {args.concurrency}{extra}: "
            f"{figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
