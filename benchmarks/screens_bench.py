"""Chat screens benchmark for "The conversation: properties, feeds and bookings in the chat" (figures and analysis:
benchmarks/README.md).

The cost per update of LUMINA's heaviest common screens, measured against a bare aiogram bot in the same run:
  today   /today: today's and tomorrow's arrivals, departures and stays in house over every property
  card    a button press b:<id>:open: the booking card (answerCallbackQuery + editMessageText)
  month   a button press mo:<property>:<year>:<month>: the month grid (answerCallbackQuery + editMessageText)
  echo    the bare bot: one Router whose message handler sends the text back (the floor for /today)
  press   the bare bot: its callback handler answers the press and edits the message (the floor for the buttons)

Both bots are real aiogram 3 Bots polling the fake Bot API (tests/support/fake_bot_api.py), which runs in a child
process, so its CPU is not counted; one FakeBotAPI per bot. LUMINA is the production Application (dispatcher,
middlewares, scheduler, delivery task, web app) on a freshly migrated SQLite database in a temporary directory, seeded
with 5 properties, 300 bookings over the year (feeds, blocks, direct stays, guests, prices), owned by a user who
claimed it through `/start <code>`. The scheduler is paused once seeded, so no sync or reminder runs meanwhile.

The child pushes each screen's updates at a steady offered load (100/s, the aim's), then at a light one (25/s: no
backlog, so own time is the update's own), then all at once (burst: capacity). Each update's "own time" is the wall
time inside Dispatcher.feed_update (timed like tests/e2e/harness.Lumina.handled): middlewares, routing, handler,
database and the bot's HTTP calls to the fake on loopback. CPU is time.process_time() of this process (every thread)
over the phase, divided by the updates; that includes polling (getUpdates, parsing the updates), which own time does
not. Wall inside AsyncSession calls, Bot API calls and aiogram's filter checks is added up per update; full GC passes
and pydantic's rebuilds of aiogram's Response[...] classes are counted. Every update is checked: every answer arrived
with HTTP 200, and its text holds what the seeded data says it should (counts on /today, the stay's dates on the card,
the booked nights of the month). Then each screen's parts run alone: its database calls, rendering, request encoding.

    .venv/bin/python benchmarks/screens_bench.py                          # ~2.5 min here
    .venv/bin/python benchmarks/screens_bench.py --updates 300 --light-updates 100 --saturation 0
    .venv/bin/python benchmarks/screens_bench.py --profile card --rate 25 --updates 250   # cProfile (CPU timer)
    .venv/bin/python benchmarks/screens_bench.py --json /tmp/screens.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import gc
import inspect
import io
import json
import pstats
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.dispatcher.event.handler import HandlerObject  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.methods import EditMessageText, Response, SendMessage, TelegramMethod  # noqa: E402
from aiogram.methods.base import TelegramType  # noqa: E402
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update  # noqa: E402
from pydantic._internal import _generics  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bot.app import Application  # noqa: E402
from bot.i18n import gettext_, use_locale  # noqa: E402
from bot.keyboards.callbacks import MenuCB  # noqa: E402
from bot.keyboards.common import button  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.views.bookings import booking_card, booking_keyboard, day_buttons, day_text, month_grid, month_text  # noqa: E402
from bot.views.format import month_title, stay_range  # noqa: E402
from domain import access  # noqa: E402
from domain import bookings as bookings_service  # noqa: E402
from domain.bookings import DayView  # noqa: E402
from storage import migrate  # noqa: E402
from storage.models import Booking, Feed, Guest, Property, User  # noqa: E402

OWNER = 5001  # LUMINA's owner, who speaks pt-BR
BARE_USER = 5002  # who talks to the bare bot
LANGUAGE = "pt-BR"
LOCALE = "pt_BR"
TZ = ZoneInfo("America/Sao_Paulo")
PROPERTY_NAMES = ["Apto 101 Copacabana", "Casa 7 Búzios", "Studio Paulista", "Loft Pinheiros", "Chalé Serra & Mar"]
BOOKINGS_PER_PROPERTY = 60
SCREENS = 97  # messages the presses are spread over; prime, so a message never gets the same screen twice running
FIRST_NAMES = ["Maria", "João", "Ana", "Pedro", "Lucía", "John", "Émilie", "Carlos", "Fernanda", "Rafael", "Yuki"]
LAST_NAMES = ["Souza", "Silva", "Oliveira", "Santos", "Pereira", "Smith", "Dubois", "García", "Costa", "Tanaka"]


# --- the child process: two fake Bot APIs ------------------------------------------------------------------------


@dataclass
class _ChildRun:
    mark: int
    pushed: dict[int, float] = field(default_factory=dict)  # update_id -> time.time() when queued
    queries: dict[int, str] = field(default_factory=dict)  # update_id -> callback_query id
    task: asyncio.Task[None] | None = None


async def serve() -> None:
    """Two FakeBotAPIs driven by JSON lines on stdin: run (push updates at a rate), report (what the bot did)."""
    from tests.support.fake_bot_api import FakeBotAPI

    apis = {
        "bare": FakeBotAPI(bot_id=7000000002, first_name="Bare", username="bare_bench_bot"),
        "lumina": FakeBotAPI(),
    }
    for api in apis.values():
        await api.start()
    print(json.dumps({name: [api.base_url, api.token] for name, api in apis.items()}), flush=True)
    loop = asyncio.get_running_loop()
    runs: dict[str, _ChildRun] = {}
    presses: defaultdict[int, int] = defaultdict(int)  # per chat

    async def push(api: FakeBotAPI, run: _ChildRun, updates: list[dict[str, Any]], rate: float) -> None:
        start = loop.time()
        screens: list[int] = []
        for i, spec in enumerate(updates):
            if rate > 0 and (delay := start + i / rate - loop.time()) > 0:
                await asyncio.sleep(delay)
            if "text" in spec:
                update_id = api.push_message(spec["user"], spec["text"], language_code=LANGUAGE)
            else:
                if not screens:  # the buttons are pressed under the bot's newest messages in turn: a press edits its
                    # message, and one message pressed twice with the same answer would be "message is not modified"
                    screens = [m["message_id"] for m in api.sent_messages(spec["user"])[-SCREENS:]]
                message_id = screens[presses[spec["user"]] % len(screens)]  # the turn goes on from phase to phase
                presses[spec["user"]] += 1
                update_id = api.push_callback(spec["user"], spec["data"], message_id=message_id, language_code=LANGUAGE)
                run.queries[update_id] = api._updates[-1]["callback_query"]["id"]
            run.pushed[update_id] = time.time()

    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            command = json.loads(line)
            if command["op"] == "quit":
                return
            api = apis[command["bot"]]
            if command["op"] == "run":
                run = runs[command["bot"]] = _ChildRun(mark=api.mark())
                first = api._next_update_id
                run.task = asyncio.create_task(push(api, run, command["updates"], float(command["rate"])))
                reply: dict[str, Any] = {"first": first}
            else:  # report
                run = runs[command["bot"]]
                if run.task is not None:
                    await run.task
                calls = [r for r in api.requests if r.seq > run.mark]
                reply = {
                    "pushed": run.pushed,
                    "queries": run.queries,
                    "polls": sum(1 for r in calls if r.method == "getUpdates"),
                    "calls": [
                        [
                            r.method,
                            r.status,
                            r.params.get("chat_id"),
                            r.params.get("text"),
                            r.params.get("callback_query_id"),
                        ]
                        for r in calls
                        if r.method != "getUpdates"
                    ],
                    "cpu": time.process_time(),
                }
                api.requests.clear()
            print(json.dumps(reply), flush=True)
    finally:
        for api in apis.values():
            await api.stop()


class FakeChild:
    """The child above, talked to over its pipes without blocking this process's event loop."""

    def __init__(self, process: asyncio.subprocess.Process, info: dict[str, list[str]]) -> None:
        self.process = process
        self.info = info

    @classmethod
    async def start(cls) -> FakeChild:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            limit=1 << 27,
        )
        child = cls(process, {})
        child.info = json.loads(await child._readline())
        return child

    async def _readline(self) -> bytes:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake Bot API child exited with {await self.process.wait()}")
        return line

    async def call(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        reply: dict[str, Any] = json.loads(await self._readline())
        return reply

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            with contextlib.suppress(OSError):
                self.process.stdin.write(b'{"op": "quit"}\n')
                await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


# --- timing each update ------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One update: wall inside feed_update, loop-thread CPU meanwhile (other tasks included), HTTP and DB waits."""

    wall: float = 0.0
    loop_cpu: float = 0.0
    end_epoch: float = 0.0
    http: float = 0.0
    http_calls: int = 0
    filters: float = 0.0  # routing: evaluating handlers' filters (HandlerObject.check) until one matches
    filter_checks: int = 0
    db: float = 0.0
    db_calls: int = 0
    db_depth: int = 0
    db_by: dict[str, list[float]] = field(default_factory=dict)  # AsyncSession method -> [calls, seconds]


_CURRENT: ContextVar[Sample | None] = ContextVar("screens_bench_sample", default=None)


class Probe:
    """Wraps a dispatcher's feed_update (like tests/e2e/harness.Lumina does) to time every update."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.samples: dict[int, Sample] = {}
        self._changed = asyncio.Event()
        feed_update = dispatcher.feed_update

        async def timed(bot: Bot, update: Update, **kwargs: Any) -> Any:
            sample = Sample()
            _CURRENT.set(sample)  # this update's own task context: the HTTP and DB timers below add to it
            cpu, start = time.thread_time(), time.perf_counter()
            try:
                return await feed_update(bot, update, **kwargs)
            finally:
                sample.wall = time.perf_counter() - start
                sample.loop_cpu = time.thread_time() - cpu
                sample.end_epoch = time.time()
                self.samples[update.update_id] = sample
                self._changed.set()

        dispatcher.feed_update = timed  # type: ignore[method-assign]

    async def wait_all(self, ids: Iterable[int], seconds: float) -> None:
        wanted = set(ids)
        async with asyncio.timeout(seconds):
            while not wanted <= self.samples.keys():
                self._changed.clear()
                await self._changed.wait()


def time_filter_checks() -> None:
    """Adds the wall time aiogram spends deciding which handler takes the update to the current update."""
    original = HandlerObject.check

    async def check(self: HandlerObject, *args: Any, **kwargs: Any) -> tuple[bool, dict[str, Any]]:
        sample = _CURRENT.get()
        start = time.perf_counter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            if sample is not None:
                sample.filters += time.perf_counter() - start
                sample.filter_checks += 1

    HandlerObject.check = check  # type: ignore[method-assign]


class HttpTimer(BaseRequestMiddleware):
    """Adds each Bot API call's wall time (request, the fake's answer, decoding) to the current update."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        sample = _CURRENT.get()
        start = time.perf_counter()
        try:
            return await make_request(bot, method)
        finally:
            if sample is not None:
                sample.http += time.perf_counter() - start
                sample.http_calls += 1


def time_database_calls() -> None:
    """Adds the wall time of AsyncSession's awaitables (SQLAlchemy, aiosqlite's thread hop, SQLite) to the current
    update; only the outermost call counts (scalars() awaits execute())."""

    def timed(name: str, original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(original)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            sample = _CURRENT.get()
            if sample is None or sample.db_depth:
                return await original(*args, **kwargs)
            sample.db_depth += 1
            start = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                sample.db_depth -= 1
                sample.db += time.perf_counter() - start
                sample.db_calls += 1
                by = sample.db_by.setdefault(name, [0, 0.0])
                by[0] += 1
                by[1] += time.perf_counter() - start

        return wrapper

    for name in ("execute", "scalar", "scalars", "get", "flush", "commit", "rollback", "close"):
        setattr(AsyncSession, name, timed(name, getattr(AsyncSession, name)))


class GcWatch:
    """Cyclic-GC passes by generation, and how long they stopped the process (gc.callbacks)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count[info["generation"]] += 1
            self.seconds[info["generation"]] += time.perf_counter() - self._start

    def snapshot(self) -> tuple[int, float, float]:
        """(full collections, their seconds, seconds of all collections)"""
        return self.count[2], self.seconds[2], sum(self.seconds)


class RebuildWatch:
    """How often pydantic builds a generic class such as aiogram's Response[bool] again, and the CPU it takes.

    aiogram validates every Bot API answer with Response[<the method's return type>]; pydantic keeps those classes in
    a WeakValueDictionary, so once nothing holds one, the next cyclic GC drops it and the next call rebuilds it."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.names: Counter[str] = Counter()
        original = _generics.create_generic_submodel

        def counted(model_name: str, origin: Any, args: Any, params: Any) -> Any:
            start = time.thread_time()
            try:
                return original(model_name, origin, args, params)
            finally:
                self.count += 1
                self.seconds += time.thread_time() - start
                self.names[model_name] += 1

        _generics.create_generic_submodel = counted

    def snapshot(self) -> tuple[int, float]:
        return self.count, self.seconds


# --- the two bots --------------------------------------------------------------------------------------------------


class Driven:
    """A bot under test: its dispatcher's probe and the polling task."""

    def __init__(self, name: str, bot: Bot, dispatcher: Dispatcher) -> None:
        self.name = name
        self.bot = bot
        self.dispatcher = dispatcher
        self.probe = Probe(dispatcher)


def bare_bot(base_url: str, token: str) -> Driven:
    """The floor: aiogram + HTTP and nothing else, with LUMINA's Bot settings (AiohttpSession, HTML by default)."""
    router = Router(name="bare")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "-")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(f"pressed {query.data}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    return Driven("bare", bot, dispatcher)


# --- seeding -------------------------------------------------------------------------------------------------------


@dataclass
class Stay:
    prop: int  # index in PROPERTY_NAMES
    source: str  # airbnb | booking | direct
    kind: str  # reservation | block
    status: str
    check_in: date
    check_out: date
    code: str | None
    id: int = 0


def plan_stays(rng: random.Random, today: date) -> list[Stay]:
    """60 stays per property from ~2.5 months ago to ~9 months ahead: 1-7 nights, back to back or with gaps."""
    stays = []
    for prop in range(len(PROPERTY_NAMES)):
        day = today - timedelta(days=75 + rng.randint(0, 6))
        for _ in range(BOOKINGS_PER_PROPERTY):
            day += timedelta(days=rng.choice([0, 0, 1, 1, 2, 3]))
            nights = rng.randint(1, 7)
            roll = rng.random()
            kind = "block" if roll < 0.08 else "reservation"
            source = "airbnb" if kind == "block" or roll < 0.55 else ("booking" if roll < 0.9 else "direct")
            status = "cancelled" if kind == "reservation" and rng.random() < 0.05 else "active"
            code = None
            if kind == "reservation" and source == "airbnb":
                code = "HM" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
            elif kind == "reservation" and source == "booking":
                code = str(rng.randint(10**9, 10**10 - 1))
            stays.append(Stay(prop, source, kind, status, day, day + timedelta(days=nights), code))
            if status != "cancelled":
                day += timedelta(days=nights)
    return stays


async def seed(app: Application, stays: list[Stay], rng: random.Random) -> list[int]:
    """Properties, two feeds each (never due: next sync in a year), the stays, guest details on some. Returns the
    property ids."""
    now = datetime.now(UTC)
    async with app.services.sessions.begin() as session:
        owner = await session.scalar(select(User).where(User.telegram_id == OWNER))
        assert owner is not None and owner.role == "owner", "the owner did not claim the bot"
        props = [
            Property(
                name=name,
                timezone="America/Sao_Paulo",
                export_token=f"{i}-bench",
                currency="BRL",
                address=f"Rua {i + 1}, 100",
                created_by=owner.id,
            )
            for i, name in enumerate(PROPERTY_NAMES)
        ]
        session.add_all(props)
        await session.flush()
        feeds: dict[tuple[int, str], Feed] = {}
        for i, prop in enumerate(props):
            for platform, url in (
                ("airbnb", "https://www.airbnb.com/calendar/ical/{}.ics?s=x"),
                ("booking", "https://ical.booking.com/v1/export?t={}"),
            ):
                feeds[i, platform] = Feed(
                    property_id=prop.id,
                    url=url.format(1000 + i),
                    platform=platform,
                    next_sync_at=now + timedelta(days=365),
                    last_success_at=now,
                )
        session.add_all(feeds.values())
        await session.flush()
        rows = []
        for n, stay in enumerate(stays):
            feed = feeds.get((stay.prop, stay.source))
            booking = Booking(
                property_id=props[stay.prop].id,
                feed_id=feed.id if feed else None,
                source=stay.source,
                kind=stay.kind,
                status=stay.status,
                uid=f"bench-{n}@{stay.source}" if feed else None,
                export_uid=f"bench-{n}-e",
                check_in=stay.check_in,
                check_out=stay.check_out,
                summary="Reserved" if stay.kind == "reservation" else "Airbnb (Not available)",
                reservation_code=stay.code,
                first_seen_at=now,
                last_seen_at=now,
                currency="BRL",
                cancelled_at=now if stay.status == "cancelled" else None,
                created_by=owner.id if stay.source == "direct" else None,
            )
            if stay.kind == "reservation":
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                if stay.source == "airbnb":
                    booking.phone_last4 = f"{rng.randint(0, 9999):04d}"
                if stay.source == "booking":
                    booking.feed_guest_name = name.upper()
                if stay.source == "direct" or rng.random() < 0.4:
                    booking.guest_name = name
                    booking.guests_count = rng.randint(1, 6)
                if rng.random() < 0.5:
                    booking.price = Decimal(rng.randint(30_000, 500_000)) / 100
                if rng.random() < 0.2:
                    booking.guest_phone = f"+55 11 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
                    booking.vehicle_plate = f"{''.join(rng.choices(string.ascii_uppercase, k=3))}1D23"
                if rng.random() < 0.1:
                    booking.notes = "Chegada tarde; deixar a chave com o porteiro <sempre>."
            rows.append(booking)
        session.add_all(rows)
        await session.flush()
        guests = []
        for stay, booking in zip(stays, rows, strict=True):
            stay.id = booking.id
            if stay.kind == "reservation" and rng.random() < 0.25:
                for position in range(rng.randint(1, 3)):
                    cpf = (
                        f"{rng.randint(100, 999)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}-{rng.randint(10, 99)}"
                    )
                    guests.append(
                        Guest(
                            booking_id=booking.id,
                            position=position,
                            document_type="CPF",
                            document_number=cpf,
                            full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                        )
                    )
        session.add_all(guests)
        return [p.id for p in props]


# --- what each screen must show (from the seeded plan, not from LUMINA) -------------------------------------------


def live(stay: Stay) -> bool:
    return stay.status == "active"


def today_lines(stays: list[Stay], today: date) -> list[str]:
    """The count lines of /today: arrivals, departures, in house; today, then tomorrow (a section with nobody in it
    is left out)."""
    with use_locale(LOCALE):
        labels = [gettext_("Arrivals"), gettext_("Departures"), gettext_("In house")]
    lines = []
    for day in (today, today + timedelta(days=1)):
        guests = [s for s in stays if live(s) and s.kind == "reservation" and s.check_in <= day <= s.check_out]
        counts = [
            sum(1 for s in guests if s.check_in == day),
            sum(1 for s in guests if s.check_in != day and s.check_out == day),
            sum(1 for s in guests if s.check_in < day < s.check_out),
        ]
        lines += [f"{label} ({count})" for label, count in zip(labels, counts, strict=True) if count]
    return lines


def card_key(stay: Stay) -> tuple[str, str]:
    """The card's first and third lines: the property, then the dates."""
    with use_locale(LOCALE):
        return f"🏠 <b>{escape(PROPERTY_NAMES[stay.prop], quote=False)}</b>", stay_range(stay.check_in, stay.check_out)


def month_key(stays: list[Stay], prop: int, year: int, month: int) -> tuple[str, str]:
    """The month view's two text lines, with the booked nights counted from the plan."""
    first = date(year, month, 1)
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    nights = {
        s.check_in + timedelta(days=k)
        for s in stays
        if s.prop == prop and live(s) and s.kind == "reservation"
        for k in range((s.check_out - s.check_in).days)
    }
    booked = sum(1 for d in nights if first <= d < after)
    with use_locale(LOCALE):
        title = f"📅 <b>{escape(PROPERTY_NAMES[prop], quote=False)}</b> — {month_title(year, month)}"
        line = gettext_("{booked} of {days} nights booked. • guest · × blocked · [ ] today")
        return title, line.format(booked=booked, days=(after - first).days)


# --- checking a phase's answers ------------------------------------------------------------------------------------


def check_answers(
    report: dict[str, Any],
    *,
    chat: int,
    sends: list[str] | None,
    edits: Counter[tuple[str, ...]] | None,
    key: Callable[[str], tuple[str, ...]] | None = None,
    today: list[str] | None = None,
) -> str:
    """Every update answered with HTTP 200 and the expected text; raises AssertionError otherwise."""
    calls = report["calls"]
    failed = [c for c in calls if c[1] != 200]
    assert not failed, f"{len(failed)} call(s) failed, e.g. {failed[:3]}"
    by_method = Counter(c[0] for c in calls)
    queries = set(report["queries"].values())
    if sends is not None:
        texts = [c[3] for c in calls if c[0] == "sendMessage" and c[2] == chat]
        assert len(texts) == len(sends), f"{len(texts)} sendMessage for {len(sends)} updates"
        if today is not None:
            pattern = re.compile(r"^(.+ \(\d+\))$", re.M)
            wrong = [t for t in texts if pattern.findall(t) != today]
            assert not wrong, f"{len(wrong)} /today answers with wrong counts, e.g. {wrong[0]!r} (want {today})"
        else:
            assert Counter(texts) == Counter(sends), "echoed texts differ from the texts sent"
    if edits is not None:
        answered = {c[4] for c in calls if c[0] == "answerCallbackQuery"}
        assert answered == queries and by_method["answerCallbackQuery"] == len(queries), (
            f"{by_method['answerCallbackQuery']} answers, {len(queries - answered)} presses unanswered"
        )
        texts = [c[3] for c in calls if c[0] == "editMessageText" and c[2] == chat]
        got = Counter(key(t) if key else (t,) for t in texts)
        assert got == edits, f"edited screens differ: missing {list((edits - got).items())[:3]}, extra " + str(
            list((got - edits).items())[:3]
        )
    expected = {"sendMessage"} if sends is not None else {"answerCallbackQuery", "editMessageText"}
    assert set(by_method) <= expected, f"unexpected calls: {dict(by_method)}"
    return ", ".join(f"{count} x {method} 200" for method, count in sorted(by_method.items()))


# --- phases --------------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def stats_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50) * 1000, 2),
        "p95": round(percentile(values, 95) * 1000, 2),
        "p99": round(percentile(values, 99) * 1000, 2),
        "mean": round(sum(values) / len(values) * 1000, 2),
        "max": round(max(values) * 1000, 2),
    }


@dataclass
class Phase:
    screen: str
    mode: str  # "100/s", "25/s": a steady offered load; "burst": all pushed at once
    rate: float
    updates: int
    wall_s: float
    cpu_s: float  # this process, every thread
    loop_cpu_s: float  # the event-loop thread only; the rest is aiosqlite's threads
    fake_cpu_s: float  # the child, for scale: not counted anywhere else
    throughput: float  # updates per second, first push to last update finished
    own_ms: dict[str, float]
    e2e_ms: dict[str, float]  # queued at the fake -> feed_update finished: adds polling and the task hand-off
    loop_cpu_ms: dict[str, float]  # per update, loop-thread CPU while it ran (other tasks' slices included)
    http_ms: float  # means per update
    http_calls: float
    filters_ms: float
    filter_checks: float
    db_ms: float
    db_calls: float
    db_by: dict[str, tuple[float, float]]  # AsyncSession method -> (calls, ms) per update
    gc_full: int  # full (generation 2) collections during the phase
    gc_full_ms: float  # their total pause
    gc_ms: float  # every collection's pause
    rebuilds: int  # pydantic generic classes built again (Response[...])
    rebuild_ms: float
    polls: int
    verified: str

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.updates * 1000


@dataclass
class Context:
    child: FakeChild
    bots: dict[str, Driven]
    stays: list[Stay]
    property_ids: list[int]
    today: date
    months: list[tuple[int, int]]
    gc_watch: GcWatch
    rebuild_watch: RebuildWatch
    fake_cpu: float = 0.0


def screen_updates(ctx: Context, screen: str, count: int, offset: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The updates of `count` presses/messages of one screen, and what check_answers needs for them."""
    if screen == "echo":
        texts = [f"echo {offset + i} — olá, tudo bem?" for i in range(count)]
        return [{"user": BARE_USER, "text": t} for t in texts], {"chat": BARE_USER, "sends": texts, "edits": None}
    if screen == "press":
        datas = [f"bare:{offset + i}" for i in range(count)]
        edits: Counter[tuple[str, ...]] = Counter((f"pressed {d}",) for d in datas)
        return [{"user": BARE_USER, "data": d} for d in datas], {"chat": BARE_USER, "sends": None, "edits": edits}
    if screen == "today":
        updates = [{"user": OWNER, "text": "/today"} for _ in range(count)]
        return updates, {
            "chat": OWNER,
            "sends": ["/today"] * count,
            "edits": None,
            "today": today_lines(ctx.stays, ctx.today),
        }
    if screen == "card":
        pressable = [s for s in ctx.stays if live(s) and s.kind == "reservation"]
        random.Random(7).shuffle(pressable)  # neighbours differ (never "message is not modified")
        chosen = [pressable[(offset + i) % len(pressable)] for i in range(count)]
        edits = Counter[tuple[str, ...]](card_key(s) for s in chosen)
        return [{"user": OWNER, "data": f"b:{s.id}:open"} for s in chosen], {
            "chat": OWNER,
            "sends": None,
            "edits": edits,
            "key": lambda t: tuple(t.split("\n")[0:3:2]),
        }
    assert screen == "month"
    pairs = [(p, y, m) for y, m in ctx.months for p in range(len(PROPERTY_NAMES))]
    chosen_months = [pairs[(offset + i) % len(pairs)] for i in range(count)]
    edits = Counter[tuple[str, ...]](month_key(ctx.stays, p, y, m) for p, y, m in chosen_months)
    updates = [{"user": OWNER, "data": f"mo:{ctx.property_ids[p]}:{y}:{m}"} for p, y, m in chosen_months]
    return updates, {"chat": OWNER, "sends": None, "edits": edits, "key": lambda t: tuple(t.split("\n")[:2])}


SCREEN_BOT = {"echo": "bare", "press": "bare", "today": "lumina", "card": "lumina", "month": "lumina"}
_offsets: defaultdict[str, int] = defaultdict(int)


async def run_phase(
    ctx: Context, screen: str, count: int, rate: float, mode: str, profiler: cProfile.Profile | None = None
) -> Phase:
    driven = ctx.bots[SCREEN_BOT[screen]]
    updates, expect = screen_updates(ctx, screen, count, _offsets[screen])
    _offsets[screen] += count
    gc.collect()  # every phase starts from the same heap state, and this pass is not counted
    gc_before, rebuilds_before = ctx.gc_watch.snapshot(), ctx.rebuild_watch.snapshot()
    if profiler is not None:
        profiler.enable()
    cpu, loop_cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
    reply = await ctx.child.call(op="run", bot=driven.name, rate=rate, updates=updates)
    ids = range(reply["first"], reply["first"] + count)
    await driven.probe.wait_all(ids, seconds=60 + count / max(rate, 10))
    cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
    wall = time.perf_counter() - wall
    if profiler is not None:
        profiler.disable()
    gc_after, rebuilds_after = ctx.gc_watch.snapshot(), ctx.rebuild_watch.snapshot()
    report = await ctx.child.call(op="report", bot=driven.name)
    verified = check_answers(report, **expect)
    fake_cpu, ctx.fake_cpu = report["cpu"] - ctx.fake_cpu, report["cpu"]
    samples = [driven.probe.samples[i] for i in ids]
    pushed = {int(k): v for k, v in report["pushed"].items()}
    e2e = [s.end_epoch - pushed[i] for i, s in zip(ids, samples, strict=True)]
    span = max(s.end_epoch for s in samples) - min(pushed.values())
    return Phase(
        screen=screen,
        mode=mode,
        rate=rate,
        updates=count,
        wall_s=round(wall, 3),
        cpu_s=round(cpu, 3),
        loop_cpu_s=round(loop_cpu, 3),
        fake_cpu_s=round(fake_cpu, 3),
        throughput=round(count / span, 1),
        own_ms=stats_ms([s.wall for s in samples]),
        e2e_ms=stats_ms(e2e),
        loop_cpu_ms=stats_ms([s.loop_cpu for s in samples]),
        http_ms=round(sum(s.http for s in samples) / count * 1000, 3),
        http_calls=sum(s.http_calls for s in samples) / count,
        filters_ms=round(sum(s.filters for s in samples) / count * 1000, 3),
        filter_checks=sum(s.filter_checks for s in samples) / count,
        db_ms=round(sum(s.db for s in samples) / count * 1000, 3),
        db_calls=sum(s.db_calls for s in samples) / count,
        db_by={
            name: (
                sum(s.db_by.get(name, [0, 0.0])[0] for s in samples) / count,
                round(sum(s.db_by.get(name, [0, 0.0])[1] for s in samples) / count * 1000, 3),
            )
            for name in sorted({name for s in samples for name in s.db_by})
        },
        gc_full=gc_after[0] - gc_before[0],
        gc_full_ms=round((gc_after[1] - gc_before[1]) * 1000, 1),
        gc_ms=round((gc_after[2] - gc_before[2]) * 1000, 1),
        rebuilds=rebuilds_after[0] - rebuilds_before[0],
        rebuild_ms=round((rebuilds_after[1] - rebuilds_before[1]) * 1000, 1),
        polls=report["polls"],
        verified=verified,
    )


# --- the parts of a screen, one at a time ---------------------------------------------------------------------------


async def components(app: Application, ctx: Context, n: int) -> list[dict[str, Any]]:
    """The database work, the rendering and aiogram's request encoding of each screen, run alone and one at a time (no
    polling, no concurrency), so their CPU is exact. The same calls the handlers make, in the same order."""
    sessions = app.services.sessions
    today = ctx.today
    pressable = [s for s in ctx.stays if live(s) and s.kind == "reservation"]
    pairs = [(ctx.property_ids[p], y, m) for y, m in ctx.months for p in range(len(PROPERTY_NAMES))]

    async def owner(session: AsyncSession) -> User:
        user = await access.find_user(session, OWNER)
        assert user is not None
        return user

    async def db_floor(i: int) -> None:  # what the middlewares cost every update: a session, the user, a commit
        async with sessions() as session:
            await owner(session)
            await session.commit()

    async def db_today(i: int) -> list[DayView]:
        async with sessions() as session:
            user = await owner(session)
            views = await bookings_service.day_views(session, user, today, days=2)
            await session.commit()
            return views

    async def db_card(i: int) -> bookings_service.Card:
        async with sessions() as session:
            card = await bookings_service.card(session, await owner(session), pressable[i % len(pressable)].id)
            assert card is not None and card.can_manage
            await session.commit()
            return card

    async def db_month(i: int) -> tuple[Property, list[Booking], int, int]:
        property_id, year, month = pairs[i % len(pairs)]
        async with sessions() as session:
            found = await bookings_service.month_view(session, await owner(session), property_id, date(year, month, 1))
            assert found is not None
            await session.commit()
            return found[0], found[1], year, month

    today_views = await db_today(0)
    cards = [await db_card(i) for i in range(50)]
    months = [await db_month(i) for i in range(len(pairs))]

    def render_today(i: int) -> tuple[str, InlineKeyboardMarkup]:
        with use_locale(LOCALE):
            text = day_text(today_views[0], title=gettext_("Today")) + "\n\n"
            text += day_text(today_views[1], title=gettext_("Tomorrow"))
            rows = day_buttons(today_views) + [[button(gettext_("☰ Menu"), MenuCB(to="menu"))]]
            return text, InlineKeyboardMarkup(inline_keyboard=rows)

    def render_card(i: int) -> tuple[str, InlineKeyboardMarkup]:
        card = cards[i % len(cards)]
        with use_locale(LOCALE):
            return booking_card(card.booking, card.property, card.feed, card.guests), booking_keyboard(
                card.booking, can_manage=True
            )

    def render_month(i: int) -> tuple[str, InlineKeyboardMarkup]:
        prop, stays, year, month = months[i % len(months)]
        with use_locale(LOCALE):
            return month_text(prop, stays, year, month), month_grid(prop, year, month, stays, today=today)

    session = app.bot.session
    assert isinstance(session, AiohttpSession)

    def encoder(render: Callable[[int], tuple[str, InlineKeyboardMarkup]], edit: bool) -> Callable[[int], Any]:
        rendered = [render(i) for i in range(50)]

        def encode(i: int) -> Any:  # the body the bot posts: prepare_value and JSON encoding per answer
            text, markup = rendered[i % len(rendered)]
            method: TelegramMethod[Any] = (
                EditMessageText(chat_id=OWNER, message_id=1, text=text, reply_markup=markup)
                if edit
                else SendMessage(chat_id=OWNER, text=text, reply_markup=markup)
            )
            return session.build_form_data(app.bot, method)  # bot/bot_api.JsonSession: an encoded JSON body

        return encode

    parts: list[tuple[str, Callable[[int], Any]]] = [
        ("db: session + find_user + commit (every update)", db_floor),
        ("db: /today (one day-views query)", db_today),
        ("db: card (one query)", db_card),
        ("db: month (one query)", db_month),
        ("render: /today", render_today),
        ("render: card", render_card),
        ("render: month grid", render_month),
        ("encode: /today sendMessage body", encoder(render_today, edit=False)),
        ("encode: card editMessageText body", encoder(render_card, edit=True)),
        ("encode: month editMessageText body", encoder(render_month, edit=True)),
    ]
    results = []
    print(f"\nparts of the screens alone, {n} runs each, ms per run (CPU = process, loop = event-loop thread):")
    for name, part in parts:
        gc.collect()
        cpu, loop_cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
        for i in range(n):
            result = part(i)
            if inspect.isawaitable(result):
                await result
        cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
        wall = time.perf_counter() - wall
        row = {"part": name, "cpu_ms": cpu / n * 1000, "loop_ms": loop_cpu / n * 1000, "wall_ms": wall / n * 1000}
        results.append(row)
        print(f"  {name:<50} CPU {row['cpu_ms']:>6.3f}  loop {row['loop_ms']:>6.3f}  wall {row['wall_ms']:>6.3f}")
    return results


# --- running it all ------------------------------------------------------------------------------------------------


async def start_lumina(child: FakeChild, tmp: Path, url: str) -> tuple[Driven, Application]:
    base_url, token = child.info["lumina"]
    settings = load_settings(bot_token=token, telegram_api_base=base_url, database_url=url, http_port=0, data_dir=tmp)
    app = Application(settings)
    with contextlib.redirect_stdout(io.StringIO()):  # the setup-code banner
        await app.start()
    return Driven("lumina", app.bot, app.dispatcher), app


async def benchmark(args: argparse.Namespace, tmp: Path, url: str) -> dict[str, Any]:
    if not args.no_breakdown:
        time_database_calls()
        time_filter_checks()
    gc_watch, rebuild_watch = GcWatch(), RebuildWatch()
    child = await FakeChild.start()
    bare = bare_bot(*child.info["bare"])
    lumina, app = await start_lumina(child, tmp, url)
    for driven in (bare, lumina):
        driven.bot.session.middleware(HttpTimer())
    bare_polling = asyncio.create_task(bare.dispatcher.start_polling(bare.bot, handle_signals=False))
    rng = random.Random(args.seed)
    today = datetime.now(TZ).date()
    stays = plan_stays(rng, today)
    months = [((today.month - 1 + k) // 12 + today.year, (today.month - 1 + k) % 12 + 1) for k in range(12)]
    results: list[Phase] = []
    try:
        assert app.setup_code is not None
        reply = await child.call(
            op="run", bot="lumina", rate=0, updates=[{"user": OWNER, "text": f"/start {app.setup_code}"}]
        )
        await lumina.probe.wait_all([reply["first"]], seconds=30)
        await child.call(op="report", bot="lumina")
        property_ids = await seed(app, stays, rng)
        app.scheduler.pause()  # no feed sync or reminder pass during the measurements
        bots = {"bare": bare, "lumina": lumina}
        ctx = Context(child, bots, stays, property_ids, today, months, gc_watch, rebuild_watch)
        screens = ["echo", "today", "press", "card", "month"]
        if args.profile:
            screens = ["echo", "today", "press", args.profile] if args.profile in ("card", "month") else screens
        for screen in screens:  # warm-up: imports, caches, the screen the buttons are pressed under
            await run_phase(ctx, screen, args.warmup, 0, "warm-up")
        frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
        print(f"objects frozen by Application.start {frozen}; tracked {tracked}", flush=True)
        if args.profile:
            profiler = cProfile.Profile(time.thread_time)  # CPU, not wall: the idle epoll wait is not cost
            phase = await run_phase(ctx, args.profile, args.updates, args.rate, f"{args.rate:g}/s", profiler)
            print_phases([phase])
            print_profile(profiler, phase.updates)
            if args.profile_dump:
                profiler.dump_stats(args.profile_dump)
            return {"phases": [asdict(phase)]}
        loads = [
            (f"{args.rate:g}/s", args.rate, args.updates),
            (f"{args.light_rate:g}/s", args.light_rate, args.light_updates),
            ("burst", 0.0, args.saturation),
        ]
        for mode, rate, count in loads:
            if count <= 0:
                continue
            for screen in screens:
                results.append(await run_phase(ctx, screen, count, rate, mode))
                print_phases(results[-1:], header=len(results) == 1)
        parts: list[dict[str, Any]] = await components(app, ctx, args.components) if args.components else []
    finally:
        await bare.dispatcher.stop_polling()
        await bare_polling
        await bare.bot.session.close()
        await app.stop()
        await child.close()
    print(f"\ngeneric classes rebuilt over the whole run: {dict(rebuild_watch.names.most_common(4))}")
    print("database wall per update by AsyncSession method (calls x, ms; outermost calls only):")
    for p in results:
        if p.db_by and p.mode != "burst":
            by_method = ", ".join(f"{name} {calls:.1f}x {ms:.2f}" for name, (calls, ms) in p.db_by.items())
            print(f"  {p.screen:<5} {p.mode:<6} {by_method}")
    summary = summarize(results, args)
    return {"phases": [asdict(p) | {"cpu_ms": p.cpu_ms} for p in results], "summary": summary, "parts": parts}


COLUMNS = "\n".join(
    [
        "Per update, in ms: own = wall inside feed_update; CPU = this process's CPU / updates; loop = its event-loop",
        "thread's; http, db, route = wall in Bot API calls, AsyncSession calls, filter checks; calls = HTTP/DB calls/",
        "filter checks; e2e = queued at the fake -> handled; gc2 = full GC passes/ms; rebuilt = pydantic classes",
        "rebuilt/ms; fake = the child's CPU s",
    ]
)


def print_phases(phases: list[Phase], *, header: bool = True) -> None:
    if header:
        print(
            f"{'screen':<6} {'load':<6} {'n':>5} {'upd/s':>6} | {'own p50':>7} {'p95':>6} {'p99':>7} {'mean':>6} "
            f"{'max':>7} | {'CPU':>5} {'loop':>5} | {'http':>5} {'db':>5} {'route':>5} {'calls':>10} | "
            f"{'e2e p50':>7} {'p99':>7} | {'gc2':>9} {'rebuilt':>9} | fake | checked"
        )
    for p in phases:
        o, e = p.own_ms, p.e2e_ms
        loop = p.loop_cpu_s / p.updates * 1000
        calls = f"{p.http_calls:.1f}/{p.db_calls:.1f}/{p.filter_checks:.0f}"
        print(
            f"{p.screen:<6} {p.mode:<6} {p.updates:>5} {p.throughput:>6.1f} | {o['p50']:>7.2f} {o['p95']:>6.1f} "
            f"{o['p99']:>7.1f} {o['mean']:>6.1f} {o['max']:>7.1f} | {p.cpu_ms:>5.2f} {loop:>5.2f} | "
            f"{p.http_ms:>5.2f} {p.db_ms:>5.1f} {p.filters_ms:>5.2f} {calls:>10} | {e['p50']:>7.2f} "
            f"{e['p99']:>7.1f} | {p.gc_full:>2}/{p.gc_full_ms:>6.0f} {p.rebuilds:>3}/{p.rebuild_ms:>5.0f} | "
            f"{p.fake_cpu_s:>4.1f} | {p.verified}",
            flush=True,
        )


def summarize(results: list[Phase], args: argparse.Namespace) -> dict[str, Any]:
    by = {(p.screen, p.mode): p for p in results}
    summary: dict[str, Any] = {}
    print("ratios to the bare bot (same update type: /today vs echo; buttons vs press)")
    for mode in dict.fromkeys(p.mode for p in results):
        for screen, floor in (("today", "echo"), ("card", "press"), ("month", "press")):
            if (screen, mode) not in by or (floor, mode) not in by:
                continue
            a, b = by[screen, mode], by[floor, mode]
            ratios = {
                "own_p50": round(a.own_ms["p50"] / b.own_ms["p50"], 2),
                "own_p99": round(a.own_ms["p99"] / b.own_ms["p99"], 2),
                "own_mean": round(a.own_ms["mean"] / b.own_ms["mean"], 2),
                "cpu": round(a.cpu_ms / b.cpu_ms, 2),
                "throughput": round(a.throughput / b.throughput, 3),
            }
            summary[f"{screen}/{floor} {mode}"] = ratios
            print(
                f"  {mode:<6} {screen:>5} / {floor:<5}: own p50 {ratios['own_p50']:>6.2f}x, p99 "
                f"{ratios['own_p99']:>6.2f}x, mean {ratios['own_mean']:>6.2f}x; CPU per update {ratios['cpu']:.2f}x"
                + (f"; throughput {ratios['throughput']:.2f}x" if mode == "burst" else "")
            )
    aim, light = f"{args.rate:g}/s", f"{args.light_rate:g}/s"
    print(f"aims (within 3x: CPU per update at {aim} and mean own time at {light}; p99 own time at {aim}):")
    for screen, floor in (("today", "echo"), ("card", "press"), ("month", "press")):
        if (screen, aim) not in by or (floor, aim) not in by:
            continue
        a, b = by[screen, aim], by[floor, aim]
        cpu_ratio = a.cpu_ms / b.cpu_ms
        own_ratio = by[screen, light].own_ms["mean"] / by[floor, light].own_ms["mean"] if (screen, light) in by else 0
        within = cpu_ratio <= 3 and own_ratio <= 3  # own_ratio 0: not measured
        fast = a.own_ms["p99"] < 50
        summary[f"{screen} aims"] = {
            "cpu_ratio": round(cpu_ratio, 2),
            "own_ratio_light": round(own_ratio, 2),
            "within_3x": within,
            "p99_ms": a.own_ms["p99"],
            "p99_under_50ms": fast,
        }
        print(
            f"  {screen:>5}: within 3x: {'met' if within else 'MISSED'} (CPU {cpu_ratio:.2f}x, own time "
            f"{own_ratio:.2f}x); p99 {a.own_ms['p99']:.1f} ms < 50 ms: {'met' if fast else 'MISSED'}"
        )
    return summary


def print_profile(profiler: cProfile.Profile, updates: int) -> None:
    """Self time by package, then the top functions: cProfile's cumulative column is unreliable with SQLAlchemy's
    greenlets, its self time is sound. Event-loop thread only (aiosqlite's thread is not profiled)."""
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    by_package: defaultdict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        by_package[package_of(filename)] += tottime
        total += tottime
    print(
        f"\ncProfile, event-loop thread, {total:.2f} s self time in all ({total / updates * 1000:.2f} ms per update, "
        "with the profiler's own overhead)"
    )
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:16]:
        print(f"  {package:<34} {seconds:>7.3f} s  {seconds / total:>5.1%}  {seconds / updates * 1000:>6.3f} ms/update")
    print("\ntop 30 functions by self time:")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()).split("ncalls", 1)[-1])


def package_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "C builtins / <frozen>"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith(str(ROOT)):
        parts = Path(filename).relative_to(ROOT).parts
        return "/".join(parts[:2]) if parts[0] in ("bot", "domain") else parts[0]
    if "/lib/python3" in filename:
        rest = filename.split("/lib/python3", 1)[1].split("/")
        return "stdlib " + (rest[1].removesuffix(".py") if len(rest) > 1 else "")
    return filename


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=1000, help="updates per screen at the steady rate")
    parser.add_argument("--rate", type=float, default=100.0, help="offered load, updates per second")
    parser.add_argument("--light-rate", type=float, default=25.0, help="a load LUMINA keeps up with")
    parser.add_argument("--light-updates", type=int, default=250, help="updates per screen at --light-rate (0: skip)")
    parser.add_argument("--saturation", type=int, default=500, help="updates per screen pushed at once (0: skip)")
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured updates per screen first")
    parser.add_argument("--components", type=int, default=200, help="runs of each screen part alone (0: skip)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--profile", choices=["echo", "press", "today", "card", "month"], help="cProfile one phase")
    parser.add_argument("--profile-dump", type=Path, help="with --profile: also write the pstats file here")
    parser.add_argument("--no-breakdown", action="store_true", help="do not time HTTP and DB calls per update")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the fake Bot API child
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="screens-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/lumina.sqlite3"
        migrate.upgrade(url)
        print(
            f"Python {sys.version.split()[0]}; per screen {args.updates} updates at {args.rate:g}/s, "
            f"{args.light_updates} at {args.light_rate:g}/s, {args.saturation} at once (burst).\n{COLUMNS}",
            flush=True,
        )
        results = asyncio.run(benchmark(args, Path(tmp), url))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"\nwhole run: {wall:.1f} s wall, {cpu:.1f} s CPU (this process)")
    if args.json:
        args.json.write_text(json.dumps(results | {"wall_s": wall, "cpu_s": cpu}, indent=2, default=str))


if __name__ == "__main__":
    main()
