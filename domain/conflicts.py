"""Overlaps between the stays of one property, and what each overlap means. Pure.

Half-open ranges: a check-out and a check-in on the same day never overlap (ICAL_FACTS §1.3).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.calendar.echoes import Range, subtract
from domain.calendar.model import Kind, Platform


class ConflictClass(StrEnum):
    DOUBLE_BOOKING = "double_booking"  # two guests for the same night: page the host
    ECHO = "echo"  # a block (or Booking.com closure) mirroring a reservation elsewhere: blocking works
    WINDOW = "window"  # an availability-window block: ignore
    TENTATIVE = "tentative"  # a VRBO hold: tell, do not page
    SAME_SOURCE = "same_source"  # one feed overlapping itself: shown when it lasts, never paged (§2.3)


# Booking.com never sells a night twice, and merged or split runs overlap inside one download (§2.3): only two
# sources holding one night is news.
ALERTING = {ConflictClass.DOUBLE_BOOKING, ConflictClass.TENTATIVE}


@dataclass(frozen=True, slots=True)
class Span:
    """A live stay as the conflict check sees it."""

    id: int
    source: str  # "feed:<id>" or "direct"
    platform: Platform
    kind: Kind
    check_in: date
    check_out: date
    first_seen: datetime | None = None
    echo_feed: bool = False  # the host marked this feed's blocks as echoes
    echo: tuple[Range, ...] = ()  # nights it holds only because another source held them first


@dataclass(frozen=True, slots=True)
class Overlap:
    a: Span  # the lower id
    b: Span
    start: date  # first and last contested night (echo nights aside)
    end: date
    klass: ConflictClass
    severity: int

    @property
    def nights(self) -> int:
        return (self.end - self.start).days

    @property
    def dates_key(self) -> str:
        """Both stays' dates: a resolved conflict comes back only when this changes."""
        return f"{self.a.check_in}/{self.a.check_out}|{self.b.check_in}/{self.b.check_out}"


def overlapping_pairs(spans: Iterable[Span]) -> Iterator[tuple[Span, Span]]:
    """Every pair of stays from different sources that share at least one night, by a sweep over check-in order:
    O(n log n + pairs). Pairs of one source are never formed, so a feed overlapping itself costs nothing here."""
    ordered = sorted(spans, key=lambda s: (s.check_in, s.check_out, s.id))
    active: dict[str, list[tuple[date, int, Span]]] = {}  # per source, a min-heap by check-out
    for span in ordered:
        own = _source_key(span)
        for source in list(active):
            heap = active[source]
            while heap and heap[0][0] <= span.check_in:
                heapq.heappop(heap)
            if not heap:
                del active[source]
            elif source != own:
                for _end, _id, other in heap:
                    yield (other, span) if other.id < span.id else (span, other)
        heapq.heappush(active.setdefault(own, []), (span.check_out, span.id, span))


def _source_key(span: Span) -> str:
    """Stays entered in LUMINA are each their own source: two direct bookings on one night are a double booking."""
    return f"direct:{span.id}" if span.source == "direct" else span.source


def self_overlaps(spans: Iterable[Span], *, today: date) -> list[tuple[Span, Span]]:
    """For each source whose stays overlap each other, its first overlapping pair: O(n log n), one per source."""
    by_source: dict[str, list[Span]] = {}
    for span in spans:
        if span.check_out > today and span.kind is not Kind.WINDOW and span.source != "direct":
            by_source.setdefault(span.source, []).append(span)
    found = []
    for group in by_source.values():
        group.sort(key=lambda s: (s.check_in, s.check_out, s.id))
        reach = group[0]
        for span in group[1:]:
            if span.check_in < reach.check_out:
                found.append((reach, span) if reach.id < span.id else (span, reach))
                break
            if span.check_out > reach.check_out:
                reach = span
    return found


def classify(a: Span, b: Span, contested: list[Range] | None = None) -> ConflictClass:
    """`contested`: the shared nights that neither side holds only as an echo (None: not computed)."""
    kinds = {a.kind, b.kind}
    if Kind.WINDOW in kinds:
        return ConflictClass.WINDOW
    if a.source == b.source and a.source != "direct":
        return ConflictClass.SAME_SOURCE
    if Kind.TENTATIVE in kinds:
        return ConflictClass.TENTATIVE
    if Kind.BLOCK in kinds:
        return ConflictClass.ECHO  # nobody arrives through a block
    if contested == [] or _is_echo(a, b) or _is_echo(b, a):
        return ConflictClass.ECHO
    return ConflictClass.DOUBLE_BOOKING


def _is_echo(closure: Span, reservation: Span) -> bool:
    """Booking.com exports blocks and guest stays alike as "CLOSED - Not available" (§2.1), so the nights LUMINA's
    export closed there come back as a Booking.com "reservation" with exactly the same nights, seen after the
    original. A feed the host marked as echoing counts the same way."""
    if closure.platform is not Platform.BOOKING and not closure.echo_feed:
        return False
    if closure.echo_feed:
        return True
    same_nights = (closure.check_in, closure.check_out) == (reservation.check_in, reservation.check_out)
    later = (
        closure.first_seen is not None
        and reservation.first_seen is not None
        and closure.first_seen > reservation.first_seen
    )
    return same_nights and later


def severity(klass: ConflictClass, start: date, end: date, today: date) -> int:
    """Bigger is worse: the class first, then how soon the first shared night is, then how many nights."""
    base = {
        ConflictClass.DOUBLE_BOOKING: 300,
        ConflictClass.SAME_SOURCE: 200,
        ConflictClass.TENTATIVE: 100,
    }.get(klass, 0)
    days_away = (start - today).days
    urgency = 4 if days_away <= 1 else 3 if days_away <= 7 else 2 if days_away <= 30 else 1
    return base + urgency * 20 + min((end - start).days, 19)


def contested_nights(a: Span, b: Span, *, today: date) -> list[Range]:
    """The future nights both hold, less those either holds only as the other's echo."""
    shared = [(max(a.check_in, b.check_in, today), min(a.check_out, b.check_out))]
    return subtract(shared, a.echo + b.echo)


def find_conflicts(spans: Iterable[Span], *, today: date) -> list[Overlap]:
    """Classified overlaps between stays of different sources, ignoring nights already past."""
    current = [s for s in spans if s.check_out > today]
    found = []
    for a, b in overlapping_pairs(current):
        contested = contested_nights(a, b, today=today)
        start, end = max(a.check_in, b.check_in), min(a.check_out, b.check_out)
        if contested:
            start, end = contested[0][0], contested[-1][1]
        klass = classify(a, b, contested)
        found.append(Overlap(a, b, start, end, klass, severity(klass, max(start, today), end, today)))
    return found
