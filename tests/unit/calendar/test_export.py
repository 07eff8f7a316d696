"""The channel export feed: which stays each platform gets, and bytes that every reader agrees on."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from domain.calendar.export import (
    PRODID,
    ExportStay,
    Target,
    escape_text,
    feed_etag,
    fold,
    render_feed,
    select_stays,
)
from domain.calendar.parse import parse_feed
from domain.feed_sync import content_fingerprint

TODAY = date(2026, 8, 1)
NOW = datetime(2026, 8, 1, 10, 30, 15, tzinfo=UTC)
TZ = ZoneInfo("America/Sao_Paulo")
_SEQ = itertools.count(1)  # stays made earlier in a test were known to LUMINA earlier, like Booking.id


def stay(
    uid: str,
    source: str,
    check_in: date,
    nights: int = 3,
    *,
    kind: str = "reservation",
    status: str = "active",
    guest: str | None = None,
) -> ExportStay:
    return ExportStay(uid, source, kind, status, check_in, check_in + timedelta(days=nights), guest, next(_SEQ))


def render(stays: list[ExportStay], *, names: bool = False, name: str = "Apto 101") -> bytes:
    return render_feed(stays, property_name=name, include_guest_names=names, now=NOW)


def uids(stays: list[ExportStay]) -> list[str]:
    return [s.uid for s in stays]


# --- selection rules ----------------------------------------------------------------------------------------

AIRBNB_STAY = stay("a@lumina", "airbnb", date(2026, 8, 10))
BOOKING_STAY = stay("b@lumina", "booking", date(2026, 8, 20))
VRBO_STAY = stay("v@lumina", "vrbo", date(2026, 9, 1), kind="tentative")
DIRECT_STAY = stay("d@lumina", "direct", date(2026, 9, 10))
MANUAL_BLOCK = stay("m@lumina", "direct", date(2026, 9, 20), kind="block")
AGODA_STAY = stay("g@lumina", "agoda", date(2026, 10, 1))
MIX = [AIRBNB_STAY, BOOKING_STAY, VRBO_STAY, DIRECT_STAY, MANUAL_BLOCK, AGODA_STAY]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (Target.AIRBNB, ["b@lumina", "v@lumina", "d@lumina", "m@lumina", "g@lumina"]),
        (Target.BOOKING, ["a@lumina", "v@lumina", "d@lumina", "m@lumina", "g@lumina"]),
        (Target.VRBO, ["a@lumina", "b@lumina", "d@lumina", "m@lumina", "g@lumina"]),
        (Target.ALL, ["a@lumina", "b@lumina", "v@lumina", "d@lumina", "m@lumina", "g@lumina"]),
    ],
)
def test_a_platform_never_gets_its_own_stays_back(target: Target, expected: list[str]):
    assert uids(select_stays(MIX, target, today=TODAY)) == expected


def test_exact_nights_of_a_platform_stay_known_first_are_an_echo_for_that_platform():
    # Airbnb -> LUMINA -> Booking.com closes the nights -> LUMINA imports the closure: Airbnb must not get it.
    airbnb = stay("a@lumina", "airbnb", date(2026, 8, 10), 4)
    closure = stay("b@lumina", "booking", date(2026, 8, 10), 4)
    overlapping = stay("b2@lumina", "booking", date(2026, 8, 11), 4)  # not the same nights: a real conflict
    direct_same = stay("d@lumina", "direct", date(2026, 8, 10), 4)  # Airbnb already blocks those nights
    stays = [airbnb, closure, overlapping, direct_same]
    assert uids(select_stays(stays, Target.AIRBNB, today=TODAY)) == ["b2@lumina"]
    # The original keeps going to Booking.com, or Booking.com would lift the closure that mirrors it.
    assert uids(select_stays(stays, Target.BOOKING, today=TODAY)) == ["a@lumina"]
    assert uids(select_stays(stays, Target.VRBO, today=TODAY)) == ["a@lumina", "b@lumina", "d@lumina", "b2@lumina"]


def test_the_echo_is_whichever_came_second():
    booking_first = stay("b@lumina", "booking", date(2026, 8, 10), 4)
    airbnb_block = stay("a@lumina", "airbnb", date(2026, 8, 10), 4, kind="block")  # Airbnb imported our feed
    stays = [airbnb_block, booking_first]  # input order does not matter, only what LUMINA knew first
    assert uids(select_stays(stays, Target.AIRBNB, today=TODAY)) == ["b@lumina"]
    assert uids(select_stays(stays, Target.BOOKING, today=TODAY)) == []


def test_an_echo_of_a_missing_platform_stay_is_still_an_echo():
    airbnb = stay("a@lumina", "airbnb", date(2026, 8, 10), status="missing")
    closure = stay("b@lumina", "booking", date(2026, 8, 10))
    assert select_stays([airbnb, closure], Target.AIRBNB, today=TODAY) == []


def test_window_blocks_are_never_exported_but_still_count_as_what_a_platform_knows():
    window = stay("w@lumina", "airbnb", date(2026, 8, 5), 300, kind="window")
    booking_window = stay("bw@lumina", "booking", date(2026, 8, 5), 500, kind="window")
    same_nights = stay("d@lumina", "direct", date(2026, 8, 5), 300)
    for target in Target:
        chosen = uids(select_stays([window, booking_window, same_nights], target, today=TODAY))
        assert "w@lumina" not in chosen and "bw@lumina" not in chosen
    assert select_stays([window, same_nights], Target.AIRBNB, today=TODAY) == []


def test_statuses_and_past_stays():
    stays = [
        stay("active", "direct", date(2026, 8, 10)),
        stay("missing", "booking", date(2026, 8, 14)),  # absent once: its nights stay blocked
        stay("cancelled", "booking", date(2026, 8, 20), status="cancelled"),
        stay("ended", "airbnb", date(2026, 7, 28), 4, status="ended"),
        stay("past", "direct", date(2026, 7, 20), 5),  # check-out 07-25
        stay("leaves-today", "direct", date(2026, 7, 29), 3),  # check-out == today: still listed
        stay("in-progress", "direct", date(2026, 7, 30), 5),
    ]
    stays[1] = stay("missing", "booking", date(2026, 8, 14), status="missing")
    assert uids(select_stays(stays, Target.AIRBNB, today=TODAY)) == ["leaves-today", "in-progress", "active", "missing"]


def test_order_is_stable_whatever_the_input_order():
    stays = [stay(f"{n}@lumina", "direct", date(2026, 8, 1) + timedelta(days=n % 7)) for n in range(30)]
    assert select_stays(stays, Target.ALL, today=TODAY) == select_stays(stays[::-1], Target.ALL, today=TODAY)
    assert render(select_stays(stays, Target.ALL, today=TODAY)) == render(
        select_stays(stays[::-1], Target.ALL, today=TODAY)
    )


# --- the bytes ----------------------------------------------------------------------------------------------


def test_shape_like_the_platforms_feeds():
    body = render([stay("x1@lumina", "direct", date(2026, 8, 10), 4)])
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")  # CRLF only
    lines = body.decode().split("\r\n")
    assert lines[:6] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Apto 101",
    ]
    assert PRODID == "-//LUMINA//Channel export 1.0//EN"
    assert lines[6:14] == [
        "BEGIN:VEVENT",
        "DTSTAMP:20260801T103015Z",
        "DTSTART;VALUE=DATE:20260810",
        "DTEND;VALUE=DATE:20260814",  # exclusive: the check-out day
        "SUMMARY:Reserved",
        "UID:x1@lumina",
        "END:VEVENT",
        "END:VCALENDAR",
    ]


def test_dtstamp_is_utc_whatever_the_zone_given():
    local = datetime(2026, 8, 1, 7, 30, 15, tzinfo=TZ)
    body = render_feed([], property_name="p", include_guest_names=False, now=local)
    assert b"BEGIN:VEVENT" not in body
    body = render_feed(
        [stay("x", "direct", date(2026, 8, 10))], property_name="p", include_guest_names=False, now=local
    )
    assert b"DTSTAMP:20260801T103015Z\r\n" in body


def test_neutral_summaries_and_guest_names_only_when_enabled():
    stays = [
        stay("r@lumina", "booking", date(2026, 8, 10), guest="Ana Souza"),
        stay("t@lumina", "vrbo", date(2026, 8, 20), kind="tentative", guest="Louise & Marc"),
        stay("n@lumina", "airbnb", date(2026, 9, 1)),  # no name known
        stay("b@lumina", "direct", date(2026, 9, 10), kind="block", guest="Someone"),
        stay("w@lumina", "direct", date(2026, 9, 20), guest="  \n "),  # only whitespace: no name
    ]
    hidden = render(stays).decode()
    assert [line for line in hidden.split("\r\n") if line.startswith("SUMMARY")] == [
        "SUMMARY:Reserved",
        "SUMMARY:Reserved",
        "SUMMARY:Reserved",
        "SUMMARY:Blocked",
        "SUMMARY:Reserved",
    ]
    assert "Ana" not in hidden and "Louise" not in hidden and "Someone" not in hidden
    shown = render(stays, names=True).decode()
    assert [line for line in shown.split("\r\n") if line.startswith("SUMMARY")] == [
        "SUMMARY:Reserved - Ana Souza",
        "SUMMARY:Reserved - Louise & Marc",
        "SUMMARY:Reserved",
        "SUMMARY:Blocked",  # a block never carries a name
        "SUMMARY:Reserved",
    ]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ("crlf\r\nline", "crlf\\nline"),
        ("cr\rline", "cr\\nline"),
        ("bell\x07tab\tdel\x7f", "belltab\tdel"),
        ('quotes "ok" and: colon', 'quotes "ok" and: colon'),
        ("\\,;", "\\\\\\,\\;"),
    ],
)
def test_text_escaping(raw: str, escaped: str):
    assert escape_text(raw) == escaped


def test_names_with_every_special_character_survive_the_round_trip():
    name = 'Zé, "the; host" \\ O\'Brien'
    body = render(
        [stay("x@lumina", "direct", date(2026, 8, 10), guest=name)], names=True, name="Casa; Praia, 2\nfundos"
    )
    event = next(iter(Calendar.from_ical(body).walk("VEVENT")))
    assert str(event["SUMMARY"]) == f"Reserved - {name}"
    # An X- property is TEXT by default (RFC 5545 §3.8.8.2); icalendar leaves unknown ones escaped.
    assert b"X-WR-CALNAME:Casa\\; Praia\\, 2\\nfundos\r\n" in body
    assert IcsCalendarStream.calendar_from_ics(body.decode()).events[0].summary == f"Reserved - {name}"


def test_folding_at_75_octets():
    assert fold("A" * 75) == "A" * 75
    folded = fold("S" * 200)
    parts = folded.split("\r\n")
    assert [len(p.encode()) for p in parts] == [75, 75, 52]  # 75 + 74 + 51 characters, plus the spaces
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "S" * 200


@pytest.mark.parametrize("prefix", range(0, 6))
def test_folding_never_splits_a_utf8_character(prefix: int):
    # 2-, 3- and 4-byte characters placed so that some land across the 75th octet.
    line = "SUMMARY:" + "x" * prefix + "çãé€😀" * 30
    parts = fold(line).split("\r\n")
    for part in parts:
        encoded = part.encode()  # would raise if a character had been cut
        assert len(encoded) <= 75
    assert all(len(p.encode()) >= 71 for p in parts[:-1])  # cut at most 3 octets early (a 4-byte character)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_long_multibyte_names_are_folded_and_read_back():
    name = "Ωμέγα Ἀθηνᾶ 日本語の名前 😀 " * 6
    body = render([stay("x@lumina", "direct", date(2026, 8, 10), guest=name)], names=True)
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode()
    event = next(iter(Calendar.from_ical(body).walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Reserved - " + " ".join(name.split())


def test_same_data_same_bytes_apart_from_dtstamp():
    stays = select_stays(MIX, Target.AIRBNB, today=TODAY)
    first = render_feed(stays, property_name="p", include_guest_names=False, now=NOW)
    later = render_feed(stays, property_name="p", include_guest_names=False, now=NOW + timedelta(hours=5))
    assert first != later

    def strip(body: bytes) -> list[bytes]:
        return [line for line in body.split(b"\r\n") if not line.startswith(b"DTSTAMP")]

    assert strip(first) == strip(later)


# --- every reader agrees --------------------------------------------------------------------------------------


def _feeds() -> list[tuple[Target, list[ExportStay], bytes]]:
    stays = [
        *MIX,
        stay("long-name@lumina", "direct", date(2026, 11, 1), 2, guest='Maria da Conceição, "Ção"; \\ ' * 4),
        stay("edge@lumina", "direct", date(2026, 7, 31), 1),  # check-out today
        stay("window@lumina", "airbnb", date(2026, 8, 2), 360, kind="window"),
    ]
    result = []
    for target in Target:
        chosen = select_stays(stays, target, today=TODAY)
        result.append((target, chosen, render(chosen, names=True, name="Casa, Praia; Nº 2")))
    return result


@pytest.mark.parametrize(("target", "chosen", "body"), _feeds(), ids=[t.value for t in Target])
def test_every_feed_reads_the_same_in_icalendar_ical_and_our_importer(
    target: Target, chosen: list[ExportStay], body: bytes
):
    expected = [(s.uid, s.check_in, s.check_out) for s in chosen]
    assert expected  # each target has something to say

    calendar = Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    assert [(str(e["UID"]), e.start, e.end) for e in events] == expected
    assert all(not e.errors for e in events)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["METHOD"]) == "PUBLISH"

    strict = IcsCalendarStream.calendar_from_ics(body.decode())
    assert [(e.uid, e.dtstart, e.dtend) for e in strict.events] == expected
    assert all(e.dtstamp == NOW for e in strict.events)

    parsed = parse_feed(body, tz=TZ, today=TODAY)
    assert parsed.problems == [] and parsed.skipped == 0
    assert [(e.uid, e.check_in, e.check_out) for e in parsed.events] == expected
    kinds = {s.uid: ("block" if s.kind == "block" else "reservation") for s in chosen}
    assert {e.uid: e.kind.value for e in parsed.events} == kinds


def test_an_empty_feed_is_a_valid_calendar():
    body = render([])
    assert len(Calendar.from_ical(body).walk("VEVENT")) == 0
    assert IcsCalendarStream.calendar_from_ics(body.decode()).events == []
    assert parse_feed(body, tz=TZ, today=TODAY).events == []


def test_rendering_500_stays_is_fast():
    stays = [
        stay(f"{n:032x}@lumina", ("direct", "airbnb", "booking")[n % 3], TODAY + timedelta(days=n), 2, guest=f"G {n}")
        for n in range(500)
    ]
    chosen = select_stays(stays, Target.VRBO, today=TODAY)
    started = time.perf_counter()
    for _ in range(20):
        render_feed(chosen, property_name="p", include_guest_names=True, now=NOW)
    per_render = (time.perf_counter() - started) / 20
    assert per_render < 0.02, per_render  # about 1 ms on a laptop; generous for slow CI machines


def test_etag_ignores_dtstamp_only():
    stays = select_stays(MIX, Target.ALL, today=TODAY)
    later = NOW + timedelta(days=1)
    first = render_feed(stays, property_name="p", include_guest_names=False, now=NOW)
    second = render_feed(stays, property_name="p", include_guest_names=False, now=later)
    assert feed_etag(first, now=NOW) == feed_etag(second, now=later)
    assert feed_etag(first, now=NOW) == feed_etag(first, now=NOW).strip('"').join('""')  # quoted, strong
    # changes exactly when the body with its DTSTAMP values masked does (what sync's content_fingerprint hashes)
    assert content_fingerprint(first) == content_fingerprint(second)
    moved = [*stays[:-1], replace(stays[-1], check_out=stays[-1].check_out + timedelta(days=1))]
    changed = render_feed(moved, property_name="p", include_guest_names=False, now=NOW)
    assert feed_etag(changed, now=NOW) != feed_etag(first, now=NOW)
    renamed = render_feed(stays, property_name="q", include_guest_names=False, now=NOW)
    assert feed_etag(renamed, now=NOW) != feed_etag(first, now=NOW)
