"""Every file of the shared iCal corpus through parse_feed (ICAL_FACTS §6); runs only if ../shared exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import FeedEvent, FeedParseError, Kind, ParsedFeed, Platform, parse_feed

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "ical" / "corpus"
FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.ics")) if CORPUS.is_dir() else []

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not FILES, reason="../shared/data/ical/corpus not present"),
]

ROME = ZoneInfo("Europe/Rome")
R, B, T, W = Kind.RESERVATION, Kind.BLOCK, Kind.TENTATIVE, Kind.WINDOW
SKIP_CODES = {
    "recurring",
    "cancelled",
    "broken_property",
    "no_dtstart",
    "bad_dates",
    "dtend_before_dtstart",
    "zero_nights",
    "absurd_dates",
    "duplicate_event",
    "unreadable",
}


@dataclass(frozen=True)
class Expect:
    platform: Platform = Platform.OTHER
    r: int = 0  # reservations
    b: int = 0  # blocks
    t: int = 0  # tentative
    w: int = 0  # availability windows
    skipped: int = 0
    today: str | None = None  # the download's date (its DTSTAMP), for the window rule
    error: str | None = None  # FeedParseError reason


# One line per file (117 in all); `today` comes from the file's DTSTAMP where it has one.
EXPECTED = {
    "airbnb/bowdenhouse_bowden_2024.ics": Expect(Platform.AIRBNB, r=2, b=1, w=1),
    "airbnb/bowdenhouse_listing_2024.ics": Expect(Platform.AIRBNB, r=2, w=1),
    "airbnb/chilllove_2025-10-22.ics": Expect(Platform.AIRBNB, r=25, b=2, w=1, today="2025-10-22"),
    "airbnb/dodecaphonic_airbnbeast_fixture_2022.ics": Expect(Platform.AIRBNB, r=8, b=12, w=1),
    "airbnb/dodecaphonic_airbnbeast_gloria_2022.ics": Expect(Platform.AIRBNB, r=7, b=11, w=1),
    "airbnb/fpawamatra_blocked_only_2025.ics": Expect(Platform.AIRBNB, w=1, today="2025-06-26"),
    "airbnb/giuliapiva_2025-06-28_first.ics": Expect(Platform.AIRBNB, r=2, b=5, today="2025-06-28"),
    "airbnb/giuliapiva_2025-12-07_before_cancel.ics": Expect(Platform.AIRBNB, r=3, b=1, today="2025-12-07"),
    "airbnb/giuliapiva_2025-12-08_after_cancel.ics": Expect(Platform.AIRBNB, r=2, b=1, today="2025-12-08"),
    "airbnb/giuliapiva_2026-08-22_head.ics": Expect(Platform.AIRBNB, r=4, b=3, w=1, today="2026-08-22"),
    "airbnb/icaltest_listing-11833914.ics": Expect(Platform.AIRBNB, b=1, w=1),
    "airbnb/lacasaneil_availability_2026.ics": Expect(Platform.AIRBNB, r=4, b=2, w=1, today="2026-08-14"),
    "airbnb/saragenda_parser_test_2018_legacy.ics": Expect(Platform.AIRBNB, r=1, b=1),
    "airbnb/tiloc_test_sync_airbnb_2020.ics": Expect(Platform.AIRBNB, r=1, b=1),
    "airbnb/tiloc_test_sync_airbnb_blocked_only.ics": Expect(Platform.AIRBNB, w=1),
    "apple/apple_ical1_mixed_tz.ics": Expect(r=5),
    "apple/icloud_home.ics": Expect(r=6, skipped=2),
    "apple/macos_tentative.ics": Expect(r=3, skipped=1),
    "booking/fpawamatra_booking_2025-11.ics": Expect(Platform.BOOKING, r=1, w=1, today="2025-11-07"),
    "booking/giuliapiva_booking_2025-06-29_first.ics": Expect(Platform.BOOKING, r=1, today="2025-06-29"),
    "booking/giuliapiva_booking_2025-09-04_no_events.ics": Expect(Platform.BOOKING, today="2025-09-04"),
    "booking/giuliapiva_booking_2026-05-06_before_move.ics": Expect(Platform.BOOKING, 5, today="2026-05-06"),
    "booking/giuliapiva_booking_2026-05-07_after_move.ics": Expect(Platform.BOOKING, r=5, today="2026-05-07"),
    "booking/giuliapiva_booking_2026-08-22_head.ics": Expect(Platform.BOOKING, r=2, today="2026-08-22"),
    "booking/saragenda_booking_test_2018_fragment.ics": Expect(Platform.BOOKING, r=1),
    "booking/sugliano_berta_2025-10-24_first.ics": Expect(Platform.BOOKING, r=3, w=1, today="2025-10-24"),
    "booking/sugliano_berta_2025-12-01T22.ics": Expect(Platform.BOOKING, r=2, w=1, today="2025-12-01"),
    "booking/sugliano_berta_2025-12-01T23.ics": Expect(Platform.BOOKING, r=2, w=1, today="2025-12-02"),
    "booking/sugliano_berta_2026-08-22_head.ics": Expect(Platform.BOOKING, r=4, w=1, today="2026-08-22"),
    "booking/sugliano_vita_2026-08-22_head.ics": Expect(Platform.BOOKING, w=1, today="2026-08-22"),
    "google/google_birthday.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "google/google_invalid_offset.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "google/google_kiev_tz.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "google/google_machbar_2019.ics": Expect(r=34, skipped=30),
    "google/google_moved_recurrence.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "google/google_public_holidays_us.ics": Expect(r=111),
    "google/google_x_location.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "google/google_x_wr_timezone_simple_events.ics": Expect(r=2),
    "malformed/airbnb_duplicate_uid_edited.ics": Expect(Platform.AIRBNB, b=2),
    "malformed/airbnb_merged_duplicate_prodid.ics": Expect(Platform.AIRBNB, r=173, b=3),
    "malformed/airbnb_pasted_leading_blank_line.ics": Expect(Platform.AIRBNB, r=25, b=2, w=1),
    "malformed/airbnb_shaped_clash_placeholder_uids.ics": Expect(Platform.AIRBNB, b=2),
    "malformed/airbnb_shaped_dtend_before_dtstart.ics": Expect(Platform.AIRBNB, b=2, skipped=1),
    "malformed/bad_ms_tz.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/bad_rrule.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/bad_utc_offset.ics": Expect(error="invalid"),
    "malformed/blank_line_mid.ics": Expect(),
    "malformed/blank_lines_inside_folds.ics": Expect(r=3),  # multiple=True recovers both calendars
    "malformed/booking_placeholder_garbage_line.ics": Expect(),
    "malformed/date_without_value_param.ics": Expect(r=1),
    "malformed/double_semicolon_param.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/empty_exdate_google.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/empty_param_value.ics": Expect(error="invalid"),
    "malformed/end_before_start.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/event_without_uid.ics": Expect(r=1),
    "malformed/exdate_utc_vs_tzid_start.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/fuzz_vtimezone_lone_cr.ics": Expect(error="invalid"),
    "malformed/huge_duration.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/invalid_dtstart_and_dtend.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/invalid_dtstart_value.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/large_file_late_error.ics": Expect(r=394, skipped=7),
    "malformed/missing_colon.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "malformed/newline_junk.ics": Expect(),
    "malformed/no_vcalendar_props_colon_summary.ics": Expect(error="truncated"),
    "malformed/stray_line_x.ics": Expect(error="invalid"),
    "malformed/truncated_no_end_vcalendar.ics": Expect(error="truncated"),
    "malformed/undefined_tzid.ics": Expect(r=1),
    "malformed/unterminated_quoted_param.ics": Expect(error="invalid"),
    "malformed/vtimezone_with_date_dtstart.ics": Expect(r=1),
    "other_ota/agoda_2025-11.ics": Expect(Platform.AGODA, r=1, today="2025-11-07"),
    "other_ota/ownerrez_2023.ics": Expect(r=1),
    "other_ota/wimdu_2015.ics": Expect(r=3),
    "outlook/exchange_cdo_missing_event.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "outlook/exchange_ms_timezones.ics": Expect(r=2, skipped=2),
    "outlook/exchange_quoted_tzid_rrule.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "outlook/exchange_whole_day_moved_recurrence.ics": Expect(
        error="unusable"
    ),  # events, none usable: a failed download
    "outlook/office365_nz_tz.ics": Expect(r=2, skipped=1),
    "outlook/office365_windows_tz_kalender.ics": Expect(r=1),
    "outlook/owa_2012.ics": Expect(r=3, skipped=1),
    "rfc_edge/allday_same_day_dtend_calendarlabs.ics": Expect(
        error="unusable"
    ),  # events, none usable: a failed download
    "rfc_edge/altrep_escaped_commas_folded.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/bom_empty_calendar.ics": Expect(),
    "rfc_edge/categories_escaped_commas.ics": Expect(r=1),
    "rfc_edge/date_same_start_end.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/date_with_duration.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/datetime_vtimezone.ics": Expect(r=1),
    "rfc_edge/dt_no_end_utc.ics": Expect(r=1),
    "rfc_edge/duration_instead_of_dtend.ics": Expect(r=3),
    "rfc_edge/duration_instead_of_dtend_google.ics": Expect(r=1),
    "rfc_edge/emoji_summary.ics": Expect(r=1),
    "rfc_edge/event_escaped_characters.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/exdate_multiple_lines.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/floating_datetime.ics": Expect(r=1),
    "rfc_edge/folding_multi_space.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/integer_tzid.ics": Expect(r=2),
    "rfc_edge/missing_dtend.ics": Expect(r=4),
    "rfc_edge/mixed_date_and_datetime.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/multiple_root_components.ics": Expect(),
    "rfc_edge/multiple_vcalendars.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/negative_duration.ics": Expect(r=1),
    "rfc_edge/non_ascii_tzid.ics": Expect(r=1),
    "rfc_edge/only_dtstart_date.ics": Expect(r=1),
    "rfc_edge/proton_value_param_on_summary.ics": Expect(r=1),
    "rfc_edge/rfc6868_param_caret_escapes.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/rrule_exdate.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/rrule_exdate_one_deleted.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/status_cancelled.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/tzid_without_vtimezone.ics": Expect(error="unusable"),  # events, none usable: a failed download
    "rfc_edge/unicode_calname.ics": Expect(),
    "rfc_edge/url_escaping.ics": Expect(r=1),
    "rfc_edge/utf8_french.ics": Expect(),
    "rfc_edge/vtimezone_america_new_york.ics": Expect(r=1),
    "rfc_edge/whitespace_in_property_name.ics": Expect(r=1),
    "rfc_edge/windows_tzid_format.ics": Expect(r=1),
    "rfc_edge/x_wr_timezone_floating_times.ics": Expect(r=1),
    "rfc_edge/zero_length_event.ics": Expect(r=1),
    "vrbo/tiloc_test_sync_abritel_2020.ics": Expect(Platform.VRBO, r=5, b=1, t=1),
}


def load(name: str, tz: ZoneInfo = ROME) -> ParsedFeed:
    expect = EXPECTED.get(name, Expect())
    today = date.fromisoformat(expect.today) if expect.today else None
    return parse_feed((CORPUS / name).read_bytes(), tz=tz, today=today)


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_every_expectation_names_a_corpus_file() -> None:
    assert set(EXPECTED) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str) -> None:
    expect = EXPECTED.get(name)
    if expect is not None and expect.error:
        with pytest.raises(FeedParseError) as caught:
            load(name)
        assert caught.value.reason == expect.error
        return
    try:
        feed = load(name)
    except FeedParseError:
        if expect is None:  # a file added to the corpus after this table: only "no unhandled exception"
            return
        raise
    if expect is not None:
        counts = {kind: sum(e.kind is kind for e in feed.events) for kind in Kind}
        assert (feed.platform, counts[R], counts[B], counts[T], counts[W], feed.skipped) == (
            expect.platform,
            expect.r,
            expect.b,
            expect.t,
            expect.w,
            expect.skipped,
        )
    # invariants that hold for any feed
    assert all(e.check_out > e.check_in for e in feed.events)
    assert len({e.uid for e in feed.events}) == len(feed.events)
    assert all(e.uid_synthetic == e.uid.startswith("synthetic-") for e in feed.events)
    codes = [problem.partition(":")[0] for problem in feed.problems]
    assert set(codes) <= SKIP_CODES | {"duplicate_uid"}
    assert sum(code in SKIP_CODES for code in codes) == feed.skipped
    assert not feed.empty_body
    assert load(name) == feed  # deterministic, synthetic uids included


def test_airbnb_cancellation_is_a_disappearance() -> None:
    before = set(load("airbnb/giuliapiva_2025-12-07_before_cancel.ics").events)
    after = set(load("airbnb/giuliapiva_2025-12-08_after_cancel.ics").events)
    assert after < before
    assert before - after == {
        FeedEvent(
            "1418fb94e984-fc8452fa6b4ac1de6302192c723e3287@airbnb.com",
            d("2026-05-26"),
            d("2026-06-06"),
            R,
            "Reserved",
            reservation_code="HMX2XPA5SC",
            phone_last4="0585",
        )
    }


def test_booking_date_change_is_a_new_uid() -> None:
    before = set(load("booking/giuliapiva_booking_2026-05-06_before_move.ics").events)
    after = set(load("booking/giuliapiva_booking_2026-05-07_after_move.ics").events)
    closed = "CLOSED - Not available"
    assert before - after == {
        FeedEvent("1e1bc4683174f023405c1b096bc40742@booking.com", d("2026-05-30"), d("2026-06-02"), R, closed)
    }
    assert after - before == {
        FeedEvent("7cb769c9845f97cf9f8fb6826f1c463a@booking.com", d("2026-05-31"), d("2026-06-03"), R, closed)
    }


def test_booking_in_progress_stay_reissued_and_window_growing() -> None:
    t22 = load("booking/sugliano_berta_2025-12-01T22.ics")
    t23 = load("booking/sugliano_berta_2025-12-01T23.ics")
    assert [(e.uid[:8], e.check_in, e.check_out, e.kind) for e in t22.events] == [
        ("8052e1ba", d("2025-12-01"), d("2025-12-06"), R),
        ("a03a2850", d("2025-12-09"), d("2025-12-13"), R),
        ("057f0532", d("2026-02-01"), d("2027-06-01"), W),
    ]
    assert [(e.uid[:8], e.check_in, e.check_out, e.kind) for e in t23.events] == [
        ("c2a4e437", d("2025-12-02"), d("2025-12-06"), R),
        ("a03a2850", d("2025-12-09"), d("2025-12-13"), R),
        ("057f0532", d("2026-02-01"), d("2027-06-02"), W),
    ]


def test_booking_windows_reach_the_horizon() -> None:
    windows = {
        name: [(e.check_in, e.check_out) for e in load(name).events if e.kind is W]
        for name in (
            "booking/fpawamatra_booking_2025-11.ics",
            "booking/sugliano_berta_2025-10-24_first.ics",
            "booking/sugliano_berta_2026-08-22_head.ics",
            "booking/sugliano_vita_2026-08-22_head.ics",
        )
    }
    assert windows == {
        "booking/fpawamatra_booking_2025-11.ics": [(d("2026-11-08"), d("2027-05-07"))],
        "booking/sugliano_berta_2025-10-24_first.ics": [(d("2026-01-02"), d("2027-04-24"))],
        "booking/sugliano_berta_2026-08-22_head.ics": [(d("2027-02-01"), d("2028-02-22"))],
        "booking/sugliano_vita_2026-08-22_head.ics": [(d("2026-08-22"), d("2028-02-22"))],
    }
    # a week a year ahead is well inside Booking's 18-month horizon: a stay, not a window
    head = load("booking/giuliapiva_booking_2026-08-22_head.ics").events
    assert [(e.check_in, e.check_out, e.kind) for e in head] == [
        (d("2026-09-08"), d("2026-09-13"), R),
        (d("2027-07-31"), d("2027-08-07"), R),
    ]


def test_airbnb_windows() -> None:
    def window(name: str) -> list[tuple[str, date, date]]:
        return [(e.uid, e.check_in, e.check_out) for e in load(name).events if e.kind is W]

    # the August closure revealed one night a day at the horizon (today + 366)
    assert window("airbnb/giuliapiva_2026-08-22_head.ics") == [
        ("7f662ec65913-2abfd9c374f02260dd92bb7cbd11e2cd@airbnb.com", d("2027-08-09"), d("2027-08-23"))
    ]
    assert window("airbnb/chilllove_2025-10-22.ics") == [
        ("7f662ec65913-6838d1d2aa57d859f8554604da9c8078@airbnb.com", d("2026-04-01"), d("2026-10-23"))
    ]
    assert [w[1:] for w in window("airbnb/tiloc_test_sync_airbnb_blocked_only.ics")] == [
        (d("2023-06-26"), d("2024-06-29"))
    ]
    # same far-future block a few days apart in 2022: it moved and changed UID (§1.4)
    assert [w[1:] for w in window("airbnb/dodecaphonic_airbnbeast_fixture_2022.ics")] == [
        (d("2023-03-26"), d("2023-09-28"))
    ]
    assert [w[1:] for w in window("airbnb/dodecaphonic_airbnbeast_gloria_2022.ics")] == [
        (d("2023-03-28"), d("2023-09-30"))
    ]
    # the advance-notice block starting on the download day is a plain block
    icaltest = load("airbnb/icaltest_listing-11833914.ics").events
    assert [(e.check_in, e.check_out, e.kind) for e in icaltest] == [
        (d("2023-02-26"), d("2023-02-27"), B),
        (d("2023-05-27"), d("2024-02-27"), W),
    ]


def test_airbnb_head_reservations() -> None:
    feed = load("airbnb/giuliapiva_2026-08-22_head.ics")
    reservations = [e for e in feed.events if e.kind is R]
    assert [(e.check_in, e.check_out, e.reservation_code, e.phone_last4) for e in reservations] == [
        (d("2026-08-24"), d("2026-09-02"), "HM7MUDEQ5S", "5954"),
        (d("2026-09-02"), d("2026-09-08"), "HMFV1QAPYA", "1458"),
        (d("2026-09-21"), d("2026-09-30"), "HM9MF3Y1HF", "0168"),
        (d("2027-07-18"), d("2027-07-22"), "HMTSCWUTV7", "1063"),
    ]


def test_airbnb_2020_and_legacy_fields() -> None:
    # the 2020 itinerary URL has a masked code (`HMNxxx8J99`), which is not an HM code: only the phone remains
    tiloc = load("airbnb/tiloc_test_sync_airbnb_2020.ics").events
    assert [(e.kind, e.reservation_code, e.phone_last4) for e in tiloc] == [
        (R, None, "1213"),
        (B, None, None),
    ]
    legacy = load("airbnb/saragenda_parser_test_2018_legacy.ics").events
    assert [(e.kind, e.guest_name, e.reservation_code, e.phone_last4, e.summary) for e in legacy] == [
        (R, "Joao Pereira", "HMGHKAEW3C", "0000", "Joao Pereira (HMGHKAEW3C)"),
        (B, None, None, None, "Not available"),
    ]


def test_booking_legacy_guest_name() -> None:
    [event] = load("booking/saragenda_booking_test_2018_fragment.ics").events
    assert (event.check_in, event.check_out, event.kind, event.guest_name) == (
        d("2018-08-28"),
        d("2018-08-30"),
        R,
        "Ana Maria Souza",
    )


def test_abritel_names_and_kinds() -> None:
    feed = load("vrbo/tiloc_test_sync_abritel_2020.ics")
    assert [(e.check_in, e.kind, e.guest_name) for e in feed.events] == [
        (d("2019-12-24"), R, "Claire"),
        (d("2020-01-01"), R, "M & Mme"),
        (d("2020-02-29"), B, None),
        (d("2020-03-09"), R, "Louise & Marc"),
        (d("2020-05-15"), R, "Juliette"),
        (d("2020-10-13"), R, None),
        (d("2020-11-15"), T, "Nadine"),
    ]
    assert feed.events[2].uid == "02292020-0229-2020-0305-202003052020"


def test_agoda_booked() -> None:
    assert load("other_ota/agoda_2025-11.ics").events == [
        FeedEvent(
            "6f3918b5-ebad-e038-90c8-d611ed84d9f9@agoda.com",
            d("2025-11-10"),
            d("2025-11-15"),
            R,
            "BOOKED",
        ),
    ]


def test_ownerrez_datetimes_become_paris_dates() -> None:
    [event] = load("other_ota/ownerrez_2023.ics", tz=ZoneInfo("Europe/Paris")).events
    assert (event.uid, event.check_in, event.check_out, event.kind, event.summary) == (
        "a5877ab133794c75b16bcbc888796b20",
        d("2022-05-10"),
        d("2023-02-23"),
        R,
        "Booked",
    )


def test_wimdu_has_no_uids() -> None:
    feed = load("other_ota/wimdu_2015.ics")
    assert [(e.check_in, e.summary, e.uid_synthetic, e.kind) for e in feed.events] == [
        (d("2015-10-01"), "Maria Schneider", True, R),
        (d("2016-01-10"), "Clara  fontaine", True, R),
        (d("2016-05-07"), "Mikko Virtanen", True, R),
    ]


@pytest.mark.parametrize(
    "name",
    ["malformed/airbnb_duplicate_uid_edited.ics", "malformed/airbnb_shaped_clash_placeholder_uids.ics"],
)
def test_duplicate_uids_first_keeps_it(name: str) -> None:
    feed = load(name)
    first, second = feed.events
    assert (first.uid_synthetic, second.uid_synthetic) == (False, True)
    assert feed.problems == [f"duplicate_uid:{first.uid}"]


def test_dtend_before_dtstart_is_rejected() -> None:
    feed = load("malformed/airbnb_shaped_dtend_before_dtstart.ics")
    assert [(e.check_in, e.check_out) for e in feed.events] == [
        (d("2025-02-26"), d("2025-02-27")),
        (d("2025-04-03"), d("2025-05-25")),
    ]
    assert feed.problems == ["dtend_before_dtstart:6fec1092d3fa-b03a1ec3773826d30cf3ccb40229974b@airbnb.com"]


def test_merged_airbnb_export() -> None:
    feed = load("malformed/airbnb_merged_duplicate_prodid.ics")
    reservations = [e for e in feed.events if e.kind is R]
    assert all(e.reservation_code and e.reservation_code.startswith("HM") for e in reservations)
    assert all(e.phone_last4 and len(e.phone_last4) == 4 for e in reservations)
