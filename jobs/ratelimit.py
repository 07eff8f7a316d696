"""Token buckets for Telegram's limits: about one message a second per chat and about 25 a second in all.

With a capacity of one token a bucket spaces sends evenly, so no one-second window ever holds more than `rate`
sends (a bigger burst would let a window hold burst + rate). Time is a monotonic float clock, injectable for tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

EPSILON = 1e-6


class TokenBucket:
    def __init__(self, rate: float, *, burst: float = 1.0, now: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._now = now
        self._tokens = burst
        self._at = now()
        self._paused_until = 0.0

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait_time(self) -> float:
        """Seconds until a token is there (0: now)."""
        now = self._now()
        self._refill(now)
        pause = self._paused_until - now
        need = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
        wait = max(pause, need)
        return wait if wait > EPSILON else 0.0  # float dust must not turn into an endless chain of tiny sleeps

    def take(self) -> None:
        self._refill(self._now())
        self._tokens = max(self._tokens, 1.0) - 1  # wait_time() rounds float dust up to a whole token

    def pause_until(self, until: float) -> None:
        """Nothing until then (Telegram said "retry after"); the bucket restarts empty, so no burst follows."""
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = min(self._tokens, 0.0)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    @property
    def idle(self) -> bool:
        """Full and not paused: forgetting this bucket changes nothing."""
        now = self._now()
        self._refill(now)
        return self._paused_until <= now and self._tokens >= self.burst


class TooLong(Exception):
    """The wait for a token would exceed the caller's limit; `until` is when (monotonic) to try again."""

    def __init__(self, until: float) -> None:
        super().__init__(until)
        self.until = until


class SendLimits:
    """One bucket per chat and one for the whole bot. acquire() waits for both, first come first served."""

    def __init__(
        self,
        global_rate: float,
        chat_rate: float,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._now = now
        self._sleep = sleep
        self.chat_rate = chat_rate
        self.all = TokenBucket(global_rate, now=now)
        self._chats: dict[int, TokenBucket] = {}
        self._lock = asyncio.Lock()  # FIFO: waiters for the global bucket are served in arrival order

    def chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = self._chats[chat_id] = TokenBucket(self.chat_rate, now=self._now)
        return bucket

    async def chat_ready(self, chat_id: int, *, max_wait: float = float("inf")) -> None:
        """Wait until this chat may send again, without taking its token."""
        await self._wait(self.chat(chat_id), max_wait)

    async def acquire(self, chat_id: int, *, max_wait: float = float("inf")) -> None:
        """Wait for a send slot for this chat. Only one sender per chat calls this at a time (the delivery job
        keeps one row in flight per chat), so the chat bucket needs no lock."""
        bucket = self.chat(chat_id)
        await self._wait(bucket, max_wait)
        async with self._lock:
            await self._wait(self.all, max_wait)
            self.all.take()
        await self._wait(bucket, max_wait)  # a "retry after" may have paused the chat meanwhile
        bucket.take()

    async def _wait(self, bucket: TokenBucket, max_wait: float) -> None:
        while (wait := bucket.wait_time()) > 0:
            if wait > max_wait:
                raise TooLong(self._now() + wait)
            await self._sleep(wait)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        self.chat(chat_id).pause_until(self._now() + seconds)

    def pause_all(self, seconds: float) -> None:
        self.all.pause_until(self._now() + seconds)

    def global_wait(self) -> float:
        return max(self.all.paused_until - self._now(), 0.0)

    def forget_idle(self) -> None:
        """Drop the buckets of chats that are full again (idle for a second or more): memory stays bounded."""
        for chat_id in [chat_id for chat_id, bucket in self._chats.items() if bucket.idle]:
            del self._chats[chat_id]
