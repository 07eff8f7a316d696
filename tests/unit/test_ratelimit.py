"""Token buckets on a fake clock: even spacing, pauses, one-second windows never over the rate."""

from __future__ import annotations

import asyncio

import pytest

from jobs.ratelimit import SendLimits, TokenBucket, TooLong


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_bucket_spaces_evenly_and_pauses():
    clock = FakeTime()
    bucket = TokenBucket(25, now=clock)
    assert bucket.wait_time() == 0
    bucket.take()
    assert bucket.wait_time() == pytest.approx(0.04)
    clock.now += 0.04
    assert bucket.wait_time() == 0
    bucket.pause_until(clock.now + 3)
    assert bucket.wait_time() == pytest.approx(3)
    clock.now += 3
    assert bucket.wait_time() == 0
    bucket.take()
    assert bucket.wait_time() == pytest.approx(0.04)  # no burst after a pause


async def test_limits_keep_every_window_under_both_rates():
    clock = FakeTime()
    limits = SendLimits(25, 1, now=clock, sleep=clock.sleep)
    sent: list[tuple[float, int]] = []

    async def chat(chat_id: int, messages: int) -> None:
        for _ in range(messages):
            await limits.acquire(chat_id)
            sent.append((clock.now, chat_id))

    await asyncio.gather(*(chat(chat_id, 5) for chat_id in range(40)))
    assert len(sent) == 200
    assert max_in_window([t for t, _c in sent]) <= 25
    for chat_id in range(40):
        assert max_in_window([t for t, c in sent if c == chat_id]) == 1
    assert clock.now - 1000.0 >= 199 / 25


async def test_a_paused_chat_waits_and_others_do_not():
    clock = FakeTime()
    limits = SendLimits(100, 1, now=clock, sleep=clock.sleep)
    limits.pause_chat(1, 5)
    await limits.acquire(2)
    assert clock.now == 1000.0
    await limits.acquire(1)
    assert clock.now == pytest.approx(1005.0)


async def test_too_long_a_wait_is_refused():
    clock = FakeTime()
    limits = SendLimits(100, 1, now=clock, sleep=clock.sleep)
    limits.pause_all(30)
    with pytest.raises(TooLong) as refused:
        await limits.acquire(1, max_wait=10)
    assert refused.value.until == pytest.approx(1030.0)
    assert limits.global_wait() == pytest.approx(30)


def test_idle_buckets_are_forgotten():
    clock = FakeTime()
    limits = SendLimits(100, 1, now=clock)
    limits.chat(1).take()
    limits.chat(2)
    limits.forget_idle()
    assert set(limits._chats) == {1}
    clock.now += 1
    limits.forget_idle()
    assert limits._chats == {}
