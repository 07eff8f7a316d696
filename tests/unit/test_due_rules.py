"""What is due at an instant: the daily summary and the check-in/check-out reminders, in local time, across the
daylight-saving changes of Europe/Rome (last Sundays of March and October 2026) and in São Paulo (no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.reminders import ReminderTimes, due_reminders, reminder_window
from domain.summary import SummaryStay, build_summary, summary_due
from storage.models import Booking, Property

ROME = ZoneInfo("Europe/Rome")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TIMES = ReminderTimes()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the daily summary ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_day", "seven_local_in_utc"),
    [
        (date(2026, 3, 28), utc(2026, 3, 28, 6, 0)),  # CET, the day before the change
        (date(2026, 3, 29), utc(2026, 3, 29, 5, 0)),  # CEST from 03:00 that night
        (date(2026, 10, 24), utc(2026, 10, 24, 5, 0)),  # CEST, the day before the change
        (date(2026, 10, 25), utc(2026, 10, 25, 6, 0)),  # CET from 03:00 (then 02:00) that night
    ],
)
def test_summary_at_seven_in_rome_across_dst(local_day, seven_local_in_utc):
    assert summary_due(seven_local_in_utc - timedelta(seconds=1), ROME, 7) is None
    assert summary_due(seven_local_in_utc, ROME, 7) == local_day
    assert summary_due(seven_local_in_utc + timedelta(hours=2, minutes=59), ROME, 7) == local_day
    assert summary_due(seven_local_in_utc + timedelta(hours=3), ROME, 7) is None  # too late to be news


def test_summary_in_sao_paulo_has_no_dst():
    for day in (date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)):
        at = datetime.combine(day, time(10, 0), tzinfo=UTC)  # 07:00 at UTC-3 all year
        assert summary_due(at, SAO_PAULO, 7) == day
        assert summary_due(at - timedelta(minutes=1), SAO_PAULO, 7) is None


def test_summary_off():
    assert summary_due(utc(2026, 8, 12, 10, 0), SAO_PAULO, None) is None


def test_summary_content_today_and_tomorrow():
    today = date(2026, 8, 12)
    stays = [
        SummaryStay(1, "Apto 101", date(2026, 8, 10), today, "airbnb", "Ana"),  # leaves today
        SummaryStay(2, "Apto 101", today, date(2026, 8, 15), "booking"),  # arrives today, in house tomorrow
        SummaryStay(3, "Casa", date(2026, 8, 11), date(2026, 8, 14), "direct", "Bia"),  # in house both days
        SummaryStay(4, "Casa", date(2026, 8, 14), date(2026, 8, 16), "airbnb"),  # later: nowhere
    ]
    summary = build_summary(today, stays, conflicts=[{"conflict_id": 9}], feeds=[])
    first, second = summary["days"]
    ids = {name: [s["booking_id"] for s in first[name]] for name in ("arrivals", "departures", "in_house")}
    assert ids == {"arrivals": [2], "departures": [1], "in_house": [3]}
    ids = {name: [s["booking_id"] for s in second[name]] for name in ("arrivals", "departures", "in_house")}
    assert ids == {"arrivals": [], "departures": [], "in_house": [2, 3]}
    assert second["date"] == "2026-08-13" and summary["conflicts"] == [{"conflict_id": 9}]


# --- reminders -------------------------------------------------------------------------------------------------


def _prop(zone: str) -> Property:
    return Property(id=1, name="Apto", timezone=zone, checkin_time=time(15, 0), checkout_time=time(11, 0))


def _booking(check_in: date, check_out: date) -> Booking:
    return Booking(id=7, property_id=1, check_in=check_in, check_out=check_out, source="airbnb", kind="reservation")


@pytest.mark.parametrize(
    ("check_in", "evening_before_utc"),
    [
        (date(2026, 3, 29), utc(2026, 3, 28, 17, 0)),  # 18:00 CET on the 28th
        (date(2026, 3, 30), utc(2026, 3, 29, 16, 0)),  # 18:00 CEST on the 29th
        (date(2026, 10, 25), utc(2026, 10, 24, 16, 0)),  # 18:00 CEST on the 24th
        (date(2026, 10, 26), utc(2026, 10, 25, 17, 0)),  # 18:00 CET on the 25th
    ],
)
def test_checkin_reminder_the_evening_before_in_rome(check_in, evening_before_utc):
    props = {1: _prop("Europe/Rome")}
    stay = _booking(check_in, check_in + timedelta(days=3))
    assert due_reminders(evening_before_utc - timedelta(minutes=1), [stay], props, TIMES) == []
    [due] = due_reminders(evening_before_utc, [stay], props, TIMES)
    assert (due.kind, due.day) == ("checkin_reminder", check_in)
    start, until = reminder_window("checkin_reminder", check_in, zone=ROME, times=TIMES, event_time=time(15, 0))
    assert start == evening_before_utc
    assert until == datetime.combine(check_in, time(15, 0), tzinfo=ROME).astimezone(UTC)  # not after check-in time
    assert due_reminders(until, [stay], props, TIMES) == []


@pytest.mark.parametrize(
    ("check_out", "morning_utc"),
    [
        (date(2026, 3, 29), utc(2026, 3, 29, 6, 0)),  # 08:00 CEST, hours after the change
        (date(2026, 10, 25), utc(2026, 10, 25, 7, 0)),  # 08:00 CET
    ],
)
def test_checkout_reminder_in_the_morning_in_rome(check_out, morning_utc):
    props = {1: _prop("Europe/Rome")}
    stay = _booking(check_out - timedelta(days=2), check_out)
    assert due_reminders(morning_utc - timedelta(seconds=1), [stay], props, TIMES) == []
    [due] = due_reminders(morning_utc, [stay], props, TIMES)
    assert (due.kind, due.day) == ("checkout_reminder", check_out)


def test_reminders_in_sao_paulo():
    props = {1: _prop("America/Sao_Paulo")}
    stay = _booking(date(2026, 10, 25), date(2026, 10, 27))
    [due] = due_reminders(utc(2026, 10, 24, 21, 0), [stay], props, TIMES)  # 18:00 at UTC-3
    assert due.kind == "checkin_reminder"
    [due] = due_reminders(utc(2026, 10, 27, 11, 0), [stay], props, TIMES)  # 08:00 at UTC-3
    assert due.kind == "checkout_reminder"


def test_a_reminder_hour_after_the_event_still_gets_a_window():
    times = ReminderTimes(checkin=time(18, 0), checkout=time(12, 0))  # after the 11:00 check-out
    start, until = reminder_window("checkout_reminder", date(2026, 8, 12), zone=SAO_PAULO, times=times,
                                   event_time=time(11, 0))  # fmt: skip
    assert until - start == timedelta(hours=2)
