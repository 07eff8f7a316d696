"""Delivering the outbox to Telegram: oldest first, in order per chat, within Telegram's limits, never lost, and
once each except in one documented window.

A row goes pending → sending (claimed) → sent, or back to pending (retry later), or dead (the user blocked the bot,
Telegram refused it for good, it cannot be rendered), or skipped (a kind the user turned off, a superseded turnover).

Exactly once, and the crash window
----------------------------------
Claiming is a short transaction (status "sending", attempts + 1, and a lease: not_before = now + lease). The send
happens outside any transaction, and its outcome is recorded in another short transaction. If the process dies
after Telegram accepted a message but before "sent" was committed, nothing can tell afterwards whether it arrived:
the Bot API has no idempotency key and no way to read a chat. We choose at-least-once: a row left in "sending" is
sent again (at start on SQLite, where one process owns the database; elsewhere once its lease has expired). No alert
is ever lost, and a duplicate needs a crash inside that window (the whole round trip of the send plus one commit)
or a send whose answer timed out after Telegram had taken it. A row sent again is marked `interrupted`, and its
message says it is a repeat. A stop is not a crash: no new rows are claimed, rows still
waiting for a rate-limit slot are handed back untouched, and sends already on the wire finish and are recorded
(shielded from the cancellation), so stopping or restarting `lumina run` never duplicates.

Several delivery loops never send a row twice: on PostgreSQL the claim reads with FOR UPDATE SKIP LOCKED; on SQLite
(one process) the job runs once and the claim's UPDATE ... WHERE status = 'pending' is the guard. Per-chat order
holds across loops too: a row is claimable only when no older row of its chat is pending or being sent (an urgent
row only waits for one being sent: a double booking overtakes alerts held back by quiet hours or a retry). The
statements are in storage/outbox_rows.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain import alerts
from domain.properties import left_team
from domain.time import zones_for
from jobs.clock import Clock, utc_now
from jobs.metrics import ALERTS
from jobs.ratelimit import SendLimits, TooLong
from storage import outbox_rows
from storage.models import Outbox, TurnoverMessage, User, whole_installation

log = logging.getLogger("lumina.delivery")

# --- what the composition root plugs in ------------------------------------------------------------------------


class DeliveryError(Exception):
    """A send failed; the subclass says what to do with the row."""


class RetryAfter(DeliveryError):
    """Telegram's 429: wait this long before the next message to this chat."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds}")
        self.seconds = seconds


class TransientError(DeliveryError):
    """Network error, timeout, 5xx, an answer that is not Telegram's: retry with backoff."""


class ChatBlocked(DeliveryError):
    """403: the user blocked the bot (or deleted their account). Stop sending to them."""


class PermanentError(DeliveryError):
    """400 and the like: this message will never be accepted."""


class MessageGone(DeliveryError):
    """An edit found no message to edit (deleted by the user): send a new one instead."""


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message as plain data (HTML text, inline buttons), so this package never imports aiogram."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: Callable[[], bytes] | None = None  # drawn in a worker thread, sent after the text (the monthly chart)
    photo_id: str | None = None  # a photo Telegram already has (a cleaner's), sent after the text


class Sender(Protocol):
    async def send(self, chat_id: int, message: Rendered) -> int:
        """Returns the new message's id; raises a DeliveryError subclass."""
        ...

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> int: ...


class Renderer(Protocol):
    def __call__(self, row: Outbox, user: User) -> Rendered: ...


class Wakeup:
    """Tells the delivery job that rows were queued. Built before the job exists (the syncer needs it first), so
    the job connects to it later; calling it with nobody connected does nothing."""

    def __init__(self) -> None:
        self._targets: list[Callable[[], None]] = []

    def connect(self, target: Callable[[], None]) -> None:
        self._targets.append(target)

    def __call__(self) -> None:
        for target in self._targets:
            target()


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    global_rate: float = 25.0  # messages a second in all
    chat_rate: float = 1.0  # messages a second per chat
    interval: float = 5.0  # seconds between passes when nobody wakes the job
    lease: float = 120.0  # a claimed row unrecorded this long was claimed by a process that died (> 3 max_wait + send)
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    max_wait: float = 10.0  # a row that would wait longer for a slot is handed back rather than held
    stop_grace: float = 35.0  # how long a stop waits for sends already on the wire
    max_unexpected: int = 5  # unclassified errors (bugs) before a row is given up
    default_timezone: str = "America/Sao_Paulo"
    recover_all_on_start: bool = False  # SQLite: this process owns the database, every "sending" row is orphaned
    max_in_flight: int = 0  # rows claimed at once; 0 = twice the global rate (about two seconds of work)
    # Pace this much below the limits: Telegram counts arrivals, and network jitter can bring two sends spaced
    # exactly 1/rate apart closer together on the way.
    headroom: float = 0.03
    claim_every: float = 0.05  # at least this long between claims while units are busy (see run_pass)
    max_on_wire: int = 50  # HTTP requests at once; keep it under the HTTP client's connection limit (aiogram: 100)

    @property
    def in_flight(self) -> int:
        return self.max_in_flight or max(4, int(self.global_rate * 2))


@dataclass
class DeliveryStats:
    """This delivery's counts (tests, benchmarks); add() also feeds the process's lumina_alerts metric."""

    sent: int = 0
    edited: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    deferred: int = 0
    recovered: int = 0

    def add(self, result: str, count: int = 1) -> None:
        setattr(self, result, getattr(self, result) + count)
        ALERTS.labels(result).inc(count)


@dataclass(slots=True)
class _Claim:
    row: Outbox
    user: User
    edit_message_id: int | None = None
    turnover_id: int | None = None


@dataclass
class _Flight:
    """Rows this process has claimed and not yet recorded, and which of them are on the wire."""

    claimed: set[int] = field(default_factory=set)
    on_wire: dict[int, asyncio.Task[None]] = field(default_factory=dict)


class Delivery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        renderer: Renderer,
        *,
        config: DeliveryConfig = DeliveryConfig(),
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        # The per-message writes go through the engine (storage.outbox_rows): half the CPU of an ORM session.
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._sender = sender
        self._render = renderer
        self.config = config
        self._clock = clock
        self._mono = monotonic
        pace = 1 - config.headroom
        self.limits = SendLimits(config.global_rate * pace, config.chat_rate * pace, now=monotonic)
        self._wire = asyncio.Semaphore(config.max_on_wire)
        self.stats = DeliveryStats()
        self._default_zone = ZoneInfo(config.default_timezone)
        self._zones: dict[int, tuple[ZoneInfo, float]] = {}
        self._woken = asyncio.Event()
        self._poked = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._flight = _Flight()
        self._recent_429: deque[tuple[float, int]] = deque()
        self._transient_streak = 0

    # --- running ---------------------------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were queued: deliver now rather than at the next tick. Safe to call from any coroutine."""
        self._poked = True
        self._woken.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop claiming, hand back rows not yet sent, finish the sends on the wire (see the module docstring)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_pass()
            except Exception:  # the database went away, say: log, and try again at the next tick
                log.exception("delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=self.config.interval)

    async def run_pass(self) -> None:
        """Deliver every row due now; returns when nothing more is due (rows in backoff wait for a later pass)."""
        if not self._started:
            await self.recover(everything=self.config.recover_all_on_start)
            self._started = True
        else:
            await self.recover(everything=False)
        active: dict[int, asyncio.Task[None]] = {}  # user id -> the unit delivering that chat's current row
        # One claim transaction serves many rows: after a unit finishes, claim again once a tenth of the pool has
        # finished or claim_every has passed (a chat's next row could not go sooner anyway: its own slot comes a
        # second later); at once when the pool is empty or wake() says new rows came.
        batch = max(1, self.config.in_flight // 10)
        claim_every = max(self.config.claim_every, batch / self.config.global_rate)
        finished = 0
        last_claim = -float("inf")

        def unit_done(user_id: int) -> Callable[[asyncio.Task[None]], None]:
            def done(_task: asyncio.Task[None]) -> None:
                nonlocal finished
                active.pop(user_id, None)
                finished += 1
                self._woken.set()

            return done

        try:
            while True:
                self._woken.clear()
                progressed = False
                free = self.config.in_flight - len(active)
                since = self._mono() - last_claim
                ready = not active or self._poked or finished >= batch or since >= claim_every
                if ready and not self._stopping and free > 0 and self.limits.global_wait() <= 0:
                    self._poked, finished, last_claim = False, 0, self._mono()
                    claims, decided = await self._claim_shielded(free, exclude=set(active))
                    for claim in claims:
                        unit = asyncio.create_task(self._deliver(claim))
                        active[claim.user.id] = unit
                        unit.add_done_callback(unit_done(claim.user.id))
                    progressed = bool(claims) or decided > 0
                if not active:
                    pause = self.limits.global_wait()
                    if self._stopping or not (progressed or pause):
                        break
                    await self._sleep_or_wake(pause)
                    continue
                # Woken by a unit finishing, by wake(), at the next claim time, or when a global pause ends.
                next_claim = max(claim_every - (self._mono() - last_claim), 0.0) if finished else None
                timeouts = [t for t in (self.limits.global_wait() or None, next_claim) if t is not None]
                await self._sleep_or_wake(min(timeouts) if timeouts else None)
        except asyncio.CancelledError:
            await self._abort(list(active.values()))
            raise
        self.limits.forget_idle()

    async def _claim_shielded(self, limit: int, *, exclude: set[int]) -> tuple[list[_Claim], int]:
        """A cancellation must not land between the claim's commit and our note of what it claimed (rows would
        stay "sending" until their lease ran out): let the short transaction finish, _abort hands the rows back."""
        task = asyncio.create_task(self._claim(limit, exclude=exclude))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await task
            raise

    async def _sleep_or_wake(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), timeout=seconds)

    async def _abort(self, units: Sequence[asyncio.Task[None]]) -> None:
        """Cancelled: units waiting for a slot end now; sends on the wire get stop_grace to finish and be recorded;
        rows never sent go back to pending untouched. A send cut off after the grace stays "sending" (a crash)."""
        for unit in units:
            unit.cancel()
        await asyncio.gather(*units, return_exceptions=True)
        wire = list(self._flight.on_wire.values())
        if wire:
            _done, late = await asyncio.wait(wire, timeout=self.config.stop_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        unsent = self._flight.claimed - set(self._flight.on_wire)
        if unsent:
            with contextlib.suppress(Exception):
                await self._release(sorted(unsent))
        self._flight = _Flight()

    # --- claiming --------------------------------------------------------------------------------------------

    async def recover(self, *, everything: bool) -> int:
        """Rows left in "sending" by a process that stopped mid-send go back to pending: sent again, maybe twice
        (the crash window). `everything`: at start when this process alone owns the database (SQLite)."""
        expired_before = None if everything else self._clock()
        async with self._sessions.begin() as session:
            ids = await outbox_rows.recover_sending(session, expired_before=expired_before, keep=self._flight.claimed)
        if ids:
            self.stats.add("recovered", len(ids))
            log.warning(
                "outbox rows were being sent when a process stopped; sending them again (each may arrive twice)",
                extra={"outbox_ids": list(ids)[:50], "count": len(ids)},
            )
        return len(ids)

    async def _claim(self, limit: int, *, exclude: set[int]) -> tuple[list[_Claim], int]:
        """One short transaction: pick each free chat's next due row, decide it (skip, defer, dead, send) and mark
        the ones to send as "sending". Returns the claims and how many rows were otherwise decided."""
        now = self._clock()
        claims: list[_Claim] = []
        decided = 0
        async with self._sessions.begin() as session:
            # a chat can show two candidates (its head and an urgent row)
            rows = await outbox_rows.due_rows(session, now=now, limit=limit * 2, exclude=exclude)
            if not rows:
                return [], 0
            zones = await self._zones_for(session, [user for _row, user in rows])
            team = {(u.id, r.property_id) for r, u in rows if r.property_id is not None and not whole_installation(u)}
            gone = await left_team(session, team)
            seen: set[int] = set()
            for row, user in rows:
                if user.id in seen:
                    continue
                seen.add(user.id)
                claim = _Claim(row, user)
                if (user.id, row.property_id) in gone:  # removed since it was queued (and handed back)
                    row.status, row.last_error = "skipped", "access removed"
                    self.stats.add("skipped")
                    decided += 1
                    continue
                silent = False
                if row.kind == "turnover":
                    tm = await session.get(TurnoverMessage, int(row.payload.get("turnover_message_id") or 0))
                    if tm is None:
                        row.status, row.last_error = "skipped", "turnover message gone"
                        decided += 1
                        continue
                    claim.turnover_id, claim.edit_message_id = tm.id, tm.message_id
                    silent = tm.message_id is not None  # an edit makes no sound: quiet hours do not hold it
                decision = alerts.decide(
                    kind=row.kind,
                    urgent=row.urgent,
                    payload=row.payload,
                    user_active=user.is_active,
                    alert_kinds=user.alert_kinds,
                    quiet_start=user.quiet_start,
                    quiet_end=user.quiet_end,
                    zone=zones[user.id],
                    now=now,
                    silent=silent,
                )
                if decision.action == "send":
                    if len(claims) < limit:
                        claims.append(claim)
                    continue
                decided += 1
                if decision.action == "defer":
                    row.not_before = decision.until
                    self.stats.add("deferred")
                else:
                    row.status, row.last_error = ("skipped" if decision.action == "skip" else "dead"), decision.reason
                    if decision.action == "skip":
                        self.stats.add("skipped")
                    else:
                        self.stats.add("dead")
            if claims:
                lease_until = now + timedelta(seconds=self.config.lease)
                got = await outbox_rows.mark_sending(session, [c.row.id for c in claims], lease_until=lease_until)
                claims = [c for c in claims if c.row.id in got]
        self._flight.claimed.update(c.row.id for c in claims)
        return claims, decided

    async def _zones_for(self, session: AsyncSession, users: Sequence[User]) -> dict[int, ZoneInfo]:
        """Each user's time zone (for quiet hours), cached for five minutes: it needs a query per batch otherwise."""
        now = self._mono()
        stale = {u.id: u for u in users if u.id not in self._zones or self._zones[u.id][1] < now}
        if stale:
            for user_id, zone in (await zones_for(session, list(stale.values()), self._default_zone)).items():
                self._zones[user_id] = (zone, now + 300)
        return {u.id: self._zones[u.id][0] for u in users}

    # --- one row ---------------------------------------------------------------------------------------------

    async def _deliver(self, claim: _Claim) -> None:
        row = claim.row
        try:
            message = self._render(row, claim.user)
        except Exception:
            log.exception("alert could not be rendered", extra={"outbox_id": row.id, "kind": row.kind})
            await self._record(self._finish, row, "dead", "render error")
            self._flight.claimed.discard(row.id)
            return
        # Tokens are taken only by a unit that can go on the wire at once: one waiting for an HTTP connection after
        # taking its token would let queued sends reach Telegram in a burst, over the limit.
        # Each wait is bounded (max_wait), so a claim never outlives its lease: chat slot + wire slot + global token
        # + the send itself stay well under it, and no other instance takes the row back while we still hold it.
        try:
            await self.limits.chat_ready(row.chat_id, max_wait=self.config.max_wait)
            async with asyncio.timeout(self.config.max_wait):
                await self._wire.acquire()
        except TooLong as wait:
            await self._record(self._release, [row.id], wait.until - self._mono())
            return
        except TimeoutError:  # every wire slot busy for long: Telegram is slow; hand the row back for now
            await self._record(self._release, [row.id], self._backoff(1))
            return
        try:
            await self.limits.acquire(row.chat_id, max_wait=self.config.max_wait)
        except TooLong as wait:
            self._wire.release()
            await self._record(self._release, [row.id], wait.until - self._mono())
            return
        except BaseException:
            self._wire.release()
            raise
        # From here on the message may reach Telegram: a cancellation must not cut it off before it is recorded.
        wire = asyncio.create_task(self._send_and_record(claim, message))
        self._flight.on_wire[row.id] = wire
        wire.add_done_callback(lambda _task: self._flight.on_wire.pop(row.id, None))
        await asyncio.shield(wire)

    async def _send(self, claim: _Claim, message: Rendered) -> tuple[int, bool]:
        """The HTTP call(s) for one row: (message id, whether it was an edit). Frees the wire slot when done."""
        chat_id = claim.row.chat_id
        try:
            if claim.edit_message_id is not None:
                try:
                    return await self._sender.edit(chat_id, claim.edit_message_id, message), True
                except MessageGone:
                    pass
            return await self._sender.send(chat_id, message), False
        finally:
            self._wire.release()

    async def _send_and_record(self, claim: _Claim, message: Rendered) -> None:
        row = claim.row
        try:
            message_id, edited = await self._send(claim, message)
        except RetryAfter as error:
            await self._on_retry_after(row, error)
        except TransientError as error:
            await self._on_transient(row, str(error))
        except ChatBlocked as error:
            await self._record(self._block_user, row, str(error))
        except PermanentError as error:
            log.warning(
                "Telegram refused an alert for good",
                extra={"outbox_id": row.id, "user_id": row.user_id, "kind": row.kind, "error": str(error)},
            )
            await self._record(self._finish, row, "dead", str(error)[:500])
        except Exception as error:  # a bug, or an error nobody classified: retry a few times, then give up
            log.exception("unexpected error sending an alert", extra={"outbox_id": row.id, "kind": row.kind})
            if row.attempts >= self.config.max_unexpected:
                await self._record(self._finish, row, "dead", f"{type(error).__name__}: {error}"[:500])
            else:
                await self._record(self._retry, row, self._backoff(row.attempts), f"{type(error).__name__}")
        else:
            self._transient_streak = 0
            await self._record(self._mark_sent, claim, message_id)
            if edited:
                self.stats.add("edited")
            else:
                self.stats.add("sent")
        finally:
            self._flight.claimed.discard(row.id)

    async def _on_retry_after(self, row: Outbox, error: RetryAfter) -> None:
        """Wait what Telegram asks, for this chat; for everyone when 429s come for several chats within a second
        (Telegram does not say which limit was hit, and we already pace each chat below its own limit)."""
        seconds = max(float(error.seconds), 0.0)
        self.limits.pause_chat(row.chat_id, seconds)
        now = self._mono()
        self._recent_429.append((now, row.chat_id))
        while self._recent_429 and now - self._recent_429[0][0] > 1.0:
            self._recent_429.popleft()
        if len({chat for _at, chat in self._recent_429}) >= 2:
            self.limits.pause_all(seconds)
            log.warning("Telegram flood limit for the whole bot; pausing", extra={"seconds": seconds})
        await self._record(self._retry, row, seconds, f"429: {error}"[:500])

    async def _on_transient(self, row: Outbox, error: str) -> None:
        """Backoff for this row; after three failures in a row everywhere, a pause for all (Telegram is down)."""
        self._transient_streak += 1
        if self._transient_streak >= 3:
            self.limits.pause_all(self._backoff(self._transient_streak - 2))
        log.info("alert send failed, will retry", extra={"outbox_id": row.id, "attempts": row.attempts, "error": error})
        await self._record(self._retry, row, self._backoff(row.attempts), error[:500])

    def _backoff(self, attempts: int) -> float:
        delay = min(self.config.backoff_cap, self.config.backoff_base * 2 ** max(attempts - 1, 0))
        return delay * random.uniform(0.8, 1.2)

    # --- recording (each a short transaction) ------------------------------------------------------------------

    async def _record(self, write: Callable[..., Any], *args: Any) -> None:
        """A result must be written: retry a database hiccup a few times (a row left "sending" would be sent again)."""
        for attempt in range(3):
            try:
                await write(*args)
                return
            except Exception:
                if attempt == 2:
                    log.exception("could not record a delivery result", extra={"write": write.__name__})
                    return
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _mark_sent(self, claim: _Claim, message_id: int) -> None:
        async with self._engine.begin() as connection:
            ours = await outbox_rows.mark_sent(
                connection, claim.row.id, message_id, at=self._clock(), turnover_id=claim.turnover_id
            )
        if not ours:
            log.error(
                "a sent row had been taken back (its lease expired): it may have been sent twice",
                extra={"outbox_id": claim.row.id},
            )

    async def _retry(self, row: Outbox, delay: float, error: str) -> None:
        self.stats.add("retried")
        not_before = self._clock() + timedelta(seconds=delay)
        await self._set(row.id, status="pending", not_before=not_before, error=error)

    async def _finish(self, row: Outbox, status: str, error: str) -> None:
        self.stats.add("dead", status == "dead")
        await self._set(row.id, status=status, not_before=None, error=error)

    async def _set(self, row_id: int, *, status: str, not_before: datetime | None, error: str) -> None:
        async with self._engine.begin() as connection:
            await outbox_rows.set_result(connection, row_id, status=status, not_before=not_before, error=error)

    async def _block_user(self, row: Outbox, error: str) -> None:
        """403: the user is inactive until they write to the bot again; nothing waiting for them goes out."""
        async with self._sessions.begin() as session:
            dead = await outbox_rows.block_user(session, row.user_id, row.id, error)
        self.stats.add("dead", dead)
        self._zones.pop(row.user_id, None)
        log.info("user blocked the bot; marked inactive", extra={"user_id": row.user_id, "outbox_id": row.id})

    async def _release(self, row_ids: list[int], delay: float | None = None) -> None:
        """Claimed but never sent: back to pending as if never claimed."""
        not_before = self._clock() + timedelta(seconds=delay) if delay else None
        async with self._sessions.begin() as session:
            await outbox_rows.release(session, row_ids, not_before=not_before)
        self._flight.claimed.difference_update(row_ids)

    # --- for tests, the benchmark and /ready ------------------------------------------------------------------

    async def backlog(self) -> int:
        """Rows still to deliver (pending or sending)."""
        async with self._sessions() as session:
            return await outbox_rows.backlog(session)
