"""Turnovers from live stays (pure): who leaves, who arrives next, overlapping stays as one occupancy."""

from __future__ import annotations

from datetime import date, time

from domain.turnovers import Stay, Turnover, compute_turnovers, content_hash, turnover_content
from storage.models import Property

TODAY = date(2026, 8, 10)


def d(day: int, month: int = 8) -> date:
    return date(2026, month, day)


def pairs(turnovers: list[Turnover]) -> list[tuple[int, int | None]]:
    return [(t.departing.id, t.arriving.id if t.arriving else None) for t in turnovers]


def test_each_departure_pairs_with_the_next_arrival():
    stays = [Stay(1, d(8), d(12)), Stay(2, d(12), d(15)), Stay(3, d(18), d(20))]
    assert pairs(compute_turnovers(stays, today=TODAY)) == [(1, 2), (2, 3), (3, None)]
    same_day = compute_turnovers(stays, today=TODAY)[0]
    assert same_day.day == d(12) and same_day.arriving is not None and same_day.arriving.check_in == d(12)


def test_past_departures_are_not_turnovers():
    stays = [Stay(1, d(1), d(5)), Stay(2, d(5), d(10)), Stay(3, d(11), d(13))]
    assert pairs(compute_turnovers(stays, today=TODAY)) == [(2, 3), (3, None)]


def test_overlapping_stays_are_one_block():
    # the same stay echoed by Booking.com (4) and a longer overlapping stay (5): cleaning after the last to leave
    stays = [Stay(1, d(12), d(15)), Stay(4, d(12), d(15), "booking"), Stay(5, d(14), d(17)), Stay(6, d(17), d(19))]
    assert pairs(compute_turnovers(stays, today=TODAY)) == [(5, 6), (6, None)]
    echo_only = [Stay(4, d(12), d(15), "booking"), Stay(1, d(12), d(15))]
    assert pairs(compute_turnovers(echo_only, today=TODAY)) == [(1, None)]  # lowest id on a tie


def test_content_hash_follows_what_the_cleaner_sees():
    prop = Property(name="Apto 101", checkin_time=time(15, 0), checkout_time=time(11, 0))
    before = Turnover(Stay(1, d(8), d(12), "airbnb", "Ana"), Stay(2, d(12), d(15)))
    moved = Turnover(Stay(1, d(8), d(13), "airbnb", "Ana"), Stay(2, d(13), d(15)))
    first = turnover_content(before, prop)
    assert first["day"] == "2026-08-12" and first["checkout_time"] == "11:00" and first["arriving"]["booking_id"] == 2
    assert content_hash(first) == content_hash(turnover_content(before, prop))
    assert content_hash(first) != content_hash(turnover_content(moved, prop))
    assert content_hash(first) != content_hash(turnover_content(before, prop, cancelled=True))
