"""The delivery job with the real aiogram Bot, TelegramSender and alert views against the fake Bot API, on a real
database: smaller than the whole application, so faults and "kills" can be placed exactly."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sender import TelegramSender
from bot.views.alerts import render_alert
from domain.alerts import add_outbox_rows, outbox_row
from jobs.clock import utc_now
from jobs.delivery import Delivery, DeliveryConfig, Sender
from storage.models import Outbox, User
from tests.support.fake_bot_api import FakeBotAPI, RecordedRequest, _json_error

TEST_CONFIG = DeliveryConfig(
    global_rate=50,  # scaled up from Telegram's 25/s and 1/s per chat so a test takes seconds, not minutes
    chat_rate=10,
    interval=0.05,
    backoff_base=0.05,
    backoff_cap=0.3,
    stop_grace=5,
    recover_all_on_start=True,
)


class FaultyBotAPI(FakeBotAPI):
    """Adds what the shared fake lacks: chats that blocked the bot, and sends that hang without taking effect
    (a connection that never reaches Telegram: the client gives up, nothing was delivered)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: set[int] = set()
        self._hangs = 0

    def hang_next(self, count: int = 1) -> None:
        self._hangs += count

    async def _respond(self, record: RecordedRequest, token: str, handler: Any) -> tuple[web.Response, float]:
        if record.method == "sendMessage":
            if record.params.get("chat_id") in self.blocked:
                return _json_error(403, "Forbidden: bot was blocked by the user"), 0.0
            if self._hangs > 0:
                self._hangs -= 1
                await asyncio.sleep(3600)  # cancelled when the client times out and hangs up
        return await super()._respond(record, token, handler)

    def delivered(self) -> list[RecordedRequest]:
        return [r for r in self.calls("sendMessage") if r.status == 200]

    def delivered_count(self) -> Counter[tuple[int, str]]:
        return Counter((r.params["chat_id"], r.params["text"]) for r in self.delivered())


@dataclass
class Alert:
    user: User
    key: str
    property: str


async def make_users(sessions: async_sessionmaker[AsyncSession], count: int, **attributes: Any) -> list[User]:
    async with sessions.begin() as session:
        users = [
            User(telegram_id=7_000_000 + i, first_name=f"U{i}", role="owner", locale=("pt_BR", "en")[i % 2],
                 **attributes)
            for i in range(count)
        ]  # fmt: skip
        session.add_all(users)
    return users


async def queue_alerts(sessions: async_sessionmaker[AsyncSession], users: list[User], per_user: int) -> list[Alert]:
    """booking_new alerts, interleaved across users, each with its own property name so every text is unique; queued
    at the wall clock's now, which these Delivery instances run on."""
    alerts = []
    async with sessions.begin() as session:
        rows = []
        for i in range(per_user):
            for user in users:
                alert = Alert(user, f"alert:{i}:{user.id}", f"Casa {user.id}-{i:03d}")
                payload = {"property": alert.property, "booking_id": 1000 + i, "kind": "reservation",
                           "platform": "airbnb", "check_in": "2026-08-12", "check_out": "2026-08-15"}  # fmt: skip
                rows.append(
                    outbox_row(user, "booking_new", alert.key, now=utc_now(), payload=payload)
                )  # the Delivery's own clock
                alerts.append(alert)
        await add_outbox_rows(session, rows)
    return alerts


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def delivery(
    sessions: async_sessionmaker[AsyncSession],
    api: FaultyBotAPI,
    *,
    config: DeliveryConfig = TEST_CONFIG,
    timeout: float = 0.5,
    wrap: Callable[[Sender], Sender] | None = None,
) -> Delivery:
    from tests.support.fake_bot_api import make_bot

    sender: Sender = TelegramSender(make_bot(api), timeout=timeout)
    return Delivery(sessions, wrap(sender) if wrap else sender, render_alert, config=config)


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


async def until(condition: Callable[[], Any], *, timeout: float = 20.0, step: float = 0.02) -> None:  # noqa: ASYNC109
    """Poll a condition (sync or async, often a database query) until it holds; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await _value(condition()):  # noqa: ASYNC110 - polling the database: no event to wait on
            await asyncio.sleep(step)


async def _value(result: Any) -> Any:
    return await result if asyncio.iscoroutine(result) else result
