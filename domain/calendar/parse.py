"""Bytes of an iCal feed -> ParsedFeed of stays and blocks in the property's local dates (ICAL_FACTS §5, §6).

Pure: no I/O and no clock; `today` comes from the caller. At most one icalendar parse per call. With a ParseCache,
only the VEVENT blocks that the feed's previous download did not have go through icalendar (see ParseCache).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event
from icalendar.error import IncompleteComponent, InvalidCalendar

from domain.calendar.classify import Classification, classify_event, detect_platform, mark_windows, normalize
from domain.calendar.model import FeedEvent, FeedParseError, ParsedFeed, Platform

_HTML_RE = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)
_ONE_DAY = timedelta(days=1)
_MIN_YEAR = 1970
_MAX_YEARS_AHEAD = timedelta(days=3653)  # 10 years
_MAX_NIGHTS = 1096  # 3 years
_MAX_UID = 255  # bookings.uid
MAX_EVENTS = 5_000  # per download


@dataclass(frozen=True, slots=True)
class _RawEvent:
    uid: str
    check_in: date
    check_out: date
    summary: str
    description: str


# What one VEVENT comes to before the whole-feed steps: its stay, or the problem code that skips it.
_Outcome = _RawEvent | str
Classifier = Callable[[Platform, str, str], Classification]  # classify_event, or a memo of it


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
    cache: ParseCache | None = None,
    cache_key: Hashable | None = None,
) -> ParsedFeed:
    """Parse and classify one download of a feed.

    `tz` is the property's time zone (DATE-TIME values are converted to its dates), `today` the property-local
    date (for availability windows and absurd-date checks), `platform` overrides detection. `cache` with a
    `cache_key` (the feed) reuses what the feed's previous download's unchanged events came to; the result is
    the same with or without it.
    Raises FeedParseError("html" | "not_calendar" | "truncated" | "invalid") if the bytes are no calendar, and
    FeedParseError("unusable") if it has events and not one of them can be read.
    """
    text = _decode(data)
    if not text.strip():
        # Booking.com answers an empty calendar with an empty body (§2.1): no events, not an error.
        platform = platform or detect_platform(uids=(), prodid=None, url=url)
        return ParsedFeed(platform=platform, empty_body=True)
    _check_text(text)
    events = text.count("BEGIN:VEVENT")
    if events > MAX_EVENTS:
        # Real rental calendars have hundreds of events; tens of thousands is a runaway feed (or an attack).
        raise FeedParseError("too_many_events", f"{events} events, at most {MAX_EVENTS} are read")
    if cache is not None and cache_key is not None:
        prodids, outcomes = cache.read(cache_key, text, tz)
        classify = cache.classifier(cache_key)
    else:
        prodids, outcomes = _read_text(text, tz)
        classify = classify_event
    return _assemble(outcomes, prodids, platform=platform, url=url, today=today, classify=classify)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # never fails; the calendar's ASCII structure survives


def looks_like_html(text: str) -> bool:
    """A web page (a login or error page, a wrong link) instead of a calendar: it opens with HTML markup."""
    head = text[:4096].lstrip()
    return head.startswith("<") and _HTML_RE.search(head) is not None


def _check_text(text: str) -> None:
    """Cheap checks before any parsing: a login page, an error page, JSON, a cut download."""
    head = text[:4096].lstrip()
    upper = text.upper()
    if head.startswith("<") or "BEGIN:V" not in upper:
        raise FeedParseError("html" if looks_like_html(head) else "not_calendar")
    # icalendar returns [] without an error for a VCALENDAR that never ends (§6.4): a cut download.
    if upper.count("BEGIN:VCALENDAR") > upper.count("END:VCALENDAR"):
        raise FeedParseError("truncated")


def _read_text(text: str, tz: ZoneInfo) -> tuple[list[str], list[_Outcome]]:
    """The calendar's PRODIDs and its events' outcomes. icalendar fails the whole parse for some broken events (a
    TZID naming a tzdata folder, a VTIMEZONE it cannot build): then each event is read on its own, and the ones it
    cannot read are skipped, so one bad event never stops a feed."""
    try:
        return _read_components(_parse_components(text), tz)
    except FeedParseError:
        raise
    except Exception as exc:  # noqa: BLE001
        spans = _block_spans(text)
        if not spans:
            raise FeedParseError("invalid", f"{type(exc).__name__}: {exc}"[:200]) from exc
    header, footer = text[: spans[0][0]], text[spans[-1][1] :]
    prodids: list[str] = []
    outcomes: list[_Outcome] = []
    for start, end in spans:
        try:
            found, read = _read_components(_parse_components(header + text[start:end] + footer), tz)
        except Exception:  # noqa: BLE001
            outcomes.append("unreadable")
            continue
        prodids = prodids or found
        outcomes.extend(read)
    return prodids, outcomes


def _parse_components(text: str) -> list[Component]:
    """One icalendar parse with multiple=True (several VCALENDARs are OK)."""
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


def _read_components(components: list[Component], tz: ZoneInfo) -> tuple[list[str], list[_Outcome]]:
    """The calendars' PRODIDs, and what each of their events comes to, in file order."""
    prodids: list[str] = []
    outcomes: list[_Outcome] = []
    for component in components:
        if isinstance(component, Event):
            events = [component]  # a bare VEVENT with no VCALENDAR around it (§6.4)
        else:
            prodids.extend(_texts(component, "PRODID"))
            events = [sub for sub in component.subcomponents if isinstance(sub, Event)]
        outcomes.extend(_read_outcome(event, tz) for event in events)
    return prodids, outcomes


def _read_outcome(event: Event, tz: ZoneInfo) -> _Outcome:
    try:
        return _read_event(event, tz)
    except _Skip as skip:
        return _skipped(event, skip.code)
    except Exception:  # noqa: BLE001 - one event icalendar cannot read (a TZID naming a folder...) is skipped alone
        return _skipped(event, "unreadable")


def _skipped(event: Event, code: str) -> str:
    try:
        uid = _text(event, "UID")
    except Exception:  # noqa: BLE001
        uid = ""
    return f"{code}:{uid[:100]}" if uid else code


def _assemble(
    outcomes: list[_Outcome],
    prodids: list[str],
    *,
    platform: Platform | None,
    url: str | None,
    today: date | None,
    classify: Classifier = classify_event,
) -> ParsedFeed:
    """The whole-feed steps, on the events in file order: the date horizon, platform, UIDs, windows."""
    problems: list[str] = []
    raws: list[_RawEvent] = []
    for outcome in outcomes:
        if isinstance(outcome, str):
            problems.append(outcome)
        elif today is not None and outcome.check_out > today + _MAX_YEARS_AHEAD:
            # The one check that depends on `today`, so it is made here and not on (cached) events.
            problems.append(f"absurd_dates:{outcome.uid}" if outcome.uid else "absurd_dates")
        else:
            raws.append(outcome)
    skipped = len(problems)
    if outcomes and not raws:
        # Events were there and none could be used: a garbled download, never an empty calendar (which would
        # start cancelling every stay).
        raise FeedParseError("unusable", f"{len(outcomes)} events, none usable: {', '.join(problems[:3])}"[:300])

    if platform is None:
        platform = detect_platform(uids=(raw.uid for raw in raws), prodid=" ".join(prodids), url=url)
    feed_events, copies = _assign_uids(raws, platform, problems, classify)
    return ParsedFeed(
        platform=platform,
        events=mark_windows(feed_events, platform, today),
        skipped=skipped + copies,
        problems=problems,
    )


def _read_event(event: Event, tz: ZoneInfo) -> _RawEvent:
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
    if check_in.year < _MIN_YEAR or check_out - check_in > timedelta(days=_MAX_NIGHTS):
        raise _Skip("absurd_dates")  # (too far ahead of today is checked in _assemble)
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
    classify: Classifier = classify_event,
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
        if raw.uid and _fitting(raw.uid) not in seen_uids:
            uid, synthetic = _fitting(raw.uid), False
        else:
            # No UID (Wimdu, §4), or a hand-edited or merged file (§6.4) where the first event keeps the
            # uid and later ones are told apart by their dates.
            uid, synthetic = _synthetic_uid(raw.check_in, raw.check_out, key), True
            if raw.uid:
                problems.append(f"duplicate_uid:{raw.uid}")
        seen_uids.add(uid)
        kind = classify(platform, raw.summary, raw.description)
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


def _fitting(uid: str) -> str:
    """The UID as the 255-character column can keep it: a longer one is cut and told apart by a hash of the whole."""
    if len(uid) <= _MAX_UID:
        return uid
    return f"{uid[:200]}~{hashlib.sha256(uid.encode()).hexdigest()[:40]}"


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


# --- incremental parsing ----------------------------------------------------------------------------------
#
# A feed changes a few events at a time, yet Airbnb and Booking.com rewrite every event's DTSTAMP on every download,
# and icalendar costs ~0.2 ms per event. So a download is cut into its VEVENT blocks. A block whose text (valid
# DTSTAMP values aside) was in the feed's previous download comes to the same outcome as then, and only the other
# blocks go through icalendar: inside the same calendar frame (all the text around the blocks), so that they parse
# exactly as they would in the whole file. Any unusual shape (several calendars, nested components, folded or
# lower-case BEGIN/END lines, text between events, TZID references) means the plain full parse.

# A DTSTAMP whose value is exactly a UTC date-time, not continued on a folded line (icalendar unfolds
# CRLF+ followed by a space or tab, blank lines included). Only one at the start of a line counts (checked in
# _stamp_mask: a ^ anchor would cost the regex its fast literal search).
_DTSTAMP_VALUE = re.compile(r"DTSTAMP:(\d{8}T\d{6})Z(?=\r?\n(?![ \t\r\n]))")
_MASKED_STAMP = "DTSTAMP:~~~~~~~~~~~~~~~Z"  # as long as every stamp the pattern matches
_UNFOLD = re.compile(r"(?:\r?\n)+[ \t]")
_LINE_BREAK = re.compile(r"\r?\n")
_BEGIN_OR_END = re.compile(r"^(?:BEGIN|END)[:;]", re.IGNORECASE)
# Rough bytes of memory per cached block beyond its strings (key, dict slots, _RawEvent, dates, its memoized
# Classification), for the bound: measured with tracemalloc on Airbnb- and Booking.com-shaped feeds.
_BLOCK_OVERHEAD = 600


@dataclass(frozen=True, slots=True)
class _Split:
    frame: bytes  # identifies the text around the blocks, and the time zone the dates were read in
    header: str
    blocks: list[str]
    footer: str
    keys: list[bytes | None]  # per block; None: never cached (its dates may need a VTIMEZONE)


@dataclass(slots=True)
class _Entry:
    frame: bytes
    prodids: list[str]
    blocks: dict[bytes, _Outcome]
    size: int
    # classify_event's answers for the feed's events: a pure function, so a memo is exact
    classes: dict[tuple[Platform, str, str], Classification]


class ParseCache:
    """What the VEVENT blocks of each feed's last download came to, for parse_feed: least recently used feeds are
    dropped first, beyond `max_feeds` feeds or about `max_bytes` of memory. Only an optimization: without it, or
    after any eviction, parse_feed gives the same result, at the price of a full parse."""

    def __init__(self, *, max_feeds: int = 5_000, max_bytes: int = 64 * 2**20) -> None:
        self.max_feeds, self.max_bytes = max_feeds, max_bytes
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self.parsed_blocks = self.reused_blocks = 0  # for benchmarks and tests
        # Feeds are parsed in worker threads, and a chat's /sync may run beside the scheduled sync.
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def approx_bytes(self) -> int:
        return self._bytes

    def discard(self, key: Hashable) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._bytes -= entry.size

    def read(self, key: Hashable, text: str, tz: ZoneInfo) -> tuple[list[str], list[_Outcome]]:
        """The calendar's PRODIDs and its events' outcomes, as _read_components(_parse_components(text)) gives
        them, parsing only the blocks this feed's previous download did not have. Raises FeedParseError the same."""
        with self._lock:
            return self._read(key, text, tz)

    def _read(self, key: Hashable, text: str, tz: ZoneInfo) -> tuple[list[str], list[_Outcome]]:
        split = _split(text, tz)
        entry = self._entries.get(key)
        if split is None or entry is None or entry.frame != split.frame:
            entry = None  # nothing known about this text: every block is new
        if split is not None:
            read = self._read_split(text, split, entry, tz)
            if read is not None:
                self._store(key, split, *read)
                return read
        self.discard(key)
        return _read_text(text, tz)

    def _read_split(
        self, text: str, split: _Split, entry: _Entry | None, tz: ZoneInfo
    ) -> tuple[list[str], list[_Outcome]] | None:
        known = entry.blocks if entry is not None else {}
        new = [i for i, key in enumerate(split.keys) if key is None or key not in known]
        if entry is not None and not new:
            prodids, fresh = entry.prodids, list[_Outcome]()
        else:
            read = _read_blocks(text, split, new, tz)
            if read is None:
                return None
            prodids, fresh = read
        self.parsed_blocks += len(new)
        self.reused_blocks += len(split.blocks) - len(new)
        by_index = dict(zip(new, fresh, strict=True))
        return prodids, [
            by_index[i] if key is None or key not in known else known[key] for i, key in enumerate(split.keys)
        ]

    def classifier(self, key: Hashable) -> Classifier:
        """classify_event, remembering the answers for this feed's events. Only the answers the current download
        asks for are kept for the next one, so the memo stays the size of the feed."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return classify_event
            previous: dict[tuple[Platform, str, str], Classification] = entry.classes
            current: dict[tuple[Platform, str, str], Classification] = {}
            entry.classes = current

        def classify(platform: Platform, summary: str, description: str) -> Classification:
            args = (platform, summary, description)
            found = current.get(args)
            if found is None:
                found = current[args] = previous.get(args) or classify_event(platform, summary, description)
            return found

        return classify

    def _store(self, key: Hashable, split: _Split, prodids: list[str], outcomes: list[_Outcome]) -> None:
        old = self._entries.get(key)
        classes = old.classes if old is not None else {}
        self.discard(key)
        blocks = {k: outcome for k, outcome in zip(split.keys, outcomes, strict=True) if k is not None}
        size = sum(_outcome_size(outcome) for outcome in blocks.values()) + len(split.frame) + 200
        if size > self.max_bytes:
            return
        self._entries[key] = _Entry(split.frame, prodids, blocks, size, classes)
        self._bytes += size
        while len(self._entries) > self.max_feeds or self._bytes > self.max_bytes:
            _oldest, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size


def _outcome_size(outcome: _Outcome) -> int:
    if isinstance(outcome, str):
        return _BLOCK_OVERHEAD + len(outcome)
    return _BLOCK_OVERHEAD + len(outcome.uid) + len(outcome.summary) + len(outcome.description)


def _split(text: str, tz: ZoneInfo) -> _Split | None:
    """The text as header + contiguous VEVENT blocks + footer, or None when its shape is not that simple."""
    if tz.key is None:  # a zone read from a file: no name to tell the cached dates apart by
        return None
    spans = _block_spans(text)
    if not spans:
        return None
    upper = text.upper()
    if upper.count("BEGIN:VEVENT") != len(spans) or upper.count("END:VEVENT") != len(spans):
        return None  # a folded, lower-case or nested BEGIN/END line somewhere
    start, end = spans[0][0], spans[-1][1]
    header, footer = text[:start], text[end:]
    if footer[:1] in (" ", "\t", "\r", "\n"):  # the last END:VEVENT would continue on a folded line
        return None
    frame = hashlib.sha256(f"{tz.key}\0{header}\0{footer}".encode()).digest()
    # The keys hash each block with its valid DTSTAMP values masked, in one pass over the whole text; the mask
    # keeps every length, so the blocks' offsets hold in the masked text too.
    masked = mask_stamps(text)
    tzids = "TZID" in upper
    blocks: list[str] = []
    keys: list[bytes | None] = []
    for block_start, block_end in spans:
        block = text[block_start:block_end]
        blocks.append(block)
        if tzids and "TZID" in block.upper():
            keys.append(None)  # its dates may depend on VTIMEZONEs icalendar caches across calendars: always parsed
        else:
            keys.append(hashlib.sha256(masked[block_start:block_end].encode()).digest()[:16])
    return _Split(frame, header, blocks, footer, keys)


def _block_spans(text: str) -> list[tuple[int, int]] | None:
    """[start, end) of each VEVENT block: BEGIN:VEVENT and END:VEVENT lines, one block right after the other.
    None at the first irregularity. Linear in the text (str.find moves forward only), whatever the text is."""
    spans: list[tuple[int, int]] = []
    begin = text.find("BEGIN:VEVENT")
    while begin != -1:
        at_line_start = begin == 0 or text[begin - 1] == "\n"
        if not at_line_start or (spans and begin != spans[-1][1]) or not _line_ends(text, begin + 12):
            return None  # not a line of its own, or text between two events
        end = text.find("\nEND:VEVENT", begin)
        if end == -1:
            return None
        end = _line_ends(text, end + 11)
        if not end:
            return None
        spans.append((begin, end))
        begin = text.find("BEGIN:VEVENT", end)
    return spans


def _line_ends(text: str, at: int) -> int:
    """Where the next line starts if a line ends at `at` (CRLF, LF or the end of the text), else 0."""
    if text.startswith("\r\n", at):
        return at + 2
    if text.startswith("\n", at):
        return at + 1
    return at if at == len(text) else 0


def mask_stamps(text: str) -> str:
    """The text with every valid UTC DTSTAMP value masked, each at its own length: the one DTSTAMP rule, for the
    parse cache's block keys and sync's content fingerprint. Airbnb and Booking.com rewrite every stamp on every
    download (ICAL_FACTS §1.4); an invalid stamp makes its event a broken one, so it stays part of the text."""
    return _DTSTAMP_VALUE.sub(_stamp_mask(text), text)


def _stamp_mask(text: str) -> Callable[[re.Match[str]], str]:
    checked: dict[str, bool] = {}

    def mask(match: re.Match[str]) -> str:
        if match.start() and text[match.start() - 1] != "\n":
            return match.group()  # not at the start of a line: some other property's text
        value = match.group(1)
        valid = checked.get(value)
        if valid is None:
            valid = checked[value] = _valid_utc_stamp(value)
        # An invalid stamp makes the event a broken_property: it stays part of the key.
        return _MASKED_STAMP if valid else match.group()

    return mask


def _valid_utc_stamp(value: str) -> bool:
    """Whether icalendar reads this YYYYMMDDTHHMMSS without an error (it builds the same datetime)."""
    try:
        datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]), int(value[11:13]), int(value[13:]))
    except ValueError:
        return False
    return True


def _self_contained(block: str) -> bool:
    """One VEVENT and nothing nested: BEGIN:VEVENT first, END:VEVENT last, no other BEGIN/END line once unfolded."""
    lines = _LINE_BREAK.split(_UNFOLD.sub("", block))
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2 or lines[0] != "BEGIN:VEVENT" or lines[-1] != "END:VEVENT":
        return False
    return not any(_BEGIN_OR_END.match(line) for line in lines[1:-1])


def _read_blocks(text: str, split: _Split, new: list[int], tz: ZoneInfo) -> tuple[list[str], list[_Outcome]] | None:
    """Parse the new blocks in the calendar's own frame, a slice at a time. None: the result would not be provably
    the same as the whole file's (then the caller parses the whole file)."""
    if not all(_self_contained(split.blocks[i]) for i in new):
        return None
    prodids: list[str] = []
    outcomes: list[_Outcome] = []
    for group in _slices(split.blocks, new):
        partial = split.header + "".join(split.blocks[i] for i in group) + split.footer
        try:
            components = _parse_components(partial)
        except FeedParseError:
            if partial == text:
                raise  # this is the whole file: its error is the answer
            return None
        except Exception:  # noqa: BLE001 - icalendar failed on one event: the whole-file path reads them one by one
            return None
        if len(components) != 1 or components[0].name != "VCALENDAR":
            return None
        found, read = _read_components(components, tz)
        if len(read) != len(group):
            return None
        prodids = prodids or found
        outcomes += read
    return prodids, outcomes


# Characters of events icalendar is given at once. It unfolds a text with one regular-expression call, which holds
# the GIL: a 5 MB feed in one piece stalled the event loop ~200 ms while it was parsed in a worker thread.
_PARSE_SLICE = 256 * 1024


def _slices(blocks: list[str], new: list[int]) -> Iterator[list[int]]:
    group: list[int] = []
    size = 0
    for i in new:
        if group and size + len(blocks[i]) > _PARSE_SLICE:
            yield group
            group, size = [], 0
        group.append(i)
        size += len(blocks[i])
    if group:
        yield group
