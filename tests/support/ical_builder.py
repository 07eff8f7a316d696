"""Feeds in the platforms' real shapes (ICAL_FACTS §1-§3), built from invented stays for the project's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Stay:
    uid: str
    check_in: date
    check_out: date
    blocked: bool = False
    code: str = "HMABCDEF12"
    phone: str = "1234"


def _fold(line: str, width: int = 75) -> list[str]:
    raw = line.encode()
    parts, first = [], True
    while raw:
        limit = width if first else width - 1
        cut = min(limit, len(raw))
        while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        parts.append(("" if first else " ") + raw[:cut].decode())
        raw, first = raw[cut:], False
    return parts


def _calendar(header: list[str], events: list[list[str]]) -> bytes:
    lines = ["BEGIN:VCALENDAR", *header]
    for event in events:
        lines += ["BEGIN:VEVENT", *event, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    folded = [part for line in lines for part in _fold(line)]
    return ("\r\n".join(folded) + "\r\n").encode()


def _d(day: date) -> str:
    return day.strftime("%Y%m%d")


def airbnb(stays: list[Stay], *, stamp: str = "20260801T073000Z") -> bytes:
    """Airbnb "Hosting Calendar 1.0": reservations first, then blocks, each sorted by DTSTART (§1.1)."""
    ordered = sorted((s for s in stays if not s.blocked), key=lambda s: s.check_in) + sorted(
        (s for s in stays if s.blocked), key=lambda s: s.check_in
    )
    events = []
    for stay in ordered:
        event = [
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_d(stay.check_in)}",
            f"DTEND;VALUE=DATE:{_d(stay.check_out)}",
        ]
        if stay.blocked:
            event += ["SUMMARY:Airbnb (Not available)", f"UID:{stay.uid}"]
        else:
            event += [
                "SUMMARY:Reserved",
                f"UID:{stay.uid}",
                "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/"
                f"{stay.code}\\nPhone Number (Last 4 Digits): {stay.phone}",
            ]
        events.append(event)
    header = ["PRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN", "CALSCALE:GREGORIAN", "VERSION:2.0"]
    return _calendar(header, events)


def booking(stays: list[Stay], *, stamp: str = "20260801T073000Z") -> bytes:
    """Booking.com: every event is "CLOSED - Not available", PRODID with literal backslashes (§2.1)."""
    header = [
        "VERSION:2.0",
        "PRODID:-//admin.booking.com\\\\\\, b.v.//NONSGML v1.0//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    events = [
        [
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_d(s.check_in)}",
            f"DTEND;VALUE=DATE:{_d(s.check_out)}",
            f"UID:{s.uid}",
            "SUMMARY:CLOSED - Not available",
            "ORGANIZER:mailto:noreply@booking.com",
        ]
        for s in sorted(stays, key=lambda s: s.check_in)
    ]
    return _calendar(header, events)


def vrbo(stays: list[tuple[Stay, str]], *, stamp: str = "20260801T073000Z") -> bytes:
    """HomeAway/VRBO: SUMMARY carries status and guest name (§3); stays given with their SUMMARY."""
    header = ["VERSION:2.0", "CALSCALE:GREGORIAN", "PRODID:-//HomeAway.com, Inc.//EN"]
    events = [
        [
            f"UID:{s.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_d(s.check_in)}",
            f"DTEND;VALUE=DATE:{_d(s.check_out)}",
            f"SUMMARY:{summary}",
        ]
        for s, summary in stays
    ]
    return _calendar(header, events)
