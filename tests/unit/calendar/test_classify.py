"""Platform detection, per-event classification and availability windows (ICAL_FACTS §1-§4)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import (
    Classification,
    FeedEvent,
    Kind,
    Platform,
    classify_event,
    detect_platform,
    mark_windows,
)

R, B, T, W = Kind.RESERVATION, Kind.BLOCK, Kind.TENTATIVE, Kind.WINDOW
AIRBNB_URL_DESCRIPTION = (
    "Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMK4T7Q2ZX\n"
    "Phone Number (Last 4 Digits): 4821"
)

# --- detect_platform --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uids", "prodid", "url", "expected"),
    [
        (["1418fb94e984-00ff@airbnb.com"], None, None, Platform.AIRBNB),
        (["0a1b2c3d@booking.com"], None, None, Platform.BOOKING),
        (["6f3918b5-ebad@agoda.com"], None, None, Platform.AGODA),
        ([], "-//Airbnb Inc//Hosting Calendar 0.8.8//EN", None, Platform.AIRBNB),
        ([], r"-//admin.booking.com\, b.v.//NONSGML v1.0//EN", None, Platform.BOOKING),
        ([], r"-//admin.booking.com\\\\\\, b.v.//NONSGML v1.0//EN", None, Platform.BOOKING),
        ([], "-//HomeAway.com, Inc.//EN", None, Platform.VRBO),
        ([], "-//Vrbo//Calendar//EN", None, Platform.VRBO),
        ([], "-//Abritel//FR", None, Platform.VRBO),
        ([], "-//ycs.agoda.com//EN", None, Platform.AGODA),
        ([], None, "https://www.airbnb.it/calendar/ical/123.ics?s=abc", Platform.AIRBNB),
        ([], None, "https://admin.booking.com/hotel/hoteladmin/ical.html?t=x", Platform.BOOKING),
        ([], None, "https://www.vrbo.com/icalendar/abc.ics", Platform.VRBO),
        ([], None, "http://www.homeaway.co.uk/icalendar/abc.ics", Platform.VRBO),
        ([], None, "https://www.abritel.fr/icalendar/abc.ics", Platform.VRBO),
        ([], None, "https://ycs.agoda.com/en-us/api/ical/1.ics", Platform.AGODA),
        ([], None, "https://notbooking.com/ical", Platform.OTHER),
        (["a1b2"], "-//github.com/rianjs/ical.net//NONSGML ical.net 4.0//EN", "https://app.ownerrez.com/x",
         Platform.OTHER),
        ([], None, None, Platform.OTHER),
        # a channel manager's merged feed: UIDs disagree, so the PRODID decides
        (["x@airbnb.com", "y@booking.com"], "-//Channel Manager//EN", None, Platform.OTHER),
        # UIDs come first: a Booking.com feed fetched through some proxy URL
        (["z@booking.com"], None, "https://www.airbnb.com/proxy", Platform.BOOKING),
    ],
)  # fmt: skip
def test_detect_platform(uids: list[str], prodid: str | None, url: str | None, expected: Platform) -> None:
    assert detect_platform(uids=uids, prodid=prodid, url=url) is expected


# --- classify_event ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "description", "expected"),
    [
        ("Reserved", AIRBNB_URL_DESCRIPTION, Classification(R, None, "HMK4T7Q2ZX", "4821")),
        (
            "Reserved",
            "Reservation URL: https://www.airbnb.com/reservation/itinerary?code=HMZ2B8K4WQ\n"
            "Phone Number (Last 4 Digits): 3090",
            Classification(R, reservation_code="HMZ2B8K4WQ", phone_last4="3090"),
        ),
        ("Reserved", "", Classification(R)),
        ("Reserved", "https://www.airbnb.com/hosting/reservations/details/HMabc12345", Classification(R)),
        ("1355078859 Reserved", AIRBNB_URL_DESCRIPTION, Classification(R, None, "HMK4T7Q2ZX", "4821")),
        ("Airbnb (Not available)", "", Classification(B)),
        ("Not available", "", Classification(B)),
        ("1355078859895588226 Airbnb (Not available)", "", Classification(B)),
        (
            "Giulia Bianchi (HMW8E2R4T6)",
            "CHECKIN: 03/05/2018\nCHECKOUT: 06/05/2018\nNIGHTS: 3\nPHONE: +39 347 555 1234\nEMAIL: x@y.z",
            Classification(R, "Giulia Bianchi", "HMW8E2R4T6", "1234"),
        ),
        ("Tom Ryan (K7Q2ZB)", "PHONE: +44 20 7946 0958", Classification(R, "Tom Ryan", "K7Q2ZB", "0958")),
        ("Ana Souza (K7Q2ZB)", "PHONE: \nEMAIL: (none)", Classification(R, "Ana Souza", "K7Q2ZB")),
        ("Something else", "", Classification(R)),
    ],
)
def test_airbnb(summary: str, description: str, expected: Classification) -> None:
    assert classify_event(Platform.AIRBNB, summary, description) == expected


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("CLOSED - Not available", Classification(R)),  # a stay and a closure look the same: alert (§2.1)
        ("closed -  not available", Classification(R)),
        ("CLOSED - Ana Maria Souza", Classification(R, guest_name="Ana Maria Souza")),
        (" CLOSED - Lena Hoffmann", Classification(R, guest_name="Lena Hoffmann")),
        ("CLOSED-Jean-Pierre Martin", Classification(R, guest_name="Jean-Pierre Martin")),
        ("Blocked", Classification(B)),
        ("Guest stay", Classification(R)),
    ],
)
def test_booking(summary: str, expected: Classification) -> None:
    assert classify_event(Platform.BOOKING, summary) == expected


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("Reserved - John & Mary Smith", Classification(R, guest_name="John & Mary Smith")),
        ("Réservée - Louise & Marc", Classification(R, guest_name="Louise & Marc")),
        ("RESERVEE - Claire", Classification(R, guest_name="Claire")),
        ("Reservado - João Silva", Classification(R, guest_name="João Silva")),
        ("Reservada - Lucía", Classification(R, guest_name="Lucía")),
        ("Reserviert - Jürgen Weiß", Classification(R, guest_name="Jürgen Weiß")),
        ("Prenotato - Anna-Maria Rossi", Classification(R, guest_name="Anna-Maria Rossi")),
        ("Reserved", Classification(R)),
        ("Réservée", Classification(R)),
        ("Reserved - ", Classification(R)),
        ("Provisoire - Nadine", Classification(T, guest_name="Nadine")),
        ("Tentative - Bob", Classification(T, guest_name="Bob")),
        ("Pending", Classification(T)),
        ("Provisional - Sam", Classification(T, guest_name="Sam")),
        ("Pendente", Classification(T)),
        ("Vorläufig - Jonas", Classification(T, guest_name="Jonas")),
        ("Blocked", Classification(B)),
        ("Indisponible", Classification(B)),
        ("Unavailable", Classification(B)),
        ("Bloqueado", Classification(B)),
        ("Blockiert", Classification(B)),
        ("Non disponibile", Classification(B)),
        ("NON DISPONIBILE", Classification(B)),
        ("Owner hold", Classification(R)),
    ],
)
def test_vrbo(summary: str, expected: Classification) -> None:
    assert classify_event(Platform.VRBO, summary) == expected


@pytest.mark.parametrize(
    ("platform", "summary", "kind"),
    [
        (Platform.AGODA, " BOOKED", R),
        (Platform.AGODA, "BOOKED", R),
        (Platform.AGODA, "Closed", B),
        (Platform.OTHER, "Booked", R),  # OwnerRez
        (Platform.OTHER, "Maria Schneider", R),  # Wimdu: the guest's name
        (Platform.OTHER, "Not available", B),
        (Platform.OTHER, "Blocked by owner", B),
        (Platform.OTHER, "Não disponível", B),
        (Platform.OTHER, "Indisponível", B),
        (Platform.OTHER, "No disponible", B),
        (Platform.OTHER, "Cerrado", B),
        (Platform.OTHER, "Bloqué", B),
        (Platform.OTHER, "Fermé", B),
        (Platform.OTHER, "Chiuso", B),
        (Platform.OTHER, "Nicht verfügbar", B),
        (Platform.OTHER, "Geschlossen", B),
        (Platform.OTHER, "CLOSED - Not available", B),
        (Platform.OTHER, "Closedown party", R),  # a whole word only
    ],
)
def test_agoda_and_other(platform: Platform, summary: str, kind: Kind) -> None:
    assert classify_event(platform, summary) == Classification(kind)


# --- mark_windows -----------------------------------------------------------------------------------------

TODAY = date(2026, 3, 1)


def d(text: str) -> date:
    return date.fromisoformat(text)


def ev(uid: str, ci: str, co: str, kind: Kind, summary: str = "", guest: str | None = None) -> FeedEvent:
    return FeedEvent(uid, d(ci), d(co), kind, summary, guest_name=guest)


def kinds(events: list[FeedEvent]) -> dict[str, Kind]:
    return {e.uid: e.kind for e in events}


NA = "Airbnb (Not available)"
CLOSED = "CLOSED - Not available"


def test_airbnb_block_reaching_the_horizon_is_a_window_even_when_short() -> None:
    # the August closure that appears one night at a time as the horizon reaches it (replay 2025-08-10..23)
    events = [
        ev("r", "2026-03-10", "2026-03-14", R, "Reserved"),
        ev("notice", "2026-03-01", "2026-03-03", B, NA),
        ev("host", "2026-08-10", "2026-08-24", B, NA),
        ev("edge", "2027-03-01", "2027-03-02", B, NA),  # today + 366
    ]
    assert kinds(mark_windows(events, Platform.AIRBNB, TODAY)) == {"r": R, "notice": B, "host": B, "edge": W}


def test_airbnb_block_just_inside_the_slack_and_just_outside() -> None:
    inside = [ev("b", "2027-02-01", "2027-02-25", B, NA)]  # today + 361
    outside = [ev("b", "2027-02-01", "2027-02-24", B, NA)]  # today + 360
    assert mark_windows(inside, Platform.AIRBNB, TODAY)[0].kind is W
    assert mark_windows(outside, Platform.AIRBNB, TODAY)[0].kind is B


def test_airbnb_window_must_end_the_feed() -> None:
    events = [ev("b", "2026-12-01", "2027-03-02", B, NA), ev("r", "2027-03-01", "2027-03-04", R, "Reserved")]
    assert kinds(mark_windows(events, Platform.AIRBNB, TODAY)) == {"b": B, "r": R}


def test_airbnb_reservation_at_the_horizon_is_never_a_window() -> None:
    events = [ev("r", "2026-12-01", "2027-03-02", R, "Reserved")]
    assert mark_windows(events, Platform.AIRBNB, TODAY)[0].kind is R


def test_long_last_block_is_a_window_without_today() -> None:
    # a blocked-only listing's single long block (ICAL_FACTS §1.2); 91 nights is longer than any Booking stay
    long_block = [ev("b", "2025-07-01", "2025-09-30", B, NA)]
    short_block = [ev("b", "2025-07-01", "2025-09-29", B, NA)]
    assert mark_windows(long_block, Platform.AIRBNB, None)[0].kind is W
    assert mark_windows(short_block, Platform.AIRBNB, None)[0].kind is B


def test_booking_closed_until_the_end_of_the_booking_window() -> None:
    events = [
        ev("stay", "2026-03-05", "2026-03-09", R, CLOSED),
        ev("month", "2026-06-01", "2026-07-31", R, CLOSED),
        ev("window", "2027-08-01", "2027-09-01", R, CLOSED),  # today + 18 months
    ]
    assert kinds(mark_windows(events, Platform.BOOKING, TODAY)) == {"stay": R, "month": R, "window": W}


def test_booking_far_stay_below_the_horizon_stays_a_reservation() -> None:
    # replay 2026-08-05: a 7-night CLOSED a year ahead is the latest event, but Booking's horizon is 18 months
    events = [ev("a", "2026-09-08", "2026-09-13", R, CLOSED), ev("b", "2027-07-31", "2027-08-07", R, CLOSED)]
    assert kinds(mark_windows(events, Platform.BOOKING, date(2026, 8, 5))) == {"a": R, "b": R}


def test_booking_legacy_guest_stay_is_never_a_window() -> None:
    events = [ev("g", "2026-12-01", "2027-09-01", R, "CLOSED - Lena Hoffmann", "Lena Hoffmann")]
    assert mark_windows(events, Platform.BOOKING, TODAY)[0].kind is R


@pytest.mark.parametrize("platform", [Platform.VRBO, Platform.AGODA, Platform.OTHER])
def test_other_platforms_have_no_windows(platform: Platform) -> None:
    events = [ev("b", "2025-01-01", "2027-03-02", B, "Blocked")]
    assert mark_windows(events, platform, TODAY) == events


def test_no_events() -> None:
    assert mark_windows([], Platform.AIRBNB, TODAY) == []
