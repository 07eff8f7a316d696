"""Two real `lumina run` processes on one PostgreSQL and one Redis, in webhook mode, against the fake Bot API and a
loopback feed server: each feed is fetched once per interval in the whole cluster, each alert arrives once, a dialog
started on one instance finishes on the other, and an instance killed (SIGKILL) while it sends an alert loses and
doubles nothing: the other takes the alert back when its lease ends and sends it, marked as sent again.

Slow by nature (about a minute: several sync intervals of real time), and it needs PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.models import Feed, Property, User
from tests.e2e.delivery_harness import until
from tests.e2e.test_cli import ROOT, env, free_port
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

INTERVAL = 10  # seconds between polls of a feed (LUMINA_SYNC_INTERVAL)
LEASE = 6  # seconds before a claimed alert of a dead instance is taken back (LUMINA_DELIVERY_LEASE)
REDIS_URL = "redis://127.0.0.1:6379/13"
TZ = ZoneInfo("America/Sao_Paulo")
HOOK = "/telegram/hook"
SECRET = "cluster-secret"


async def _redis_up() -> bool:
    client = redis.from_url(REDIS_URL)
    try:
        return bool(await client.ping())
    except (OSError, redis.RedisError):
        return False
    finally:
        await client.aclose()


class Instance:
    """One `lumina run` process, its web port and its log."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.name, self.process, self.port, self.log = name, process, port, log

    async def post(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        """Deliver an update the way Telegram does to a webhook."""
        url = f"http://127.0.0.1:{self.port}{HOOK}"
        async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200, await response.text()

    async def healthy(self, http: aiohttp.ClientSession) -> bool:
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/health") as response:
                return response.status == 200
        except aiohttp.ClientConnectionError:
            return False


@asynccontextmanager
async def instance(
    name: str, tmp_path: Path, api: FakeBotAPI, database_url: str, owner: int
) -> AsyncIterator[Instance]:
    port = free_port()
    settings = {
        "LUMINA_BOT_TOKEN": api.token,
        "LUMINA_TELEGRAM_API_BASE": api.base_url_for(name),  # its calls are recorded with its name
        "LUMINA_DATABASE_URL": database_url,
        "LUMINA_REDIS_URL": REDIS_URL,
        "LUMINA_WEBHOOK_URL": f"https://lumina.example.org{HOOK}",
        "LUMINA_WEBHOOK_SECRET": SECRET,
        "LUMINA_HTTP_PORT": str(port),
        "LUMINA_OWNER_IDS": str(owner),
        "LUMINA_ALLOW_PRIVATE_FEEDS": "true",
        "LUMINA_SYNC_INTERVAL": str(INTERVAL),
        "LUMINA_SYNC_JITTER": "0",
        "LUMINA_SYNC_TICK": "1",
        "LUMINA_DELIVERY_INTERVAL": "0.5",
        "LUMINA_DELIVERY_LEASE": str(LEASE),
        "LUMINA_SOFFICE_PATH": "",
    }
    data_dir = tmp_path / name
    data_dir.mkdir()
    log = data_dir / "output.log"
    with log.open("wb") as output:  # a file, not a pipe: nobody has to drain it
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=ROOT,
            env=env(data_dir, **settings),
            stdout=output,
            stderr=output,
        )
    running = Instance(name, process, port, log)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def seed(sessions: async_sessionmaker[AsyncSession], feeds: FeedServer, owner: int) -> list[str]:
    """An owner and three properties with two Airbnb calendars each, one stay in every calendar; the paths."""
    paths = []
    async with sessions.begin() as session:
        session.add(User(telegram_id=owner, first_name="Bia", role="owner", locale="en"))
        for number in range(1, 4):
            prop = Property(name=f"Casa {number}", timezone=TZ.key, export_token=f"cluster-{number}")
            session.add(prop)
            await session.flush()
            for calendar in (1, 2):
                path = f"/casa{number}-{calendar}.ics"
                feeds.route(path, body=airbnb([first_stay(path)]))
                session.add(Feed(property_id=prop.id, url=feeds.url(path), platform="airbnb"))
                paths.append(path)
    return paths


def first_stay(path: str) -> Stay:
    calendar = int(path.removesuffix(".ics").rsplit("-", 1)[1])
    # real `lumina run` processes read the wall clock (no FakeClock crosses a process): dates weeks ahead of it
    start = datetime.now(TZ).date() + timedelta(days=10 + 7 * calendar)
    return Stay(f"{path}-first@airbnb.com", start, start + timedelta(days=2))


def book_another(feeds: FeedServer, path: str) -> None:
    """A new reservation in one calendar, beside its first stay: the alert the owner must get, once."""
    first = first_stay(path)
    second = Stay(f"{path}-second@airbnb.com", first.check_out + timedelta(days=1), first.check_out + timedelta(days=3))
    feeds.route(path, body=airbnb([first, second]))


def new_reservation_texts(api: FakeBotAPI, owner: int, name: str) -> list[str]:
    return [
        m["text"]
        for m in api.sent_messages(owner)
        if m.get("text", "").startswith(f"<b>{name}</b>\n🆕 New reservation")
    ]


async def test_two_instances_share_the_work_and_survive_a_kill(database_url: str, tmp_path: Path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances need PostgreSQL (SQLite is single-instance by design)")
    if not await _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}: the instances share dialogs through it")
    owner = random.randrange(10**9, 2 * 10**9)  # a person of its own: Redis may be shared by other runs
    engine = create_engine(database_url)
    try:
        async with FakeBotAPI() as api, FeedServer() as feeds, aiohttp.ClientSession() as http:
            paths = await seed(session_factory(engine), feeds, owner)
            async with (
                instance("a", tmp_path, api, database_url, owner) as a,
                instance("b", tmp_path, api, database_url, owner) as b,
            ):
                by_name = {"a": a, "b": b}
                await until(lambda: _all(a.healthy(http), b.healthy(http)), timeout=60)
                await until(lambda: {c.tag for c in api.calls("setWebhook")} == {"a", "b"}, timeout=60)

                # --- every feed once per interval, in the whole cluster ------------------------------------------
                started = asyncio.get_running_loop().time()
                await until(lambda: all(feeds.hits[p] >= 1 for p in paths), timeout=30)
                assert not new_reservation_texts(api, owner, "Casa 1")  # a first import is quiet
                book_another(feeds, paths[0])

                # --- a dialog that crosses instances (while the cluster syncs) ----------------------------------
                api.push_message(owner, "/properties", language_code="en")
                for update in api.take_updates():
                    await a.post(http, update)
                await until(lambda: _has_button(api, owner, "Add a property"), timeout=30)
                message, data = _button(api, owner, "Add a property")
                api.push_callback(owner, data, message_id=message, language_code="en")
                for update in api.take_updates():
                    await b.post(http, update)
                await until(lambda: "What is the property called?" in _last_text(api, owner), timeout=30)
                api.push_message(owner, "Apto 9", language_code="en")
                for update in api.take_updates():
                    await a.post(http, update)
                await until(lambda: "What is the address?" in _last_text(api, owner), timeout=30)
                api.push_message(owner, "/cancel", language_code="en")
                for update in api.take_updates():
                    await b.post(http, update)

                await until(
                    lambda: (
                        asyncio.get_running_loop().time() - started > 3.5 * INTERVAL
                        and bool(new_reservation_texts(api, owner, "Casa 1"))
                    ),
                    timeout=90,
                )
                for path in paths:
                    times = feeds.times[path]
                    assert len(times) >= 3, (path, len(times))
                    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
                    assert min(gaps) >= INTERVAL - 0.5, (path, gaps)  # never twice in an interval
                assert len(new_reservation_texts(api, owner, "Casa 1")) == 1

                # --- an instance killed while its send is on the wire ---------------------------------------------
                mark = api.mark()
                api.hold_next("sendMessage", 120)  # Telegram takes it only if the sender is still there
                book_another(feeds, paths[2])
                await until(
                    lambda: any(c.status is None for c in api.calls("sendMessage", after=mark)),
                    timeout=60,
                )
                [held] = [c for c in api.calls("sendMessage", after=mark) if c.status is None]
                assert held.params["text"].startswith("<b>Casa 2</b>\n🆕 New reservation")
                victim = by_name[held.tag]
                victim.process.send_signal(signal.SIGKILL)
                await victim.process.wait()
                await until(lambda: bool(new_reservation_texts(api, owner, "Casa 2")), timeout=LEASE + 60)
                await asyncio.sleep(2 * 0.5 + 1)  # a few more delivery passes: nothing else may come
                [sent] = new_reservation_texts(api, owner, "Casa 2")  # delivered once, by the survivor
                [delivered] = [c for c in api.calls("sendMessage", after=mark) if c.status == 200]
                assert delivered.tag != held.tag
                assert "sent again" in sent  # it says so: the host may have seen it on a dead instance's screen
    finally:
        await engine.dispose()


async def _all(*checks: Awaitable[bool]) -> bool:
    return all(await asyncio.gather(*checks))


def _last_text(api: FakeBotAPI, chat: int) -> str:
    sent = api.sent_messages(chat)
    return str(sent[-1].get("text", "")) if sent else ""


def _buttons(api: FakeBotAPI, chat: int) -> list[tuple[int, str, str]]:
    found = []
    for message in api.sent_messages(chat):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            found += [(message["message_id"], b["text"], b.get("callback_data", "")) for b in row]
    return found


def _has_button(api: FakeBotAPI, chat: int, label: str) -> bool:
    return any(label in text for _m, text, _d in _buttons(api, chat))


def _button(api: FakeBotAPI, chat: int, label: str) -> tuple[int, str]:
    message, _text, data = next(b for b in reversed(_buttons(api, chat)) if label in b[1])
    return message, data
