"""Bytes of an iCal feed -> ParsedFeed of stays and blocks in the property's local dates (ICAL_FACTS §5, §6).

Pure: no I/O and no clock; `today` comes from the caller. One icalendar parse per call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event
from icalendar.error import IncompleteComponent, InvalidCalendar

from domain.calendar.classify import classify_event, detect_platform, mark_windows, normalize
from domain.calendar.model import FeedEvent, FeedParseError, ParsedFeed, Platform

_HTML_RE = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)
_ONE_DAY = timedelta(days=1)
_MIN_YEAR = 1970
_MAX_YEARS_AHEAD = timedelta(days=3653)  # 10 years
_MAX_NIGHTS = 1096  # 3 years


@dataclass(frozen=True, slots=True)
class _RawEvent:
    uid: str
    check_in: date
    check_out: date
    summary: str
    description: str


class _Skip(Exception):
    """One event is unusable; the rest of the feed is kept."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_feed(
    data: bytes,
    *,
    tz: ZoneInfo,
    url: str | None = None,
    platform: Platform | None = None,
    today: date | None = None,
) -> ParsedFeed:
    """Parse and classify one download of a feed.

    `tz` is the property's time zone (DATE-TIME values are converted to its dates), `today` the property-local
    date (for availability windows and absurd-date checks), `platform` overrides detection.
    Raises FeedParseError("html" | "not_calendar" | "truncated" | "invalid") if the bytes are no calendar.
    """
    text = _decode(data)
    if not text.strip():
        # Booking.com answers an empty calendar with an empty body (§2.1): no events, not an error.
        platform = platform or detect_platform(uids=(), prodid=None, url=url)
        return ParsedFeed(platform=platform, empty_body=True)
    components = _parse_components(text)

    problems: list[str] = []
    raws: list[_RawEvent] = []
    prodids: list[str] = []
    for component in components:
        if isinstance(component, Event):
            events = [component]  # a bare VEVENT with no VCALENDAR around it (§6.4)
        else:
            prodids.extend(_texts(component, "PRODID"))
            events = [sub for sub in component.subcomponents if isinstance(sub, Event)]
        for event in events:
            try:
                raws.append(_read_event(event, tz, today))
            except _Skip as skip:
                uid = _text(event, "UID")
                problems.append(f"{skip.code}:{uid}" if uid else skip.code)
    skipped = len(problems)

    if platform is None:
        platform = detect_platform(uids=(raw.uid for raw in raws), prodid=" ".join(prodids), url=url)
    feed_events, copies = _assign_uids(raws, platform, problems)
    return ParsedFeed(
        platform=platform,
        events=mark_windows(feed_events, platform, today),
        skipped=skipped + copies,
        problems=problems,
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # never fails; the calendar's ASCII structure survives


def _parse_components(text: str) -> list[Component]:
    """Cheap checks on the text, then one icalendar parse with multiple=True (several VCALENDARs are OK)."""
    head = text[:4096].lstrip()
    upper = text.upper()
    if head.startswith("<") or "BEGIN:V" not in upper:  # a login page, an error page, JSON...
        raise FeedParseError("html" if _HTML_RE.search(head) else "not_calendar")
    # icalendar returns [] without an error for a VCALENDAR that never ends (§6.4): a cut download.
    if upper.count("BEGIN:VCALENDAR") > upper.count("END:VCALENDAR"):
        raise FeedParseError("truncated")
    try:
        parsed = Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise FeedParseError("invalid", str(exc)[:200]) from exc
    if not parsed:  # e.g. a VEVENT that never ends
        raise FeedParseError("truncated")
    components: list[Component] = [c for c in parsed if c.name in ("VCALENDAR", "VEVENT")]
    if not components:  # a vCard or some other iCalendar-like object
        raise FeedParseError("not_calendar")
    return components


def _read_event(event: Event, tz: ZoneInfo, today: date | None) -> _RawEvent:
    # Rental feeds never repeat (§1.1); a recurring series or one of its instances is not a stay.
    if "RRULE" in event or "RDATE" in event or "RECURRENCE-ID" in event:
        raise _Skip("recurring")
    if _text(event, "STATUS").upper() == "CANCELLED":
        raise _Skip("cancelled")
    # icalendar keeps broken values instead of raising (§6.4); any of them makes the event untrustworthy.
    if event.errors:
        raise _Skip("broken_property")
    try:
        if "DURATION" in event and event.duration < timedelta(0):  # icalendar would clamp it to zero length
            raise _Skip("dtend_before_dtstart")
        check_in, check_out = _stay_dates(event.start, event.end, tz)
    except IncompleteComponent as exc:
        raise _Skip("no_dtstart") from exc
    except InvalidCalendar as exc:  # e.g. DATE DTSTART with DATE-TIME DTEND, or a duplicated DTSTART
        raise _Skip("bad_dates") from exc
    except OverflowError as exc:  # around year 9999
        raise _Skip("absurd_dates") from exc
    if (
        check_in.year < _MIN_YEAR
        or check_out - check_in > timedelta(days=_MAX_NIGHTS)
        or (today is not None and check_out > today + _MAX_YEARS_AHEAD)
    ):
        raise _Skip("absurd_dates")
    summary, description = _text(event, "SUMMARY"), _text(event, "DESCRIPTION")
    return _RawEvent(_text(event, "UID"), check_in, check_out, summary, description)


def _stay_dates(start: date, end: date, tz: ZoneInfo) -> tuple[date, date]:
    """Half-open [check_in, check_out) in the property's local dates (§1.3, §5.2)."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        local_start, local_end = _local(start, tz), _local(end, tz)
        if local_end < local_start:
            raise _Skip("dtend_before_dtstart")
        check_in, check_out = local_start.date(), local_end.date()
        # A stay of a few hours (or a zero-length DATE-TIME event) still takes its night.
        return check_in, check_out if check_out > check_in else check_in + _ONE_DAY
    if end < start:
        raise _Skip("dtend_before_dtstart")
    if end == start:
        raise _Skip("zero_nights")  # an all-day DTEND equal to DTSTART: nothing is blocked
    return start, end


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    """Naive local wall time at the property; floating times are already local."""
    return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo is not None else value


def _assign_uids(
    raws: list[_RawEvent],
    platform: Platform,
    problems: list[str],
) -> tuple[list[FeedEvent], int]:
    """Classify, and give every event a distinct uid; synthetic uids are hashes, so they survive re-downloads.

    Returns the events and the number of exact copies dropped.
    """
    seen_uids: set[str] = set()
    seen_spans: set[tuple[str, str, date, date]] = set()
    events: list[FeedEvent] = []
    copies = 0
    for raw in raws:
        key = raw.uid or normalize(raw.summary)
        span = (raw.uid, key, raw.check_in, raw.check_out)
        if span in seen_spans:  # the same uid (or none and the same summary) with the same dates: a copy
            problems.append(f"duplicate_event:{raw.uid}" if raw.uid else "duplicate_event")
            copies += 1
            continue
        seen_spans.add(span)
        if raw.uid and raw.uid not in seen_uids:
            uid, synthetic = raw.uid, False
        else:
            # No UID (Wimdu, §4), or a hand-edited or merged file (§6.4) where the first event keeps the
            # uid and later ones are told apart by their dates.
            uid, synthetic = _synthetic_uid(raw.check_in, raw.check_out, key), True
            if raw.uid:
                problems.append(f"duplicate_uid:{raw.uid}")
        seen_uids.add(uid)
        kind = classify_event(platform, raw.summary, raw.description)
        events.append(
            FeedEvent(
                uid=uid,
                check_in=raw.check_in,
                check_out=raw.check_out,
                kind=kind.kind,
                summary=raw.summary,
                uid_synthetic=synthetic,
                guest_name=kind.guest_name,
                reservation_code=kind.reservation_code,
                phone_last4=kind.phone_last4,
            )
        )
    return events, copies


def _synthetic_uid(check_in: date, check_out: date, key: str) -> str:
    digest = hashlib.sha256(f"{check_in.isoformat()}|{check_out.isoformat()}|{key}".encode()).hexdigest()
    return f"synthetic-{digest[:32]}"


def _texts(component: Component, name: str) -> list[str]:
    """A property's values as text; icalendar turns a duplicated single-value property into a list (§6.4)."""
    value = component.get(name)
    if value is None:
        return []
    return [str(item).strip() for item in (value if isinstance(value, list) else [value])]


def _text(component: Component, name: str) -> str:
    values = _texts(component, name)
    return values[0] if values else ""
