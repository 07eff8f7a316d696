"""Alerts that always arrive, once, in order: the real aiogram Bot and TelegramSender against a fake Bot API that
answers 429, 502 and slow or lost requests, with the delivery "killed" mid-flight and restarted on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest

from jobs.delivery import Delivery, Rendered, Sender
from tests.e2e.delivery_harness import (
    TEST_CONFIG,
    FaultyBotAPI,
    delivery,
    first_line,
    make_users,
    outbox,
    queue_alerts,
    until,
)


@pytest.fixture
async def api() -> AsyncIterator[FaultyBotAPI]:
    async with FaultyBotAPI() as fake:
        yield fake


async def kill(job: Delivery) -> None:
    """Stop the loop abruptly: cancel its task wherever it is."""
    assert job._task is not None
    job._task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await job._task


async def drained(job: Delivery) -> bool:
    return await job.backlog() == 0


async def deliver_all(job: Delivery) -> None:
    """Run the job until the outbox is empty (a row may wait in backoff after a transient error)."""
    job.start()
    await until(lambda: drained(job))
    await job.stop()


def assert_in_order(api: FaultyBotAPI, alerts) -> None:
    by_chat: dict[int, list[str]] = defaultdict(list)
    for alert in alerts:
        by_chat[alert.user.telegram_id].append(f"<b>{alert.property}</b>")
    for chat_id, expected in by_chat.items():
        assert [first_line(m["text"]) for m in api.sent_messages(chat_id)] == expected, chat_id


async def test_faults_and_a_kill_mid_delivery_still_deliver_everything_exactly_once_in_order(sessions, api):
    users = await make_users(sessions, 6)
    alerts = await queue_alerts(sessions, users, per_user=10)
    api.fail_next("sendMessage", status=429, retry_after=1)  # Telegram's flood control, first thing
    first = delivery(sessions, api)
    first.start()

    await until(lambda: len(api.delivered()) >= 8)
    api.set_down(True)  # an outage: 502 pages from the proxy
    await asyncio.sleep(0.4)
    api.set_down(False)
    api.hang_next(2)  # two requests that never reach Telegram: the sender times out (0.5 s) and retries
    api.delay_next("sendMessage", 0.2, count=3)  # slow answers, within the timeout: taken once
    await until(lambda: len(api.delivered()) >= 30)

    api.delay_next("sendMessage", 0.3)  # make sure a send is on the wire when the process is "killed"
    await until(lambda: api._in_flight > 0, step=0.001)
    await kill(first)
    assert not [r for r in await outbox(sessions) if r.status == "sending"]  # nothing left half-done

    second = delivery(sessions, api)  # a fresh process on the same database
    second.start()
    await until(lambda: len(api.delivered()) >= len(alerts))
    await until(lambda: drained(second))
    await second.stop()

    counts = api.delivered_count()
    assert len(counts) == len(alerts) and set(counts.values()) == {1}  # every alert exactly once
    assert_in_order(api, alerts)
    statuses = {r.status for r in await outbox(sessions)}
    assert statuses == {"sent"}
    sent_ids = {(m["chat"]["id"], m["message_id"]) for m in api.sent_messages()}
    assert {(r.chat_id, r.telegram_message_id) for r in await outbox(sessions)} == sent_ids
    failures = [r.status for r in api.calls("sendMessage") if r.status != 200]
    assert 429 in failures and 502 in failures and None in failures  # None: the hung requests never answered


class FreezeAfterTelegram:
    """The crash window: Telegram took the message, then the process froze and died before recording it."""

    def __init__(self, inner: Sender, victim: str) -> None:
        self.inner, self.victim, self.frozen = inner, victim, asyncio.Event()

    async def send(self, chat_id: int, message: Rendered) -> int:
        message_id = await self.inner.send(chat_id, message)
        if first_line(message.text) == self.victim:
            self.frozen.set()
            await asyncio.Event().wait()
        return message_id

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> int:
        return await self.inner.edit(chat_id, message_id, message)


async def test_a_crash_after_telegram_took_a_message_sends_that_one_again_and_loses_nothing(sessions, api):
    users = await make_users(sessions, 3)
    alerts = await queue_alerts(sessions, users, per_user=4)
    victim = f"<b>{alerts[4].property}</b>"
    frozen: list[FreezeAfterTelegram] = []

    def freezing(inner: Sender) -> Sender:
        frozen.append(FreezeAfterTelegram(inner, victim))
        return frozen[0]

    config = TEST_CONFIG.__class__(**{**{f: getattr(TEST_CONFIG, f) for f in TEST_CONFIG.__dataclass_fields__},
                                      "stop_grace": 0.2})  # fmt: skip
    first = delivery(sessions, api, config=config, wrap=freezing)
    first.start()
    await asyncio.wait_for(frozen[0].frozen.wait(), timeout=10)
    await kill(first)  # the send never returns within the grace: as good as a crash
    assert [r.status for r in await outbox(sessions) if r.idempotency_key == alerts[4].key] == ["sending"]

    second = delivery(sessions, api)
    second.start()
    await until(lambda: drained(second))
    await second.stop()

    counts = api.delivered_count()
    victim_chat = alerts[4].user.telegram_id
    twice = sorted(t for c, t in counts if c == victim_chat and first_line(t) == victim)  # the window: at most one
    assert len(twice) == 2 and twice[1] == twice[0] + "\n\n<i>(sent again after a restart)</i>"  # repeat, marked
    for text in twice:
        assert counts.pop((victim_chat, text)) == 1
    assert len(counts) == len(alerts) - 1 and set(counts.values()) == {1}
    assert {r.status for r in await outbox(sessions)} == {"sent"}


async def test_a_blocked_chat_gets_nothing_more_and_the_others_go_on(sessions, api):
    blocked, other = await make_users(sessions, 2)
    api.blocked.add(blocked.telegram_id)
    alerts = await queue_alerts(sessions, [blocked, other], per_user=3)
    job = delivery(sessions, api)
    await deliver_all(job)
    attempts = [r for r in api.calls("sendMessage") if r.params["chat_id"] == blocked.telegram_id]
    assert [r.status for r in attempts] == [403]
    assert len(api.sent_messages(other.telegram_id)) == 3
    stored = {r.idempotency_key: (r.status, r.last_error) for r in await outbox(sessions)}
    assert [stored[a.key][0] for a in alerts if a.user.id == blocked.id] == ["dead", "dead", "dead"]


def max_per_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_real_per_chat_limit_and_a_global_limit_hold_at_the_server(sessions, api):
    many = await make_users(sessions, 30)
    chatty = many[0]
    await queue_alerts(sessions, [chatty], per_user=3)  # three for one chat: one a second, Telegram's real limit
    await queue_alerts(sessions, many[1:], per_user=1)
    config = TEST_CONFIG.__class__(**{**{f: getattr(TEST_CONFIG, f) for f in TEST_CONFIG.__dataclass_fields__},
                                      "global_rate": 15.0, "chat_rate": 1.0})  # fmt: skip
    job = delivery(sessions, api, config=config)
    await deliver_all(job)
    times = [r.time for r in api.delivered()]
    assert len(times) == 32
    assert max_per_second(times) <= 15
    chatty_times = [r.time for r in api.delivered() if r.params["chat_id"] == chatty.telegram_id]
    assert max_per_second(chatty_times) == 1 and chatty_times[-1] - chatty_times[0] >= 2.0


async def test_a_flood_limit_on_several_chats_pauses_everyone(sessions, api):
    users = await make_users(sessions, 4)
    await queue_alerts(sessions, users, per_user=2)
    api.fail_next("sendMessage", status=429, retry_after=1, count=2)
    job = delivery(sessions, api)
    await deliver_all(job)
    calls = api.calls("sendMessage")
    second_429 = [r for r in calls if r.status == 429][1]
    after = [r for r in calls if r.seq > second_429.seq]
    assert after and min(r.time for r in after) - second_429.time >= 0.9  # nobody sent during the pause
    assert len(api.delivered()) == 8
