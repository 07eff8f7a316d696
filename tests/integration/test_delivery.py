"""The delivery job against a real database (SQLite and PostgreSQL) and a scripted sender."""

from __future__ import annotations

import asyncio
import time as monotonic_time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from domain.alerts import add_outbox_rows, outbox_row, set_quiet_hours
from jobs.clock import utc_now
from jobs.delivery import (
    ChatBlocked,
    Delivery,
    DeliveryConfig,
    MessageGone,
    PermanentError,
    Rendered,
    RetryAfter,
    TransientError,
)
from storage.models import Outbox, Property, PropertyAccess, TurnoverMessage, User
from tests.support.clock import FakeClock

FAST = DeliveryConfig(
    global_rate=1000, chat_rate=1000, backoff_base=0.02, backoff_cap=0.1, interval=0.05, recover_all_on_start=True
)


@dataclass
class Call:
    method: str
    chat_id: int
    text: str
    at: float
    message_id: int | None = None


@dataclass
class ScriptedSender:
    """Records every call; `fail(chat, error, times)` makes that chat's next calls raise."""

    delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    faults: dict[int, deque[Exception]] = field(default_factory=lambda: defaultdict(deque))
    next_id: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    on_call: Callable[[Call], Any] | None = None

    def fail(self, chat_id: int, error: Exception, times: int = 1) -> None:
        self.faults[chat_id].extend([error] * times)

    async def _call(self, method: str, chat_id: int, message: Rendered, message_id: int | None = None) -> int:
        call = Call(method, chat_id, message.text, monotonic_time.monotonic(), message_id)
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.faults[chat_id]:
            raise self.faults[chat_id].popleft()
        if message_id is not None:
            return message_id
        self.next_id[chat_id] += 1
        call.message_id = self.next_id[chat_id]
        return call.message_id

    async def send(self, chat_id: int, message: Rendered) -> int:
        return await self._call("send", chat_id, message)

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> int:
        return await self._call("edit", chat_id, message, message_id)

    def delivered(self, chat_id: int | None = None) -> list[str]:
        return [c.text for c in self.calls if c.message_id is not None and chat_id in (None, c.chat_id)]


def render(row: Outbox, user: User) -> Rendered:
    return Rendered(f"{row.kind}#{row.idempotency_key}")


async def make_users(sessions, count: int, **attributes: Any) -> list[User]:
    async with sessions.begin() as session:
        users = [User(telegram_id=1000 + i, first_name=f"U{i}", role="owner", **attributes) for i in range(count)]
        session.add_all(users)
    return users


async def queue(sessions, user: User, key: str, kind: str = "booking_new", *, now: datetime | None = None, **extra):
    async with sessions.begin() as session:
        row = outbox_row(user, kind, key, now=now or utc_now(), payload=extra.pop("payload", {}), **extra)
        await add_outbox_rows(session, [row])


async def rows(sessions) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


async def drain(delivery: Delivery, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - part of the assertion
    """Passes until nothing is left to deliver (rows in backoff become due as real time passes)."""
    async with asyncio.timeout(timeout):
        while True:
            await delivery.run_pass()
            if await delivery.backlog() == 0:
                return
            await asyncio.sleep(0.01)


async def test_oldest_first_in_order_per_chat_and_recorded(sessions):
    users = await make_users(sessions, 3)
    for i in range(5):
        for user in users:
            await queue(sessions, user, f"k{i}:{user.id}")
    sender = ScriptedSender(delay=0.001)
    await drain(Delivery(sessions, sender, render, config=FAST))
    for user in users:
        assert sender.delivered(user.telegram_id) == [f"booking_new#k{i}:{user.id}" for i in range(5)]
    stored = await rows(sessions)
    assert {r.status for r in stored} == {"sent"} and all(r.attempts == 1 for r in stored)
    assert all(r.sent_at is not None and r.telegram_message_id for r in stored)
    assert sorted(r.telegram_message_id for r in stored if r.user_id == users[0].id) == [1, 2, 3, 4, 5]
    assert sender.calls[0].text == f"booking_new#k0:{users[0].id}"  # the oldest row went first


async def test_turned_off_kinds_are_skipped_double_bookings_never(sessions):
    [user] = await make_users(sessions, 1, alert_kinds=["booking_new"])
    await queue(sessions, user, "a", "booking_cancelled")
    await queue(sessions, user, "b", "conflict_opened", payload={"class": "double_booking"}, urgent=True)
    await queue(sessions, user, "c", "conflict_opened", payload={"class": "tentative"})
    await queue(sessions, user, "d", "booking_new")
    sender = ScriptedSender()
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert sender.delivered() == ["conflict_opened#b", "booking_new#d"]
    assert [r.status for r in await rows(sessions)] == ["skipped", "sent", "skipped", "sent"]


async def test_quiet_hours_hold_alerts_and_double_bookings_break_through(sessions):
    # 01:00 in São Paulo (no user zone set: the zone of their properties)
    clock = FakeClock(datetime(2026, 8, 12, 4, 0, tzinfo=UTC))
    [user] = await make_users(sessions, 1, quiet_start=time(22, 0), quiet_end=time(7, 0))
    async with sessions.begin() as session:
        session.add(Property(name="Apto", timezone="America/Sao_Paulo", export_token="t1"))
    await queue(sessions, user, "new", now=clock.now)
    await queue(sessions, user, "double", "conflict_opened", payload={"class": "double_booking"}, urgent=True,
                now=clock.now)  # fmt: skip
    sender = ScriptedSender()
    delivery = Delivery(sessions, sender, render, config=FAST, clock=clock)
    await delivery.run_pass()
    assert sender.delivered() == ["conflict_opened#double"]  # overtakes the held alert
    held = (await rows(sessions))[0]
    assert (held.status, held.not_before, held.attempts) == ("pending", datetime(2026, 8, 12, 10, 0, tzinfo=UTC), 0)

    clock.now = datetime(2026, 8, 12, 9, 59, tzinfo=UTC)
    await delivery.run_pass()
    assert len(sender.delivered()) == 1
    clock.now = datetime(2026, 8, 12, 10, 0, tzinfo=UTC)  # 07:00 local
    await delivery.run_pass()
    assert sender.delivered() == ["conflict_opened#double", "booking_new#new"]


async def test_quiet_hours_follow_the_users_own_zone(sessions):
    clock = FakeClock(datetime(2026, 3, 29, 4, 30, tzinfo=UTC))  # 06:30 CEST in Rome, 01:30 in São Paulo
    [rome] = await make_users(sessions, 1, quiet_start=time(22, 0), quiet_end=time(7, 0), timezone="Europe/Rome")
    await queue(sessions, rome, "x", now=clock.now)
    delivery = Delivery(sessions, ScriptedSender(), render, config=FAST, clock=clock)
    await delivery.run_pass()
    assert (await rows(sessions))[0].not_before == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST


async def test_changing_quiet_hours_releases_held_alerts(sessions):
    clock = FakeClock(datetime(2026, 8, 12, 4, 0, tzinfo=UTC))
    [user] = await make_users(sessions, 1, quiet_start=time(22, 0), quiet_end=time(7, 0))
    await queue(sessions, user, "x", now=clock.now)
    sender = ScriptedSender()
    delivery = Delivery(sessions, sender, render, config=FAST, clock=clock)
    await delivery.run_pass()
    assert sender.delivered() == []
    async with sessions.begin() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        await set_quiet_hours(session, stored, None, now=clock.now)
    await delivery.run_pass()
    assert sender.delivered() == ["booking_new#x"]


async def test_blocked_user_is_marked_inactive_and_nothing_more_goes_to_them(sessions):
    blocked, other = await make_users(sessions, 2)
    for i in range(3):
        await queue(sessions, blocked, f"b{i}")
        await queue(sessions, other, f"o{i}")
    sender = ScriptedSender()
    sender.fail(blocked.telegram_id, ChatBlocked("Forbidden: bot was blocked by the user"))
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert [c.text for c in sender.calls if c.chat_id == blocked.telegram_id] == ["booking_new#b0"]
    assert sender.delivered(other.telegram_id) == ["booking_new#o0", "booking_new#o1", "booking_new#o2"]
    statuses = [(r.idempotency_key, r.status) for r in await rows(sessions) if r.user_id == blocked.id]
    assert statuses == [("b0", "dead"), ("b1", "dead"), ("b2", "dead")]
    async with sessions() as session:
        assert (await session.get(User, blocked.id)).is_active is False  # type: ignore[union-attr]


async def test_a_permanent_refusal_kills_that_row_only(sessions):
    [user] = await make_users(sessions, 1)
    await queue(sessions, user, "bad")
    await queue(sessions, user, "good")
    sender = ScriptedSender()
    sender.fail(user.telegram_id, PermanentError("Bad Request: can't parse entities"))
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert [(r.status, r.last_error) for r in await rows(sessions)] == [
        ("dead", "Bad Request: can't parse entities"),
        ("sent", None),
    ]


async def test_transient_failures_retry_with_backoff_and_keep_the_order(sessions):
    [user] = await make_users(sessions, 1)
    await queue(sessions, user, "first")
    await queue(sessions, user, "second")
    sender = ScriptedSender()
    sender.fail(user.telegram_id, TransientError("TelegramNetworkError: timeout"), times=3)
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert sender.delivered() == ["booking_new#first", "booking_new#second"]
    assert [c.text for c in sender.calls][:4] == ["booking_new#first"] * 4  # the second never overtook
    assert [r.attempts for r in await rows(sessions)] == [4, 1]


async def test_retry_after_pauses_that_chat_only(sessions):
    slow, fast = await make_users(sessions, 2)
    for i in range(2):
        await queue(sessions, slow, f"s{i}")
    for i in range(3):
        await queue(sessions, fast, f"f{i}")
    sender = ScriptedSender()
    sender.fail(slow.telegram_id, RetryAfter(0.5))
    await drain(Delivery(sessions, sender, render, config=FAST))
    slow_calls = [c for c in sender.calls if c.chat_id == slow.telegram_id]
    fast_done = max(c.at for c in sender.calls if c.chat_id == fast.telegram_id)
    assert slow_calls[1].at - slow_calls[0].at >= 0.5
    assert fast_done < slow_calls[1].at  # the other chat did not wait
    assert sender.delivered(slow.telegram_id) == ["booking_new#s0", "booking_new#s1"]


async def test_rows_left_sending_by_a_dead_process_are_sent_again(sessions):
    [user] = await make_users(sessions, 1)
    await queue(sessions, user, "orphan")
    await queue(sessions, user, "next")
    async with sessions.begin() as session:
        lease = utc_now() + timedelta(minutes=2)
        await session.execute(
            update(Outbox).where(Outbox.idempotency_key == "orphan").values(status="sending", attempts=1,
                                                                              not_before=lease)
        )  # fmt: skip
    sender = ScriptedSender()
    cautious = Delivery(sessions, sender, render, config=_config(recover_all_on_start=False))
    await cautious.run_pass()
    assert sender.delivered() == []  # another instance may hold it: wait for its lease (and keep the chat's order)
    async with sessions.begin() as session:
        await session.execute(update(Outbox).where(Outbox.idempotency_key == "orphan").values(
            not_before=utc_now() - timedelta(seconds=1)))  # fmt: skip
    await drain(cautious)
    assert sender.delivered() == ["booking_new#orphan", "booking_new#next"]
    assert cautious.stats.recovered == 1


async def test_sqlite_style_start_recovers_every_sending_row_at_once(sessions):
    [user] = await make_users(sessions, 1)
    await queue(sessions, user, "orphan")
    async with sessions.begin() as session:
        await session.execute(update(Outbox).values(status="sending", attempts=1,
                                                    not_before=utc_now() + timedelta(minutes=2)))  # fmt: skip
    sender = ScriptedSender()
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert sender.delivered() == ["booking_new#orphan"]
    assert (await rows(sessions))[0].attempts == 2


async def test_an_alert_in_flight_when_its_person_left_the_team_is_not_sent_later(sessions):
    """Removal skips what is queued; a row already on the wire then that comes back (a retry) is skipped too."""
    async with sessions.begin() as session:
        owner = User(telegram_id=1, first_name="Owner", role="owner")
        cleaner = User(telegram_id=2, first_name="Cleaner", role="viewer")
        flat, house = (Property(name=name, timezone="UTC", export_token=name) for name in ("Flat", "House"))
        session.add_all([owner, cleaner, flat, house])
        await session.flush()
        session.add_all([PropertyAccess(user_id=cleaner.id, property_id=p.id, role="cleaner") for p in (flat, house)])
    await queue(sessions, cleaner, "flat", property_id=flat.id)
    await queue(sessions, owner, "owner-flat", property_id=flat.id)
    on_wire = asyncio.Event()
    sender = ScriptedSender(delay=0.2, on_call=lambda _call: on_wire.set())
    sender.fail(cleaner.telegram_id, TransientError("timeout"))
    delivery = Delivery(sessions, sender, render, config=FAST)
    first = asyncio.create_task(delivery.run_pass())
    await on_wire.wait()
    async with sessions.begin() as session:  # removed from the flat's team while its alert is on the wire
        await session.execute(delete(PropertyAccess).where(PropertyAccess.property_id == flat.id))
    await first
    await queue(sessions, cleaner, "house", property_id=house.id)
    await drain(delivery)
    assert sender.delivered() == ["booking_new#owner-flat", "booking_new#house"]
    outcome = {r.idempotency_key: (r.status, r.last_error) for r in await rows(sessions)}
    assert outcome["flat"] == ("skipped", "access removed")


def _config(**overrides: Any) -> DeliveryConfig:
    values = {name: getattr(FAST, name) for name in DeliveryConfig.__dataclass_fields__}
    values.update(overrides)
    return DeliveryConfig(**values)


async def test_two_delivery_loops_never_send_a_row_twice(sessions):
    users = await make_users(sessions, 8)
    keys = []
    for i in range(15):
        for user in users:
            keys.append(f"r{i}:{user.id}")
            await queue(sessions, user, keys[-1])
    sender = ScriptedSender(delay=0.01)
    started = asyncio.Event()
    sender.on_call = lambda _call: started.set()
    config = _config(recover_all_on_start=False, max_in_flight=4)
    first, second = Delivery(sessions, sender, render, config=config), Delivery(sessions, sender, render, config=config)
    async with asyncio.timeout(30):
        running = asyncio.create_task(first.run_pass())
        await started.wait()  # the first holds four chats; the second must find the other four
        await asyncio.gather(running, second.run_pass())
        while await first.backlog():
            await asyncio.gather(first.run_pass(), second.run_pass())
    texts = [c.text for c in sender.calls]
    assert sorted(texts) == sorted(f"booking_new#{k}" for k in keys)  # each exactly once
    for user in users:
        assert sender.delivered(user.telegram_id) == [f"booking_new#r{i}:{user.id}" for i in range(15)]
    assert first.stats.sent > 0 and second.stats.sent > 0  # both really worked


async def test_a_turnover_row_edits_the_existing_message_or_sends_a_new_one(sessions):
    [cleaner] = await make_users(sessions, 1)
    async with sessions.begin() as session:
        prop = Property(name="Apto", timezone="America/Sao_Paulo", export_token="t2")
        session.add(prop)
        await session.flush()
        tm = TurnoverMessage(user_id=cleaner.id, property_id=prop.id, chat_id=cleaner.telegram_id, message_id=None)
        session.add(tm)
        await session.flush()
        tm_id, prop_id = tm.id, prop.id
    for key in ("v1", "v2", "v3"):
        await queue(sessions, cleaner, key, "turnover", payload={"turnover_message_id": tm_id}, property_id=prop_id)
    sender = ScriptedSender()
    sender.on_call = lambda call: (
        sender.fail(call.chat_id, MessageGone("message to edit not found"))
        if call.method == "edit" and call.text.endswith("v3")
        else None
    )
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert [(c.method, c.text.rsplit("#", 1)[1]) for c in sender.calls] == [
        ("send", "v1"),
        ("edit", "v2"),
        ("edit", "v3"),  # the user deleted it: a new message instead
        ("send", "v3"),
    ]
    async with sessions() as session:
        assert (await session.get(TurnoverMessage, tm_id)).message_id == 2  # type: ignore[union-attr]


async def test_a_row_that_cannot_be_rendered_is_dead(sessions):
    [user] = await make_users(sessions, 1)
    await queue(sessions, user, "broken")
    await queue(sessions, user, "fine")

    def fragile(row: Outbox, user: User) -> Rendered:
        if row.idempotency_key == "broken":
            raise KeyError("check_in")
        return render(row, user)

    sender = ScriptedSender()
    await drain(Delivery(sessions, sender, fragile, config=FAST))
    assert [(r.status, r.last_error) for r in await rows(sessions)] == [("dead", "render error"), ("sent", None)]


async def test_stop_hands_back_waiting_rows_and_finishes_sends_on_the_wire(sessions):
    users = await make_users(sessions, 6)
    for user in users:
        await queue(sessions, user, f"x{user.id}")
    sender = ScriptedSender(delay=0.3)
    on_wire = asyncio.Event()
    sender.on_call = lambda _call: on_wire.set()
    delivery = Delivery(sessions, sender, render, config=_config(global_rate=2))  # one slot each half second
    delivery.start()
    await on_wire.wait()
    await delivery.stop()
    stored = await rows(sessions)
    assert len(sender.calls) == 1 and [r.status for r in stored].count("sent") == 1  # finished and recorded
    assert {(r.status, r.attempts) for r in stored if r.status != "sent"} == {("pending", 0)}  # untouched
    await drain(Delivery(sessions, sender, render, config=FAST))
    assert len(sender.calls) == 6  # the rest once each after a restart
