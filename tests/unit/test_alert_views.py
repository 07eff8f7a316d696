"""Alert texts: property first in bold, Babel dates in the user's language, escaped input, the right buttons.

Sentences are compared through the catalog (`_()` in the same locale), so these tests check the wiring and the
Babel formatting rather than a particular translation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import _, use_locale
from bot.views.alerts import render_alert
from storage.models import Outbox, User

QUEUED = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def row(alert_kind: str, **payload: Any) -> Outbox:
    return Outbox(id=1, kind=alert_kind, payload={"property": "Apto <101> & Co", **payload}, created_at=QUEUED)


def user(locale: str) -> User:
    return User(id=1, telegram_id=1, locale=locale)


def buttons(rendered) -> list[str]:
    return [b.callback_data for line in rendered.buttons for b in line]


BOOKING = {"booking_id": 42, "platform": "airbnb", "check_in": "2026-08-12", "check_out": "2026-08-15"}


@pytest.mark.parametrize(("locale", "wednesday"), [("pt_BR", "12/08 (qua.)"), ("en", "Wed 12 Aug")])
def test_new_booking(locale, wednesday):
    rendered = render_alert(row("booking_new", kind="reservation", **BOOKING), user(locale))
    lines = rendered.text.split("\n")
    assert lines[0] == "<b>Apto &lt;101&gt; &amp; Co</b>"  # the property first, bold, escaped
    with use_locale(locale):
        assert lines[1] == f"{_('🆕 New reservation')} · Airbnb"
    assert lines[2].startswith(wednesday) and "→" in lines[2]
    assert buttons(rendered) == ["b:42:open"]


def test_changed_says_which_end_moved():
    payload = {**BOOKING, "previous": {"check_in": "2026-08-10", "check_out": "2026-08-13"}}
    text = render_alert(row("booking_changed", **payload), user("pt_BR")).text
    with use_locale("pt_BR"):
        assert _("Check-in moved from {old} to {new}").format(old="10/08 (seg.)", new="<b>12/08 (qua.)</b>") in text
        assert _("Check-out moved from {old} to {new}").format(old="13/08 (qui.)", new="<b>15/08 (sáb.)</b>") in text


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
def test_a_booking_run_that_grew_is_a_new_booking_of_the_new_nights(locale):
    """A Booking.com event is a run of booked nights (ICAL_FACTS §2.3): nights added next to a stay are someone's
    new booking, not the first guest changing dates."""
    grown = {**BOOKING, "platform": "booking", "previous": {"check_in": "2026-08-12", "check_out": "2026-08-13"}}
    text = render_alert(row("booking_changed", **grown), user(locale)).text
    with use_locale(locale):
        assert _("🆕 New booking next to a stay") in text and _("Check-out moved from {old} to {new}")[:8] not in text
    assert text.count("<b>") == 2  # the property, and the new nights 13/08 → 15/08
    shrunk = {**BOOKING, "platform": "booking", "previous": {"check_in": "2026-08-10", "check_out": "2026-08-15"}}
    text = render_alert(row("booking_changed", **shrunk), user(locale)).text
    with use_locale(locale):
        assert _("🔓 Nights freed") in text


@pytest.mark.parametrize("kind", ["booking_cancelled", "booking_restored"])
def test_cancelled_and_restored(kind):
    rendered = render_alert(row(kind, **BOOKING), user("en"))
    with use_locale("en"):
        headline = _("❌ Reservation cancelled") if kind == "booking_cancelled" else _("↩️ Reservation is back")
    assert headline.split(" (")[0] in rendered.text and buttons(rendered) == ["b:42:open"]


def test_double_booking_is_loud_and_has_the_conflict_actions():
    payload = {"conflict_id": 7, "class": "double_booking", "start": "2026-08-12", "end": "2026-08-14",
               "booking_ids": [1, 2], "severity": 3}  # fmt: skip
    rendered = render_alert(row("conflict_opened", **payload), user("en"))
    assert rendered.text.startswith("<b>Apto &lt;101&gt; &amp; Co</b>\n<b>⚠️ Double booking</b>\n")
    assert buttons(rendered) == ["b:1:open", "b:2:open", "c:7:open", "c:7:resolve", "c:7:echo", "c:7:snooze"]
    closed = render_alert(row("conflict_closed", conflict_id=7, **{"class": "double_booking"}), user("en"))
    assert closed.buttons == () and "double booking" in closed.text


def test_feed_trouble_says_why_and_since_when():
    payload = {"feed_id": 3, "platform": "booking", "label": None, "reason": "html", "failures": 3,
               "last_success_at": "2026-08-10T05:00:00+00:00"}  # fmt: skip
    for locale, ago in (("pt_BR", "7 horas"), ("en", "7 hours")):
        rendered = render_alert(row("feed_trouble", **payload), user(locale))
        with use_locale(locale):
            from bot.views.feeds import failure_reason

            assert failure_reason("html") in rendered.text
        assert "Booking.com" in rendered.text and ago in rendered.text
        assert buttons(rendered) == ["f:3:open"]


def test_feed_label_and_guest_names_are_escaped():
    payload = {"feed_id": 3, "platform": "other", "label": "<script>", "reason": None, "failures": 1,
               "last_success_at": None}  # fmt: skip
    assert "&lt;script&gt;" in render_alert(row("feed_trouble", **payload), user("en")).text
    reminder = {**BOOKING, "guest": "Zé <b>", "guests": 2, "time": "15:00"}
    text = render_alert(row("checkin_reminder", **reminder), user("pt_BR")).text
    assert "Zé &lt;b&gt;" in text and "12/08 (qua.)" in text and "15:00" in text


def test_blocks_summary():
    text = render_alert(row("blocks_summary", platform="airbnb", new=2, changed=0, cancelled=1), user("en")).text
    assert "2 new" in text and "1 removed" in text and "changed" not in text


def test_daily_summary():
    stay = {"booking_id": 5, "property": "Casa", "platform": "airbnb", "guest": "Ana",
            "check_in": "2026-08-12", "check_out": "2026-08-14"}  # fmt: skip
    payload = {
        "date": "2026-08-12",
        "days": [
            {"date": "2026-08-12", "arrivals": [stay], "departures": [], "in_house": []},
            {"date": "2026-08-13", "arrivals": [], "departures": [], "in_house": [stay]},
        ],
        "conflicts": [],
        "feeds": [{"feed_id": 1, "property": "Casa", "platform": "vrbo", "label": None, "reason": "timeout"}],
    }
    text = render_alert(row("summary", **payload), user("pt_BR")).text
    assert "12/08 (qua.)" in text and "13/08 (qui.)" in text
    assert text.count("<b>Casa</b> · Ana · Airbnb") == 2 and "VRBO" in text


def test_turnover_and_its_strike_through():
    payload = {
        "turnover_message_id": 1, "day": "2026-08-12", "checkout_time": "11:00", "checkin_time": "15:00",
        "departing": {"booking_id": 1, "guest": "Ana", "guests": 2, "platform": "airbnb",
                      "check_in": "2026-08-08", "check_out": "2026-08-12"},
        "arriving": {"booking_id": 2, "guest": None, "guests": None, "platform": "booking",
                     "check_in": "2026-08-12", "check_out": "2026-08-14"},
        "cancelled": False,
    }  # fmt: skip
    text = render_alert(row("turnover", **payload), user("en")).text
    assert text.startswith("<b>Apto &lt;101&gt; &amp; Co</b>\n🧹")
    assert "Leaving: 2 guests · Airbnb" in text and "Arriving: guest · Booking.com" in text
    assert "Ana" not in text  # a cleaner never learns who: not even from a payload queued before that rule
    assert "Wed 12 Aug 11:00 → 15:00" in text  # a same-day turnover: the date once
    struck = render_alert(row("turnover", **{**payload, "cancelled": True}), user("en")).text
    assert struck.startswith("<s><b>Apto") and "</s>\n❌" in struck


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError):
        render_alert(row("mystery"), user("en"))
