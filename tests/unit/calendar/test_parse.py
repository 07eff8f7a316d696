"""parse_feed on hand-written feeds in the platforms' real shapes (ICAL_FACTS §1-§6), with invented UIDs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import FeedEvent, FeedParseError, Kind, ParsedFeed, Platform, parse_feed
from domain.calendar.parse import MAX_EVENTS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ical"
ROME = ZoneInfo("Europe/Rome")
TODAY = date(2026, 3, 1)
R, B, T, W = Kind.RESERVATION, Kind.BLOCK, Kind.TENTATIVE, Kind.WINDOW


def d(text: str) -> date:
    return date.fromisoformat(text)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ics(*lines: str, crlf: bool = True) -> bytes:
    return ("\r\n" if crlf else "\n").join(lines).encode() + (b"\r\n" if crlf else b"\n")


def calendar(*body: str, prodid: str = "-//Test//Hand written//EN", crlf: bool = True) -> bytes:
    return ics("BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{prodid}", *body, "END:VCALENDAR", crlf=crlf)


def vevent(uid: str | None, start: str, end: str, summary: str = "Booked") -> list[str]:
    uid_line = [f"UID:{uid}"] if uid is not None else []
    dates = [f"DTSTART;VALUE=DATE:{start}", f"DTEND;VALUE=DATE:{end}"]
    return ["BEGIN:VEVENT", *uid_line, *dates, f"SUMMARY:{summary}", "END:VEVENT"]


def parse(
    data: bytes,
    *,
    tz: ZoneInfo = ROME,
    today: date | None = TODAY,
    url: str | None = None,
    platform: Platform | None = None,
) -> ParsedFeed:
    return parse_feed(data, tz=tz, today=today, url=url, platform=platform)


def spans(feed: ParsedFeed) -> list[tuple[str, str, str, Kind]]:
    return [(e.uid, e.check_in.isoformat(), e.check_out.isoformat(), e.kind) for e in feed.events]


# --- the platforms' shapes --------------------------------------------------------------------------------


def test_airbnb_1_0_crlf_folded_description() -> None:
    feed = parse(fixture("airbnb_1_0.ics"))
    assert feed.platform is Platform.AIRBNB
    assert (feed.skipped, feed.problems, feed.empty_body) == (0, [], False)
    assert feed.events == [
        FeedEvent(
            "1418fb94e984-3c1f0a9e8d7b6a5f4e3d2c1b0a998877@airbnb.com",
            d("2026-03-10"),
            d("2026-03-14"),
            R,
            summary="Reserved",
            reservation_code="HMK4T7Q2ZX",
            phone_last4="4821",
        ),
        FeedEvent(
            "1418fb94e984-77aa00bb11cc22dd33ee44ff55667788@airbnb.com",
            d("2026-03-14"),
            d("2026-03-16"),
            R,
            summary="Reserved",
            reservation_code="HM9PW3RR8C",
            phone_last4="0077",
        ),
        # advance notice starting today: a plain block, re-cut daily (§1.4)
        FeedEvent(
            "7f662ec65913-0f1e2d3c4b5a69788796a5b4c3d2e1f0@airbnb.com",
            d("2026-03-01"),
            d("2026-03-03"),
            B,
            "Airbnb (Not available)",
        ),
        FeedEvent(
            "7f662ec65913-a1b2c3d4e5f60718293a4b5c6d7e8f90@airbnb.com",
            d("2026-04-01"),
            d("2026-04-05"),
            B,
            "Airbnb (Not available)",
        ),
        # "how far ahead guests can book": ends at the export horizon, today + 366 days
        FeedEvent(
            "7f662ec65913-5566778899aabbccddeeff0011223344@airbnb.com",
            d("2026-12-01"),
            d("2027-03-02"),
            W,
            "Airbnb (Not available)",
        ),
    ]


def test_airbnb_0_8_8_lf_both_url_forms() -> None:
    feed = parse(fixture("airbnb_0_8_8.ics"), today=d("2020-08-01"))
    assert feed.platform is Platform.AIRBNB
    assert [(e.reservation_code, e.phone_last4, e.kind) for e in feed.events] == [
        ("HMZ2B8K4WQ", "3090", R),  # /reservation/itinerary?code=... (2020)
        ("HMC3N5V7XB", "6612", R),  # /hosting/reservations/details/..., folded at 73 octets
        (None, None, B),
    ]
    assert [(e.check_in, e.check_out) for e in feed.events] == [
        (d("2020-08-08"), d("2020-08-15")),
        (d("2020-08-16"), d("2020-08-20")),
        (d("2020-08-01"), d("2020-08-02")),
    ]


def test_airbnb_legacy_guest_names_and_phones() -> None:
    feed = parse(fixture("airbnb_legacy_2018.ics"), today=None)
    assert [(e.kind, e.guest_name, e.reservation_code, e.phone_last4) for e in feed.events] == [
        (R, "Giulia Bianchi", "HMW8E2R4T6", "1234"),
        (R, "Tom O'Neill", "K7Q2ZB", "0958"),
        (B, None, None, None),
    ]
    assert feed.events[1].uid == "-x1y2z3a4b5c6--d7e8f9g0h1i2@airbnb.com"


def test_booking_backslash_prodid_and_window() -> None:
    feed = parse(fixture("booking.ics"))
    assert feed.platform is Platform.BOOKING
    assert spans(feed) == [
        ("0a1b2c3d4e5f60718293a4b5c6d7e8f9@booking.com", "2026-03-05", "2026-03-09", R),
        ("11223344556677889900aabbccddeeff@booking.com", "2026-06-01", "2026-07-31", R),
        # closed until the end of the booking window, today + 18 months
        ("ffeeddccbbaa00998877665544332211@booking.com", "2027-01-01", "2027-09-01", W),
    ]
    assert {e.summary for e in feed.events} == {"CLOSED - Not available"}


def test_booking_header_only_calendar_is_empty_not_an_error() -> None:
    feed = parse(fixture("booking_no_events.ics"))
    assert (feed.platform, feed.events, feed.empty_body, feed.skipped) == (Platform.BOOKING, [], False, 0)


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n\r\n", b"\xef\xbb\xbf\n"])
def test_empty_body_is_an_empty_calendar(body: bytes) -> None:
    # Booking.com sends an empty string for an empty calendar (§2.1)
    feed = parse(body, url="https://admin.booking.com/hotel/hoteladmin/ical.html?t=abc")
    assert (feed.platform, feed.events, feed.empty_body, feed.skipped) == (Platform.BOOKING, [], True, 0)


def test_empty_body_keeps_the_callers_platform() -> None:
    assert parse(b"", platform=Platform.VRBO).platform is Platform.VRBO


def test_booking_legacy_bare_vevent_fragment() -> None:
    feed = parse(fixture("booking_legacy_fragment.ics"), today=None)
    assert feed.platform is Platform.BOOKING
    assert spans(feed) == [("5f4e3d2c1b0a99887766554433221100@booking.com", "2018-09-12", "2018-09-15", R)]
    assert (feed.events[0].summary, feed.events[0].guest_name) == ("CLOSED - Lena Hoffmann", "Lena Hoffmann")


def test_vrbo_abritel_localized_summaries() -> None:
    feed = parse(fixture("vrbo_abritel.ics"), today=d("2020-07-03"))
    assert feed.platform is Platform.VRBO
    assert [(e.uid, e.kind, e.guest_name) for e in feed.events] == [
        ("3b9f6c2e-8d41-4a7f-b0c5-1e2d3f4a5b6c", R, "Louise & Marc"),
        ("07152020-0715-2020-0720-202007202020", B, None),
        ("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", R, None),
        ("c4d5e6f7-a8b9-4c0d-8e1f-2a3b4c5d6e7f", T, "Nadège"),
    ]


def test_agoda_booked_with_leading_space() -> None:
    feed = parse(fixture("agoda.ics"))
    assert feed.platform is Platform.AGODA
    assert spans(feed) == [("2c7e9a41-5b3d-4f68-a1e2-9d8c7b6a5f40@agoda.com", "2026-02-20", "2026-02-23", R)]
    assert feed.events[0].summary == "BOOKED"


def test_ownerrez_datetime_with_tzid_becomes_property_dates() -> None:
    feed = parse(fixture("ownerrez_datetime.ics"), tz=ZoneInfo("Europe/Paris"))
    assert feed.platform is Platform.OTHER
    assert spans(feed) == [("e1d2c3b4a5968778695a4b3c2d1e0f9a", "2026-04-10", "2026-04-14", R)]


# --- bytes that are not a calendar --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html>\n<html><head><title>Log in</title></head><body></body></html>", "html"),
        (b"\n\n  <html lang='it'><body>Accedi</body></html>", "html"),
        (b"<?xml version='1.0'?><error>denied</error>", "not_calendar"),
        (b'{"error": "calendar not found"}', "not_calendar"),
        (b"Too many requests, try again later.", "not_calendar"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Someone\r\nEND:VCARD\r\n", "not_calendar"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@b\r\nDTSTART;VALUE=DA", "truncated"),
        (b"BEGIN:VEVENT\r\nUID:a@b\r\nDTSTART;VALUE=DATE:20260301\r\n", "truncated"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX\r\nEND:VCALENDAR\r\n", "invalid"),
        (b"BEGIN:VCALENDAR\r\nDESCRIPTION;;:VALUE\r\nEND:VCALENDAR\r\n", "invalid"),
    ],
)
def test_not_a_calendar(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse(body)
    assert caught.value.reason == reason


# --- tolerated encodings and layouts ----------------------------------------------------------------------

BASIC = vevent("b1@airbnb.com", "20260310", "20260312", "Reserved")


def test_lf_crlf_bom_leading_and_blank_lines_give_the_same_events() -> None:
    crlf = calendar(*BASIC)
    variants = [
        crlf,
        calendar(*BASIC, crlf=False),
        b"\xef\xbb\xbf" + crlf,
        b"\r\n" + crlf,
        crlf.replace(b"BEGIN:VEVENT", b"\r\nBEGIN:VEVENT").replace(b"END:VEVENT\r\n", b"END:VEVENT\r\n\r\n"),
    ]
    expected = [("b1@airbnb.com", "2026-03-10", "2026-03-12", R)]
    assert [spans(parse(body)) for body in variants] == [expected] * len(variants)


def test_latin1_bytes_are_decoded() -> None:
    event = vevent("v1", "20260310", "20260312", "Réservée - Zoé")
    body = calendar(*event, prodid="-//HomeAway.com, Inc.//EN")
    feed = parse(body.decode().encode("latin-1"))
    assert [(e.kind, e.guest_name) for e in feed.events] == [(R, "Zoé")]


def test_several_vcalendars_in_one_stream() -> None:
    body = calendar(*vevent("a@booking.com", "20260310", "20260312")) + calendar(
        *vevent("b@booking.com", "20260320", "20260322")
    )
    assert [e.uid for e in parse(body).events] == ["a@booking.com", "b@booking.com"]


def test_duplicated_prodid_becomes_a_list_and_still_detects() -> None:
    body = calendar(
        "PRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN",
        "VERSION:2.0",
        *vevent("x1", "20260310", "20260312", "Reserved"),
    )
    assert parse(body).platform is Platform.AIRBNB


def test_callers_platform_wins() -> None:
    feed = parse(fixture("booking.ics"), platform=Platform.OTHER)
    assert feed.platform is Platform.OTHER
    assert [e.kind for e in feed.events] == [B, B, B]  # "CLOSED - ..." is a block word for other platforms


# --- dates (§1.3, §5.2) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "check_in", "check_out"),
    [
        (["DTSTART;VALUE=DATE:20260310", "DURATION:P3D"], "2026-03-10", "2026-03-13"),
        (["DTSTART;VALUE=DATE:20260310"], "2026-03-10", "2026-03-11"),  # no DTEND: one night
        (["DTSTART:20260310T150000Z", "DTEND:20260313T090000Z"], "2026-03-10", "2026-03-13"),
        # 23:30 UTC is already the next day in Rome
        (["DTSTART:20260310T233000Z", "DTEND:20260312T233000Z"], "2026-03-11", "2026-03-13"),
        (["DTSTART;TZID=America/New_York:20260310T200000", "DTEND;TZID=America/New_York:20260312T100000"],
         "2026-03-11", "2026-03-12"),
        # floating times are local times
        (["DTSTART:20260310T160000", "DTEND:20260312T100000"], "2026-03-10", "2026-03-12"),
        (["DTSTART:20260310T090000Z", "DTEND:20260310T120000Z"], "2026-03-10", "2026-03-11"),  # a few hours
        (["DTSTART:20260310T090000Z"], "2026-03-10", "2026-03-11"),  # DATE-TIME without end: zero length
        (["DTSTART:20260310T140000", "DURATION:PT20H"], "2026-03-10", "2026-03-11"),
    ],
)  # fmt: skip
def test_dates_become_local_half_open_nights(lines: list[str], check_in: str, check_out: str) -> None:
    feed = parse(calendar("BEGIN:VEVENT", "UID:u1", *lines, "SUMMARY:Booked", "END:VEVENT"))
    assert spans(feed) == [("u1", check_in, check_out, R)]
    assert (feed.skipped, feed.problems) == (0, [])


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260308"], "dtend_before_dtstart:bad"),
        (["DTSTART:20260310T100000Z", "DTEND:20260310T090000Z"], "dtend_before_dtstart:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260310"], "zero_nights:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DURATION:-P2D"], "dtend_before_dtstart:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DTEND:20260312T100000Z"], "bad_dates:bad"),
        (["DTEND;VALUE=DATE:20260312"], "no_dtstart:bad"),
        (["DTSTART;VALUE=DATE:2026031", "DTEND;VALUE=DATE:20260312"], "broken_property:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DURATION:P999999999999999999W"], "broken_property:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260312", "RRULE:FREQ=WEEKLY"], "recurring:bad"),
        (["DTSTART;VALUE=DATE:20260310", "RDATE;VALUE=DATE:20260320", "DTEND;VALUE=DATE:20260312"],
         "recurring:bad"),
        (["RECURRENCE-ID;VALUE=DATE:20260310", "DTSTART;VALUE=DATE:20260311", "DTEND;VALUE=DATE:20260312"],
         "recurring:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260312", "STATUS:CANCELLED"], "cancelled:bad"),
        (["DTSTART;VALUE=DATE:19690310", "DTEND;VALUE=DATE:19690312"], "absurd_dates:bad"),
        # more than 10 years after today
        (["DTSTART;VALUE=DATE:20360310", "DTEND;VALUE=DATE:20360312"], "absurd_dates:bad"),
        (["DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20290312"], "absurd_dates:bad"),  # > 3 years long
        (["DTSTART;VALUE=DATE:99991231"], "absurd_dates:bad"),  # its implied DTEND overflows
    ],
)  # fmt: skip
def test_bad_event_is_skipped_and_the_rest_kept(lines: list[str], problem: str) -> None:
    body = calendar(
        *vevent("good-1", "20260301", "20260303"),
        "BEGIN:VEVENT", "UID:bad", *lines, "SUMMARY:Booked", "END:VEVENT",
        *vevent("good-2", "20260305", "20260307"),
    )  # fmt: skip
    feed = parse(body)
    assert [e.uid for e in feed.events] == ["good-1", "good-2"]
    assert (feed.skipped, feed.problems) == (1, [problem])


def test_far_future_is_only_absurd_relative_to_today() -> None:
    body = calendar(*vevent("far", "20360310", "20360312"))
    assert parse(body, today=None).events[0].uid == "far"
    assert parse(body, today=d("2036-01-01")).events[0].uid == "far"


def test_skipped_event_without_uid_has_a_bare_code() -> None:
    feed = parse(calendar("BEGIN:VEVENT", "SUMMARY:no dates", "END:VEVENT", *vevent("ok", "20260320", "20260322")))
    assert ([e.uid for e in feed.events], feed.skipped, feed.problems) == (["ok"], 1, ["no_dtstart"])


@pytest.mark.parametrize(
    "garbled",
    [
        ("BEGIN:VEVENT", "UID:d", "DTSTART;VALUE=DATE:2026-03-01", "DTEND;VALUE=DATE:2026-03-03", "END:VEVENT"),
        ("BEGIN:VEVENT", "UID:r", "DTSTART;VALUE=DATE:20260301", "DTEND;VALUE=DATE:20260302", "RRULE:FREQ=DAILY",
         "END:VEVENT"),
    ],
    ids=["dates_with_dashes", "every_event_recurring"],
)  # fmt: skip
def test_a_download_with_events_and_none_usable_is_a_failure_not_an_empty_calendar(garbled) -> None:
    """Read as empty, it would start cancelling every stay (issue 15): it is a failed download instead."""
    with pytest.raises(FeedParseError) as caught:
        parse(calendar(*garbled, *garbled[:1], "UID:x", *garbled[2:]))
    assert caught.value.reason == "unusable"
    assert parse(calendar()).events == []  # a calendar without events is still an empty calendar


def test_a_runaway_feed_is_refused_before_it_is_parsed() -> None:
    at_limit = [line for i in range(MAX_EVENTS) for line in vevent(f"u{i}", "20260310", "20260312")]
    assert len(parse(calendar(*at_limit)).events) == MAX_EVENTS
    with pytest.raises(FeedParseError) as caught:
        parse(calendar(*at_limit, *vevent("one-more", "20260320", "20260322")))
    assert caught.value.reason == "too_many_events"


def test_an_event_icalendar_cannot_read_is_skipped_alone() -> None:
    body = calendar(
        "BEGIN:VEVENT", "UID:dir", "DTSTART;TZID=Europe:20260310T150000", "DTEND;TZID=Europe:20260312T110000",
        "END:VEVENT", *vevent("ok", "20260320", "20260322"),
    )  # fmt: skip
    feed = parse(body)
    assert [e.uid for e in feed.events] == ["ok"] and feed.skipped == 1


def test_line_icalendar_cannot_split_breaks_only_its_event() -> None:
    body = calendar(
        "BEGIN:VEVENT", "UID:semi", "DTSTART;;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260312", "END:VEVENT",
        *vevent("ok", "20260320", "20260322"),
    )  # fmt: skip
    feed = parse(body)
    assert [e.uid for e in feed.events] == ["ok"]
    assert (feed.skipped, feed.problems) == (1, ["broken_property:semi"])


# --- uids (§5.4) -------------------------------------------------------------------------------------------


def test_missing_uid_gets_a_stable_synthetic_uid() -> None:
    body = calendar(
        *vevent(None, "20151001", "20151006", "Maria  Schneider"),
        *vevent(None, "20160110", "20160124", "Clara Fontaine"),
    )
    first, second = parse(body, today=None), parse(body, today=None)
    assert first.events == second.events
    assert [(e.uid_synthetic, e.uid.startswith("synthetic-")) for e in first.events] == [(True, True)] * 2
    assert first.events[0].uid != first.events[1].uid
    # the uid depends on the dates and the normalized summary, not on the position in the file
    swapped = calendar(
        *vevent(None, "20160110", "20160124", "Clara Fontaine"),
        *vevent(None, "20151001", "20151006", "maria schneider"),
    )
    assert {e.uid for e in parse(swapped, today=None).events} == {e.uid for e in first.events}
    assert (first.skipped, first.problems) == (0, [])


def test_duplicate_uid_first_keeps_it_later_ones_get_stable_synthetic_uids() -> None:
    uid = "7f662ec65913-c0ffee00c0ffee00c0ffee00c0ffee00@airbnb.com"
    body = calendar(
        *vevent(uid, "20260815", "20260816", "Airbnb (Not available)"),
        *vevent(uid, "20260820", "20260821", "Airbnb (Not available)"),
        *vevent(uid, "20260901", "20260903", "Airbnb (Not available)"),
    )
    feed = parse(body)
    assert [(e.uid == uid, e.uid_synthetic, e.check_in) for e in feed.events] == [
        (True, False, d("2026-08-15")),
        (False, True, d("2026-08-20")),
        (False, True, d("2026-09-01")),
    ]
    assert len({e.uid for e in feed.events}) == 3
    assert [e.uid for e in parse(body).events] == [e.uid for e in feed.events]
    assert (feed.skipped, feed.problems) == (0, [f"duplicate_uid:{uid}", f"duplicate_uid:{uid}"])


def test_exact_copy_of_an_event_is_dropped() -> None:
    body = calendar(*vevent("dup", "20260310", "20260312"), *vevent("dup", "20260310", "20260312"))
    feed = parse(body)
    assert (spans(feed), feed.skipped, feed.problems) == (
        [("dup", "2026-03-10", "2026-03-12", R)],
        1,
        ["duplicate_event:dup"],
    )


def test_first_kept_event_keeps_the_uid_when_an_earlier_copy_was_broken() -> None:
    body = calendar(
        "BEGIN:VEVENT", "UID:u", "DTSTART;VALUE=DATE:bad", "END:VEVENT", *vevent("u", "20260310", "20260312")
    )  # fmt: skip
    feed = parse(body)
    assert [(e.uid, e.uid_synthetic) for e in feed.events] == [("u", False)]
