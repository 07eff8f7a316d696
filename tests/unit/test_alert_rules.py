"""Who gets what and when: preferences, quiet hours (across daylight-saving changes), and the delivery decision."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.views.alerts import VIEWS
from domain.alerts import PREFERENCE_OF_KIND, PREFERENCES, AlertKind, decide, quiet_until, toggled, wants
from domain.time import user_zone

ROME = ZoneInfo("Europe/Rome")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NIGHT = (time(22, 0), time(7, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- preferences --------------------------------------------------------------------------------------------


def test_every_alert_kind_has_a_view_and_a_switch_or_none():
    """Adding a kind to AlertKind without its view or its place in the settings fails here."""
    assert set(VIEWS) == set(AlertKind)
    assert set(PREFERENCE_OF_KIND) == set(AlertKind)
    assert {p for p in PREFERENCE_OF_KIND.values() if p is not None} == set(PREFERENCES)


def test_everything_is_wanted_by_default():
    for kind in ("booking_new", "booking_restored", "feed_trouble", "blocks_summary", "summary", "turnover"):
        assert wants(None, kind, {})


def test_a_switch_covers_its_kinds():
    only_new = ["booking_new"]
    assert wants(only_new, "booking_new", {})
    assert not wants(only_new, "booking_cancelled", {})
    assert not wants(only_new, "booking_restored", {})  # restored belongs with cancellations
    assert not wants(only_new, "feed_recovered", {})
    assert wants(only_new, "summary", {})  # governed by the summary hour, not a switch


def test_double_bookings_cannot_be_turned_off():
    nothing: list[str] = []
    assert wants(nothing, "conflict_opened", {"class": "double_booking"})
    assert wants(nothing, "conflict_closed", {"class": "double_booking"})
    assert not wants(nothing, "conflict_opened", {"class": "tentative"})


def test_toggling_back_to_all_stores_none():
    off = toggled(None, "blocks")
    assert off == [p for p in PREFERENCES if p != "blocks"]
    assert toggled(off, "blocks") is None
    with pytest.raises(ValueError):
        toggled(None, "double_booking")


# --- quiet hours ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (utc(2026, 8, 12, 0, 30), utc(2026, 8, 12, 10, 0)),  # 21:30 in São Paulo: not yet quiet
        (utc(2026, 8, 12, 1, 0), utc(2026, 8, 12, 10, 0)),  # 22:00 local: quiet until 07:00 = 10:00 UTC
        (utc(2026, 8, 12, 9, 59), utc(2026, 8, 12, 10, 0)),  # 06:59 local
        (utc(2026, 8, 12, 10, 0), None),  # 07:00 local: the end is not quiet any more
        (utc(2026, 8, 12, 15, 0), None),  # noon
    ],
)
def test_quiet_hours_across_midnight_without_dst(now, until):
    expected = None if now == utc(2026, 8, 12, 0, 30) else until
    assert quiet_until(now, *NIGHT, SAO_PAULO) == expected


def test_quiet_hours_within_one_day():
    assert quiet_until(utc(2026, 8, 12, 4, 0), time(0, 0), time(8, 0), SAO_PAULO) == utc(2026, 8, 12, 11, 0)
    assert quiet_until(utc(2026, 8, 12, 2, 59), time(0, 0), time(8, 0), SAO_PAULO) is None  # 23:59 local


def test_no_quiet_hours():
    assert quiet_until(utc(2026, 8, 12, 4, 0), None, None, ROME) is None
    assert quiet_until(utc(2026, 8, 12, 4, 0), time(7, 0), time(7, 0), ROME) is None


def test_quiet_hours_on_the_night_rome_springs_forward():
    # 28 → 29 March 2026: 02:00 CET becomes 03:00 CEST. 22:00 CET = 21:00 UTC; 07:00 CEST = 05:00 UTC.
    assert quiet_until(utc(2026, 3, 28, 20, 59), *NIGHT, ROME) is None
    assert quiet_until(utc(2026, 3, 28, 21, 0), *NIGHT, ROME) == utc(2026, 3, 29, 5, 0)
    assert quiet_until(utc(2026, 3, 29, 1, 30), *NIGHT, ROME) == utc(2026, 3, 29, 5, 0)  # 03:30 CEST
    assert quiet_until(utc(2026, 3, 29, 5, 0), *NIGHT, ROME) is None


def test_quiet_hours_on_the_night_rome_falls_back():
    # 24 → 25 October 2026: 03:00 CEST becomes 02:00 CET. 22:00 CEST = 20:00 UTC; 07:00 CET = 06:00 UTC.
    assert quiet_until(utc(2026, 10, 24, 20, 0), *NIGHT, ROME) == utc(2026, 10, 25, 6, 0)
    assert quiet_until(utc(2026, 10, 25, 0, 30), *NIGHT, ROME) == utc(2026, 10, 25, 6, 0)  # the first 02:30
    assert quiet_until(utc(2026, 10, 25, 1, 30), *NIGHT, ROME) == utc(2026, 10, 25, 6, 0)  # the second 02:30
    assert quiet_until(utc(2026, 10, 25, 5, 59), *NIGHT, ROME) == utc(2026, 10, 25, 6, 0)
    assert quiet_until(utc(2026, 10, 25, 6, 0), *NIGHT, ROME) is None


def test_a_persons_zone():
    default = ZoneInfo("America/Sao_Paulo")
    assert user_zone("Europe/Rome", ["America/Sao_Paulo"], default) == ROME
    assert user_zone(None, ["Europe/Rome", "Europe/Rome", "America/Sao_Paulo"], default) == ROME
    assert user_zone(None, [], default) == default
    assert user_zone("Not/AZone", [], default) == default


# --- the decision ---------------------------------------------------------------------------------------------


def _decide(**overrides):
    values = dict(
        kind="booking_new",
        urgent=False,
        payload={},
        user_active=True,
        alert_kinds=None,
        quiet_start=NIGHT[0],
        quiet_end=NIGHT[1],
        zone=SAO_PAULO,
        now=utc(2026, 8, 12, 4, 0),  # 01:00 in São Paulo: quiet
    )
    values.update(overrides)
    return decide(**values)


def test_quiet_hours_hold_an_alert_until_they_end():
    decision = _decide()
    assert (decision.action, decision.until) == ("defer", utc(2026, 8, 12, 10, 0))


def test_a_double_booking_breaks_through_quiet_hours():
    assert _decide(kind="conflict_opened", urgent=True, payload={"class": "double_booking"}).action == "send"


def test_an_edit_makes_no_sound_and_is_not_held():
    assert _decide(kind="turnover", silent=True).action == "send"


def test_turned_off_kinds_are_skipped_and_blocked_users_dead():
    assert _decide(alert_kinds=["booking_changed"]).action == "skip"
    assert _decide(user_active=False).action == "dead"
    assert _decide(now=utc(2026, 8, 12, 15, 0)).action == "send"
