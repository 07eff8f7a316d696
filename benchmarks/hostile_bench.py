"""Worst cases under LUMINA's limits (issue 15): time, memory and event-loop lag while the worst feed and the worst
templates we can make are processed (figures and analysis: benchmarks/README.md, "Hostile input").

Event-loop lag is what a chat, a delivery or an /ical request would wait: a ticker task sleeps 5 ms in a loop and
the longest extra wait is reported. Memory is this process's RSS high-water mark (ru_maxrss).

  feed      the worst feed under the limits: 5,000 events (parse.MAX_EVENTS), every one on the same nights (a feed
            overlapping itself), padded to just under the 5 MB body limit, served from a loopback HTTP server in a
            child process and synced by the production FeedSyncer into SQLite: first download, then every event
            moved one night, then the same download again (unchanged), then one event over the limit (refused).
  template  through the production TemplateWorkers: the largest template the file checks let through (XML just
            under the 8 MB cap), a template that grows until the memory limit stops it, and one that sorts until
            the CPU limit stops it.

    .venv/bin/python benchmarks/hostile_bench.py
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from domain.calendar.parse import MAX_EVENTS  # noqa: E402
from domain.documents.context import build_context, sample_data  # noqa: E402
from domain.documents.problem import TemplateProblem  # noqa: E402
from domain.documents.worker import TemplateWorkers  # noqa: E402
from jobs.fetch import FeedFetcher, FetchConfig  # noqa: E402
from jobs.sync import FeedSyncer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Booking, Conflict, Feed, Outbox, Property, User  # noqa: E402
from tests.support.documents import make_template, patched_template  # noqa: E402

BODY_LIMIT = 5 * 1024 * 1024  # FetchConfig.max_body_bytes and the LUMINA_FEED_MAX_BYTES default
NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)


class LagMeter:
    """The longest a 5 ms sleep overslept while the meter ran."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - started - 0.005)

    async def measure(self, work: Callable[[], Awaitable[Any]]) -> tuple[Any, float, float]:
        """(result, wall seconds, worst lag in ms) of `work`."""
        self.worst = 0.0
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        try:
            result = await work()
        finally:
            wall = time.perf_counter() - started
            self._task.cancel()
        return result, wall, self.worst * 1000


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the feed ---------------------------------------------------------------------------------------------------


def worst_feed(events: int, shift: int) -> bytes:
    """`events` Airbnb-shaped reservations on the same five nights (moved by `shift`), padded to the body limit."""
    start = date(2027, 3, 10) + timedelta(days=shift)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\n"
    event_room = (BODY_LIMIT - 4096) // events
    parts = [head]
    for i in range(events):
        lines = [
            "BEGIN:VEVENT", "DTSTAMP:20270102T120000Z", f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{start + timedelta(days=5):%Y%m%d}", f"UID:{i:08x}-worst@airbnb.com",
            "SUMMARY:Reserved",
            f"DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HM{i:08d}\\n"
            "Phone Number (Last 4 Digits): 1234",
        ]  # fmt: skip
        event = "\r\n".join(lines) + "\r\n"
        padding = max(0, event_room - len(event) - len("X-PAD:\r\nEND:VEVENT\r\n"))
        parts.append(event + f"X-PAD:{'x' * min(padding, 60)}\r\n" * (padding // 68) + "END:VEVENT\r\n")
    parts.append("END:VCALENDAR\r\n")
    body = "".join(parts).encode()
    assert len(body) <= BODY_LIMIT, len(body)
    return body


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        time.sleep(0.05)
    raise RuntimeError("the feed server did not start")


async def feed_phases(tmp: Path, meter: LagMeter) -> list[str]:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    served = tmp / "feeds"
    served.mkdir()
    server, port = serve(served)
    fetcher = FeedFetcher(FetchConfig(allow_private=True, max_body_bytes=BODY_LIMIT))
    lines = []
    try:
        async with sessions.begin() as session:
            session.add(User(telegram_id=1001, first_name="Owner", role="owner", locale="en"))
            prop = Property(name="Apto", timezone="America/Sao_Paulo", export_token="export-worst")
            session.add(prop)
            await session.flush()
            feed = Feed(property_id=prop.id, url=f"http://127.0.0.1:{port}/feed.ics", platform="airbnb")
            session.add(feed)
        feed_id = feed.id
        clock = [NOW]
        syncer = FeedSyncer(sessions, fetcher, clock=lambda: clock[0], serialize_writes=True)
        plan = [
            ("first download", worst_feed(MAX_EVENTS, 0)),
            ("every event moved", worst_feed(MAX_EVENTS, 1)),
            ("the same again", worst_feed(MAX_EVENTS, 1)),
            ("one event over the limit", worst_feed(MAX_EVENTS + 1, 1)),
        ]
        await syncer.sync_feed(feed_id)  # warm up (imports, mappers) on a 404, then as the bot does at start:
        gc.freeze()  # what start-up loaded is kept out of full collections (bot/app.py)
        for i, (name, body) in enumerate(plan):
            (served / "feed.ics").write_bytes(body)
            os.utime(served / "feed.ics", (NOW.timestamp() + i, NOW.timestamp() + i))  # a new Last-Modified
            clock[0] += timedelta(hours=1)
            outcome, wall, lag = await meter.measure(lambda: syncer.sync_feed(feed_id))
            async with sessions() as session:
                bookings = await session.scalar(select(func.count()).select_from(Booking))
                conflicts = await session.scalar(select(func.count()).select_from(Conflict))
                alerts = await session.scalar(select(func.count()).select_from(Outbox))
            lines.append(
                f"| {name} | {len(body) / 2**20:.2f} MiB | {outcome.outcome if outcome else '-'} | {wall:.2f} s | "
                f"{lag:.0f} ms | {maxrss_mb():.0f} MB | {bookings} / {conflicts} / {alerts} |"
            )
    finally:
        server.terminate()
        await fetcher.aclose()
        await engine.dispose()
    return lines


# --- the templates ----------------------------------------------------------------------------------------------


def largest_template() -> bytes:
    """A template whose XML is just under the file check's 8 MB cap: 60,000 paragraphs of text and fields."""
    paragraph = b"<w:p><w:r><w:t>{{ guest_name }} " + b"x" * 100 + b"</w:t></w:r></w:p>"
    return patched_template({"word/document.xml": (b"<w:p><w:r><w:t>MARK</w:t></w:r></w:p>", paragraph * 60_000)})


def growing(rounds: int, tail: str) -> bytes:
    return make_template("{{ guest_name" + "|replace('', guest_name)" * rounds + tail + " }}")


async def template_phases(meter: LagMeter) -> list[str]:
    workers = TemplateWorkers()
    sample = build_context("authorization", "pt_BR", sample_data(), today=date(2027, 8, 10))
    lines = []
    plan = [
        ("largest accepted (XML 7.9 MB)", largest_template()),
        ("grows until the memory limit", growing(8, "|length")),
        ("sorts until the CPU limit", growing(6, "|sort|length")),
    ]
    try:
        await workers.check(make_template("{{ guest_name }}"), "authorization", sample)  # the worker's start
        for name, template in plan:

            async def check(template: bytes = template) -> str:
                try:
                    await workers.check(template, "authorization", sample)
                    return "accepted"
                except TemplateProblem as problem:
                    return f"refused: {problem.code} {problem.detail}".strip()

            outcome, wall, lag = await meter.measure(check)
            lines.append(f"| {name} | {len(template) / 1024:.0f} KiB | {outcome} | {wall:.2f} s | {lag:.0f} ms | "
                         f"{maxrss_mb():.0f} MB |")  # fmt: skip
    finally:
        workers.close()
    return lines


async def main() -> None:
    meter = LagMeter()
    with tempfile.TemporaryDirectory() as tmp:
        feed = await feed_phases(Path(tmp), meter)
    print("| feed phase | body | outcome | wall | worst loop lag | bot RSS peak | bookings / conflicts / alerts |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(feed))
    print()
    templates = await template_phases(meter)
    print("| template | file | outcome | wall | worst loop lag | bot RSS peak |")
    print("|---|---|---|---|---|---|")
    print("\n".join(templates))


if __name__ == "__main__":
    asyncio.run(main())
