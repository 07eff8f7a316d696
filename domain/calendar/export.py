"""The channel export feed: which stays a platform should see, and the .ics bytes (ICAL_FACTS §5.6).

Pure: plain data in, bytes out; `today` and `now` come from the caller. The serializer is written by hand (no
icalendar objects) because it runs on every poll of every platform and must stay fast for hundreds of stays.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from domain.calendar.model import Kind

PRODID = "-//LUMINA//Channel export 1.0//EN"
_FOLD_OCTETS = 75  # RFC 5545 §3.1, without the CRLF
_LIVE_STATUSES = frozenset({"active", "missing"})  # missing: not cancelled yet, so its nights stay blocked
_EXPORTED_KINDS = frozenset({Kind.RESERVATION.value, Kind.BLOCK.value, Kind.TENTATIVE.value})
# TSAFE-CHAR excludes CONTROL (RFC 5545 §3.3.11): drop them, except the line breaks escaped as \n.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEEDS_ESCAPE = re.compile(r"[\\;,\x00-\x08\x0a-\x1f\x7f]")


class Target(StrEnum):
    """Who reads the feed: one platform (which must not get its own stays back), or everything."""

    AIRBNB = "airbnb"
    BOOKING = "booking"
    VRBO = "vrbo"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class ExportStay:
    """A stored stay or block, reduced to what the export needs."""

    uid: str  # Booking.export_uid: stable across date edits
    source: str  # Booking.source: airbnb | booking | vrbo | agoda | other | direct
    kind: str
    status: str
    check_in: date
    check_out: date
    guest_name: str | None = None
    seq: int = 0  # the order LUMINA learned of stays in (Booking.id): tells an original from its echo


def select_stays(stays: Iterable[ExportStay], target: Target, *, today: date) -> list[ExportStay]:
    """The stays `target` must block, in a stable order (check-in, check-out, uid).

    A platform never gets back what it exported to us, nor an echo of it: a stay with exactly the nights of one
    of its own stays that LUMINA knew first (Airbnb -> LUMINA -> Booking.com closure -> LUMINA: Airbnb must not
    get the closure, or the platforms would block each other in a loop).

    "Knew first" matters: the original is still sent to the platform holding the echo. Dropping it there would
    make that platform lift its closure, the echo vanish, the original come back, and so on, with the nights
    open for sale on every turn.

    Availability-window blocks are never exported (another platform would close its whole future), but they
    still count as nights the platform knows.
    """
    live = [stay for stay in stays if stay.status in _LIVE_STATUSES and stay.check_out >= today]
    chosen = [stay for stay in live if stay.kind in _EXPORTED_KINDS]
    if target is not Target.ALL:
        first_known: dict[tuple[date, date], int] = {}
        for stay in live:
            if stay.source == target.value:
                nights = (stay.check_in, stay.check_out)
                first_known[nights] = min(stay.seq, first_known.get(nights, stay.seq))

        def echoed(stay: ExportStay) -> bool:
            return first_known.get((stay.check_in, stay.check_out), stay.seq) < stay.seq

        chosen = [stay for stay in chosen if stay.source != target.value and not echoed(stay)]
    return sorted(chosen, key=lambda stay: (stay.check_in, stay.check_out, stay.uid))


def render_feed(stays: Iterable[ExportStay], *, property_name: str, include_guest_names: bool, now: datetime) -> bytes:
    """RFC 5545 bytes shaped like the platforms' own feeds: CRLF, folded at 75 octets, all-day dates.

    `now` becomes every event's DTSTAMP (one value per feed, as Airbnb and Booking.com do). Everything else
    depends only on the stays, so the same data always gives the same bytes apart from DTSTAMP lines.
    """
    stamp = _ical_stamp(now)
    head = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        f"PRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"
        f"{fold('X-WR-CALNAME:' + escape_text(property_name))}\r\n"
    )
    parts = [head]
    # Only SUMMARY and UID vary in length or may hold non-ASCII text, so only they are escaped and folded.
    for stay in stays:
        summary = fold("SUMMARY:" + escape_text(summary_for(stay, include_guest_names=include_guest_names)))
        parts.append(
            f"BEGIN:VEVENT\r\nDTSTAMP:{stamp}\r\n"
            f"DTSTART;VALUE=DATE:{_ical_date(stay.check_in)}\r\nDTEND;VALUE=DATE:{_ical_date(stay.check_out)}\r\n"
            f"{summary}\r\n{fold('UID:' + escape_text(stay.uid))}\r\nEND:VEVENT\r\n"
        )
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


def feed_etag(body: bytes, *, now: datetime) -> str:
    """A strong ETag over the feed without its DTSTAMP values, so it only changes when the stays do.

    `now` is what render_feed was given: blanking that one value is the same as dropping the DTSTAMP lines,
    without scanning the body line by line.
    """
    stamp = b"DTSTAMP:" + _ical_stamp(now).encode()
    return '"' + hashlib.sha256(body.replace(stamp, b"DTSTAMP:")).hexdigest()[:40] + '"'


def summary_for(stay: ExportStay, *, include_guest_names: bool) -> str:
    """Neutral words, in English like the platforms' own feeds; a guest's name only when the host opted in."""
    if stay.kind == Kind.BLOCK.value:
        return "Blocked"
    if not include_guest_names or not stay.guest_name:
        return "Reserved"
    name = " ".join(stay.guest_name.split())
    return f"Reserved - {name}" if name else "Reserved"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped, controls dropped."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value  # the usual case, and the cheap one
    value = _CONTROL_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ical_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ical_date(day: date) -> str:
    return day.isoformat().replace("-", "")  # YYYYMMDD; several times faster than strftime


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with a space), never inside a UTF-8 character."""
    if len(line) <= _FOLD_OCTETS and line.isascii():
        return line  # nearly every line: no encoding needed
    raw = line.encode()
    if len(raw) <= _FOLD_OCTETS:
        return line
    parts: list[str] = []
    start, limit = 0, _FOLD_OCTETS
    while len(raw) - start > limit:
        cut = start + limit
        while raw[cut] & 0xC0 == 0x80:  # a continuation byte: step back to the character's first byte
            cut -= 1
        parts.append(raw[start:cut].decode())
        start, limit = cut, _FOLD_OCTETS - 1  # the leading space takes one octet
    parts.append(raw[start:].decode())
    return "\r\n ".join(parts)
