"""The once-a-minute job on a real database, with an injected clock: daily summaries and reminders at the right
local time across Rome's daylight-saving changes and in São Paulo, queued once; turnovers for cleaners."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.alerts import add_outbox_rows, outbox_row
from domain.conflict_actions import snooze
from domain.conflict_check import check_property
from domain.turnovers import refresh_turnovers
from jobs.reminders import ReminderJob
from storage.models import Booking, Conflict, Feed, Outbox, Property, PropertyAccess, TurnoverMessage, User
from tests.support.clock import FakeClock

_UIDS = itertools.count()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def outbox(sessions, kind: str | None = None) -> list[Outbox]:
    async with sessions() as session:
        query = select(Outbox).order_by(Outbox.id)
        if kind:
            query = query.where(Outbox.kind == kind)
        return list((await session.scalars(query)).all())


async def setup_world(sessions, zone: str, **owner: Any) -> dict[str, int]:
    async with sessions.begin() as session:
        boss = User(telegram_id=1, first_name="Owner", role="owner", locale="en", **owner)
        manager = User(telegram_id=2, first_name="Manager", role="manager", locale="pt_BR")
        cleaner = User(telegram_id=3, first_name="Cleaner", role="cleaner", locale="pt_BR")
        prop = Property(name="Apto", timezone=zone, export_token=f"tok-{zone}")
        session.add_all([boss, manager, cleaner, prop])
        await session.flush()
        session.add_all(
            [
                PropertyAccess(user_id=manager.id, property_id=prop.id, role="manager"),
                PropertyAccess(user_id=cleaner.id, property_id=prop.id, role="cleaner"),
            ]
        )
        return {"owner": boss.id, "manager": manager.id, "cleaner": cleaner.id, "property": prop.id}


async def add_booking(sessions, property_id: int, check_in: date, check_out: date, **extra: Any) -> int:
    async with sessions.begin() as session:
        values: dict[str, Any] = {"source": "airbnb", "kind": "reservation", "status": "active"}
        values.update(extra)
        booking = Booking(property_id=property_id, check_in=check_in, check_out=check_out,
                          export_uid=f"uid-{next(_UIDS)}@test", **values)  # fmt: skip
        session.add(booking)
        await session.flush()
        return booking.id


# --- daily summary --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "seven"),
    [(date(2026, 3, 28), utc(2026, 3, 28, 6, 0)), (date(2026, 3, 29), utc(2026, 3, 29, 5, 0)),
     (date(2026, 10, 24), utc(2026, 10, 24, 5, 0)), (date(2026, 10, 25), utc(2026, 10, 25, 6, 0))],
)  # fmt: skip
async def test_summary_at_seven_in_rome_across_dst_once(sessions, day, seven):
    ids = await setup_world(sessions, "Europe/Rome", summary_hour=7)
    await add_booking(sessions, ids["property"], day, day + timedelta(days=2), feed_guest_name="Ana")
    await add_booking(sessions, ids["property"], day - timedelta(days=3), day)
    clock = FakeClock(seven - timedelta(minutes=1))
    job = ReminderJob(sessions, clock=clock)
    await job.run()
    assert await outbox(sessions, "summary") == []
    clock.now = seven
    assert (await job.run()).summaries == 1
    clock.now = seven + timedelta(minutes=1)
    assert (await job.run()).summaries == 0  # once per local day, also across runs and restarts
    assert (await ReminderJob(sessions, clock=clock).run()).summaries == 0
    [row] = await outbox(sessions, "summary")
    assert row.idempotency_key == f"summary:{ids['owner']}:{day.isoformat()}"
    today = row.payload["days"][0]
    assert [a["guest"] for a in today["arrivals"]] == ["Ana"] and len(today["departures"]) == 1


async def test_summary_in_sao_paulo_with_conflicts_and_troubled_feeds(sessions):
    ids = await setup_world(sessions, "America/Sao_Paulo", summary_hour=8)
    async with sessions.begin() as session:
        manager = await session.get(User, ids["manager"])
        assert manager is not None
        manager.summary_hour = 8
    day = date(2026, 10, 25)
    a = await add_booking(sessions, ids["property"], day, day + timedelta(days=3))
    b = await add_booking(sessions, ids["property"], day + timedelta(days=1), day + timedelta(days=4), source="booking")
    async with sessions.begin() as session:
        session.add(
            Conflict(property_id=ids["property"], booking_a_id=a, booking_b_id=b, klass="double_booking",
                     severity=3, status="open", dates_key="k", overlap_start=day + timedelta(days=1),
                     overlap_end=day + timedelta(days=3), opened_at=utc(2026, 10, 20))
        )  # fmt: skip
        session.add(Feed(property_id=ids["property"], url="http://x/cal.ics", platform="vrbo", in_trouble=True,
                         last_error="timeout"))  # fmt: skip
    job = ReminderJob(sessions, clock=FakeClock(utc(2026, 10, 25, 11, 0)))  # 08:00 at UTC-3
    assert (await job.run()).summaries == 2  # owner and manager; the cleaner hears nothing of bookings
    row = (await outbox(sessions, "summary"))[0]
    assert [c["class"] for c in row.payload["conflicts"]] == ["double_booking"]
    assert [f["reason"] for f in row.payload["feeds"]] == ["timeout"]


# --- reminders -------------------------------------------------------------------------------------------------


async def test_checkin_reminder_the_evening_before_in_rome_once_for_those_who_want_it(sessions):
    ids = await setup_world(sessions, "Europe/Rome")
    async with sessions.begin() as session:
        manager = await session.get(User, ids["manager"])
        assert manager is not None
        manager.alert_kinds = ["booking_new"]  # turned reminders off
    booking = await add_booking(sessions, ids["property"], date(2026, 3, 30), date(2026, 4, 2))
    clock = FakeClock(utc(2026, 3, 29, 15, 59))  # 17:59 CEST, the day after the change
    job = ReminderJob(sessions, clock=clock)
    assert (await job.run()).reminders == 0
    clock.now = utc(2026, 3, 29, 16, 0)  # 18:00 CEST
    assert (await job.run()).reminders == 1
    assert (await job.run()).reminders == 0
    [row] = await outbox(sessions, "checkin_reminder")
    assert row.user_id == ids["owner"]
    assert row.idempotency_key == f"checkin:{booking}:2026-03-30:{ids['owner']}"
    assert row.payload["time"] == "15:00" and row.booking_id == booking


async def test_checkout_reminder_in_the_morning_after_rome_falls_back(sessions):
    ids = await setup_world(sessions, "Europe/Rome")
    await add_booking(sessions, ids["property"], date(2026, 10, 22), date(2026, 10, 25))
    clock = FakeClock(utc(2026, 10, 25, 6, 59))  # 07:59 CET
    job = ReminderJob(sessions, clock=clock)
    await job.run()
    assert await outbox(sessions, "checkout_reminder") == []
    clock.now = utc(2026, 10, 25, 7, 0)
    await job.run()
    assert len(await outbox(sessions, "checkout_reminder")) == 2  # owner and manager


async def test_a_moved_stay_gets_a_new_reminder_and_cancelled_ones_none(sessions):
    ids = await setup_world(sessions, "America/Sao_Paulo")
    booking = await add_booking(sessions, ids["property"], date(2026, 8, 13), date(2026, 8, 15))
    await add_booking(sessions, ids["property"], date(2026, 8, 13), date(2026, 8, 14), status="cancelled")
    clock = FakeClock(utc(2026, 8, 12, 21, 0))  # 18:00 the day before
    job = ReminderJob(sessions, clock=clock)
    assert (await job.run()).reminders == 2
    async with sessions.begin() as session:
        stored = await session.get(Booking, booking)
        assert stored is not None
        stored.check_in, stored.check_out = date(2026, 8, 14), date(2026, 8, 16)
    clock.now = utc(2026, 8, 13, 21, 0)
    assert (await job.run()).reminders == 2


# --- turnovers -------------------------------------------------------------------------------------------------


async def turnover_rows(sessions) -> list[tuple[str, str, bool]]:
    return [(r.status, r.payload["day"], r.payload["cancelled"]) for r in await outbox(sessions, "turnover")]


async def test_turnovers_created_edited_and_struck_for_cleaners_only(sessions):
    ids = await setup_world(sessions, "America/Sao_Paulo")
    now = utc(2026, 8, 10, 15, 0)
    first = await add_booking(sessions, ids["property"], date(2026, 8, 11), date(2026, 8, 14), feed_guest_name="Ana")
    second = await add_booking(sessions, ids["property"], date(2026, 8, 14), date(2026, 8, 16))

    async def refresh() -> int:
        async with sessions.begin() as session:
            prop = await session.get(Property, ids["property"])
            assert prop is not None
            return await refresh_turnovers(session, prop, now=now)

    assert await refresh() == 2  # first → second, second → nobody yet
    assert await refresh() == 0  # idempotent
    rows = await outbox(sessions, "turnover")
    assert {r.user_id for r in rows} == {ids["cleaner"]}
    assert "guest" not in rows[0].payload["departing"]  # a cleaner never learns who
    assert rows[0].payload["departing"]["guests"] is None and rows[0].payload["arriving"]["booking_id"] == second

    async with sessions.begin() as session:  # the first stay leaves a day later, and so the second arrives later
        a, b = await session.get(Booking, first), await session.get(Booking, second)
        assert a is not None and b is not None
        a.check_out, b.check_in = date(2026, 8, 15), date(2026, 8, 15)
    now += timedelta(minutes=1)
    assert await refresh() == 2
    assert await turnover_rows(sessions) == [
        ("skipped", "2026-08-14", False),  # superseded before it was sent
        ("skipped", "2026-08-16", False),
        ("pending", "2026-08-15", False),
        ("pending", "2026-08-16", False),
    ]

    async with sessions.begin() as session:
        b = await session.get(Booking, second)
        assert b is not None
        b.status = "cancelled"
    now += timedelta(minutes=1)
    assert await refresh() == 2  # first: nobody arriving now (edit); second: struck through
    latest = (await turnover_rows(sessions))[-2:]
    assert latest == [("pending", "2026-08-15", False), ("pending", "2026-08-16", True)]
    async with sessions() as session:
        messages = (await session.scalars(select(TurnoverMessage).order_by(TurnoverMessage.id))).all()
        assert [(m.departing_booking_id, m.arriving_booking_id, m.cancelled) for m in messages] == [
            (first, None, False),
            (second, None, True),
        ]


async def test_turnovers_beyond_the_horizon_wait(sessions):
    ids = await setup_world(sessions, "America/Sao_Paulo")
    await add_booking(sessions, ids["property"], date(2026, 12, 1), date(2026, 12, 5))
    async with sessions.begin() as session:
        prop = await session.get(Property, ids["property"])
        assert prop is not None
        assert await refresh_turnovers(session, prop, now=utc(2026, 8, 10, 15, 0)) == 0
        assert await refresh_turnovers(session, prop, now=utc(2026, 11, 10, 15, 0)) == 1


async def test_the_job_refreshes_turnovers_now_and_then(sessions):
    ids = await setup_world(sessions, "America/Sao_Paulo")
    await add_booking(sessions, ids["property"], date(2026, 8, 11), date(2026, 8, 14))
    queued: list[int] = []
    clock = FakeClock(utc(2026, 8, 10, 15, 0))
    job = ReminderJob(sessions, clock=clock, on_queued=lambda: queued.append(1))
    assert (await job.run()).turnovers == 1 and queued == [1]
    await add_booking(sessions, ids["property"], date(2026, 8, 20), date(2026, 8, 22))
    clock.now += timedelta(minutes=1)
    assert (await job.run()).turnovers == 0  # not every minute
    clock.now += timedelta(minutes=5)
    assert (await job.run()).turnovers == 2  # edited (now someone arrives) and the new one


async def test_finished_alerts_are_forgotten_after_a_while(sessions):
    ids = await setup_world(sessions, "America/Sao_Paulo")
    async with sessions.begin() as session:
        owner = await session.get(User, ids["owner"])
        assert owner is not None
        old, recent = utc(2026, 6, 1), utc(2026, 8, 1)
        rows = [outbox_row(owner, "booking_new", f"{status}:{at:%m}", now=at, payload={}) for at in (old, recent)
                for status in ("sent", "dead", "skipped", "pending")]  # fmt: skip
        for row in rows:
            row["status"] = row["idempotency_key"].split(":")[0]
        await add_outbox_rows(session, rows)
    run = await ReminderJob(sessions, clock=FakeClock(utc(2026, 8, 10, 15, 0))).run()
    assert run.pruned == 3
    assert sorted(r.idempotency_key for r in await outbox(sessions)) == sorted(
        ["pending:06", "sent:08", "dead:08", "skipped:08", "pending:08"]
    )


# --- snoozed conflicts ------------------------------------------------------------------------------------------


async def _snoozed_double_booking(sessions, now: datetime) -> int:
    ids = await setup_world(sessions, "America/Sao_Paulo")
    await add_booking(sessions, ids["property"], date(2026, 9, 10), date(2026, 9, 14))
    await add_booking(sessions, ids["property"], date(2026, 9, 12), date(2026, 9, 15), source="direct")
    async with sessions.begin() as session:
        prop = await session.get(Property, ids["property"])
        owner = await session.get(User, ids["owner"])
        assert prop is not None and owner is not None
        [opened] = await check_property(session, prop, now=now, today=date(2026, 9, 1))
        conflict = await session.get(Conflict, opened.conflict_id)
        assert conflict is not None
        await snooze(session, conflict, user=owner, now=now)
        return conflict.id


async def test_a_snoozed_double_booking_pages_again_when_the_snooze_ends(sessions):
    start = utc(2026, 9, 1, 12, 0)
    await _snoozed_double_booking(sessions, start)
    clock = FakeClock(start)
    job = ReminderJob(sessions, clock=clock)
    paged = len(await outbox(sessions, "conflict_opened"))  # once for each person who may act on it
    assert paged >= 1
    clock.advance(hours=23)
    await job.run()
    assert len(await outbox(sessions, "conflict_opened")) == paged  # still snoozed
    clock.advance(hours=2)
    assert (await job.run()).snoozes == 1
    pages = await outbox(sessions, "conflict_opened")
    assert len(pages) == 2 * paged and pages[-1].payload["reminder"] and pages[-1].urgent
    clock.advance(hours=3)
    await job.run()
    assert len(await outbox(sessions, "conflict_opened")) == 2 * paged  # once per snooze


async def test_a_snoozed_conflict_that_closed_meanwhile_stays_quiet(sessions):
    start = utc(2026, 9, 1, 12, 0)
    conflict_id = await _snoozed_double_booking(sessions, start)
    async with sessions.begin() as session:
        conflict = await session.get(Conflict, conflict_id)
        assert conflict is not None
        conflict.status = "closed"
    paged = len(await outbox(sessions, "conflict_opened"))
    clock = FakeClock(start + timedelta(hours=30))
    assert (await ReminderJob(sessions, clock=clock).run()).snoozes == 0
    assert len(await outbox(sessions, "conflict_opened")) == paged
