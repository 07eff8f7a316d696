"""Outbox delivery benchmark for "Alerts and reminders that always arrive, once, at the right time" (figures and
analysis: benchmarks/README.md).

Queued alerts (booking_new, rendered by the real views) for N chats in a freshly migrated SQLite database (or
--database-url), delivered by the production Delivery job + TelegramSender + aiogram Bot to the fake Bot API
(tests/support/fake_bot_api.py) running in a child process, so its CPU is not counted and arrival times are taken
where Telegram would count them. Each run checks that every alert arrived exactly once, in order per chat.

Telegram's limits are about 25 messages a second in all and 1 a second per chat. At those rates 10,000 alerts
take 400 s, so the default is two runs:
  real     1,000 alerts to 500 chats (2 each) at the real limits (25/s, 1/s per chat)
  scaled   10,000 alerts to 500 chats (20 each) with both limits x10 (250/s, 10/s per chat): the same schedule on a
           time base ten times shorter, which also shows how much headroom the job has per message
Observed rates are the most arrivals in any sliding one-second window (per chat: in any window of 1/chat_rate).

    .venv/bin/python benchmarks/delivery_bench.py                       # both runs (~90 s)
    .venv/bin/python benchmarks/delivery_bench.py --only scaled --scale 4
    .venv/bin/python benchmarks/delivery_bench.py --only real --alerts 10000   # the full 400 s at real limits
    .venv/bin/python benchmarks/delivery_bench.py --json /tmp/delivery.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.sender import TelegramSender  # noqa: E402
from bot.views.alerts import render_alert  # noqa: E402
from domain.alerts import add_outbox_rows, outbox_row  # noqa: E402
from jobs.delivery import Delivery, DeliveryConfig  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Outbox, User  # noqa: E402

# --- the child process: the fake Bot API --------------------------------------------------------------------


async def serve() -> None:
    """Run the fake until stdin says "dump <path>": then write (chat, status, arrival time, text) per sendMessage."""
    from tests.support.fake_bot_api import FakeBotAPI

    async with FakeBotAPI() as api:
        print(json.dumps({"base_url": api.base_url, "token": api.token}), flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.startswith("quit"):
                return
            if line.startswith("dump "):
                records = [
                    [r.params.get("chat_id"), r.status, r.time, r.params.get("text", "")]
                    for r in api.calls("sendMessage")
                ]
                Path(line.split(" ", 1)[1].strip()).write_text(json.dumps(records))  # noqa: ASYNC240 - idle here
                api.requests.clear()
                print("dumped", flush=True)


class FakeServer:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stdout is not None
        info = json.loads(self.process.stdout.readline())
        self.base_url, self.token = info["base_url"], info["token"]

    def records(self, directory: Path) -> list[list[Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        path = directory / "records.json"
        self.process.stdin.write(f"dump {path}\n")
        self.process.stdin.flush()
        self.process.stdout.readline()
        return list(json.loads(path.read_text()))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(timeout=10)


# --- one run ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    alerts: int
    chats: int
    global_limit: float
    chat_limit: float
    seconds: float
    cpu_seconds: float
    throughput: float
    max_global_window: int
    max_chat_window: int
    min_chat_gap: float
    exactly_once: bool
    in_order: bool


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(name: str, url: str, server: FakeServer, work: Path, *, alerts: int, chats: int, scale: float) -> Result:
    engine = create_engine(url)
    sessions = session_factory(engine)
    per_chat = alerts // chats
    async with sessions.begin() as session:
        await session.execute(Outbox.__table__.delete())
        await session.execute(User.__table__.delete())
        users = [User(telegram_id=900_000 + i, first_name=f"U{i}", role="owner", locale="pt_BR") for i in range(chats)]
        session.add_all(users)
    expected: dict[int, list[str]] = defaultdict(list)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        rows = []
        for i in range(per_chat):
            for user in users:
                name_ = f"Casa {user.id}-{i:03d}"
                payload = {"property": name_, "booking_id": i + 1, "kind": "reservation", "platform": "airbnb",
                           "check_in": "2026-08-12", "check_out": "2026-08-15"}  # fmt: skip
                rows.append(outbox_row(user, "booking_new", f"bench:{i}:{user.id}", now=now, payload=payload))
                expected[user.telegram_id].append(f"<b>{name_}</b>")
                if len(rows) == 1000:
                    await add_outbox_rows(session, rows)
                    rows = []
        await add_outbox_rows(session, rows)

    config = DeliveryConfig(global_rate=25 * scale, chat_rate=1 * scale, recover_all_on_start=True)
    session_ = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bot = Bot(server.token, session=session_)
    delivery = Delivery(sessions, TelegramSender(bot, timeout=30), render_alert, config=config)
    cpu, wall = time.process_time(), time.perf_counter()
    await delivery.run_pass()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "sent"))
    await session_.close()
    await engine.dispose()
    assert left == 0, f"{left} rows not sent"

    records = [r for r in server.records(work) if r[1] == 200]
    counts = Counter((chat, text) for chat, _status, _at, text in records)
    by_chat: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for chat, _status, at, text in records:
        by_chat[chat].append((at, text.split("\n", 1)[0]))
    in_order = all([t for _at, t in sorted(by_chat[chat])] == texts for chat, texts in expected.items())
    gaps = [b[0] - a[0] for items in by_chat.values() for a, b in zip(sorted(items), sorted(items)[1:], strict=False)]
    return Result(
        name=name,
        alerts=len(records),
        chats=chats,
        global_limit=config.global_rate,
        chat_limit=config.chat_rate,
        seconds=round(wall, 2),
        cpu_seconds=round(cpu, 2),
        throughput=round(len(records) / wall, 1),
        max_global_window=max_in_window([r[2] for r in records], 1.0),
        max_chat_window=max(max_in_window([at for at, _t in items], 1.0 / scale) for items in by_chat.values()),
        min_chat_gap=round(min(gaps), 4) if gaps else 0.0,
        exactly_once=len(counts) == alerts and set(counts.values()) == {1},
        in_order=in_order,
    )


async def main(args: argparse.Namespace) -> list[Result]:
    results = []
    server = FakeServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            url = args.database_url or f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}"
            if url.startswith(("postgres://", "postgresql://")):
                url = "postgresql+asyncpg://" + url.split("://", 1)[1]
            migrate.upgrade(url)
            if args.only in (None, "real"):
                results.append(
                    await run("real", url, server, work, alerts=args.real_alerts, chats=args.chats, scale=1.0)
                )
            if args.only in (None, "scaled"):
                results.append(
                    await run("scaled", url, server, work, alerts=args.alerts, chats=args.chats, scale=args.scale)
                )
    finally:
        server.close()
    return results


def report(results: list[Result]) -> None:
    print(f"{'run':8} {'alerts':>7} {'chats':>6} {'limits /s':>12} {'wall s':>8} {'cpu s':>7} {'msg/s':>7} "
          f"{'max/1s':>7} {'chat max':>9} {'chat gap':>9} {'once':>5} {'order':>6}")  # fmt: skip
    for r in results:
        limits = f"{r.global_limit:g}/{r.chat_limit:g}"
        print(f"{r.name:8} {r.alerts:7d} {r.chats:6d} {limits:>12} {r.seconds:8.1f} {r.cpu_seconds:7.1f} "
              f"{r.throughput:7.1f} {r.max_global_window:7d} {r.max_chat_window:9d} {r.min_chat_gap:9.3f} "
              f"{r.exactly_once!s:>5} {r.in_order!s:>6}")  # fmt: skip
    print("max/1s: most arrivals at the server in any 1 s window (limit: the first 'limits' figure); chat max: most"
          " arrivals for one chat in any 1/chat-limit window (limit 1); chat gap: the smallest gap between two"
          " messages to one chat, seconds")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["real", "scaled"])
    parser.add_argument("--alerts", type=int, default=10_000, help="alerts in the scaled run")
    parser.add_argument("--real-alerts", type=int, default=1_000, help="alerts in the real-limit run")
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--scale", type=float, default=10.0, help="both limits multiplied by this in the scaled run")
    parser.add_argument("--database-url", help="default: a throwaway SQLite file")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve())
        sys.exit(0)
    figures = asyncio.run(main(arguments))
    report(figures)
    if arguments.json:
        arguments.json.write_text(json.dumps([asdict(r) for r in figures], indent=2))
