"""Overlaps between the stays of one property, and what each overlap means. Pure.

Half-open ranges: a check-out and a check-in on the same day never overlap (ICAL_FACTS §1.3).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.calendar.model import Kind, Platform


class ConflictClass(StrEnum):
    DOUBLE_BOOKING = "double_booking"  # two guests for the same night: page the host
    ECHO = "echo"  # a block (or Booking.com closure) mirroring a reservation elsewhere: blocking works
    WINDOW = "window"  # an availability-window block: ignore
    TENTATIVE = "tentative"  # a VRBO hold: tell, do not page
    SAME_SOURCE = "same_source"  # one feed overlapping itself: a data problem in that feed


ALERTING = {ConflictClass.DOUBLE_BOOKING, ConflictClass.TENTATIVE, ConflictClass.SAME_SOURCE}


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


@dataclass(frozen=True, slots=True)
class Overlap:
    a: Span  # the lower id
    b: Span
    start: date
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
    """Every pair that shares at least one night, by a sweep over check-in order: O(n log n + pairs)."""
    ordered = sorted(spans, key=lambda s: (s.check_in, s.check_out, s.id))
    active: list[tuple[date, int, Span]] = []  # min-heap by check-out
    for span in ordered:
        while active and active[0][0] <= span.check_in:
            heapq.heappop(active)
        for _end, _id, other in active:
            yield (other, span) if other.id < span.id else (span, other)
        heapq.heappush(active, (span.check_out, span.id, span))


def classify(a: Span, b: Span) -> ConflictClass:
    kinds = {a.kind, b.kind}
    if Kind.WINDOW in kinds:
        return ConflictClass.WINDOW
    if a.source == b.source and a.source != "direct":
        return ConflictClass.SAME_SOURCE
    if Kind.TENTATIVE in kinds:
        return ConflictClass.TENTATIVE
    if Kind.BLOCK in kinds:
        return ConflictClass.ECHO  # nobody arrives through a block
    if _is_echo(a, b) or _is_echo(b, a):
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


def find_conflicts(spans: Iterable[Span], *, today: date) -> list[Overlap]:
    """Classified overlaps among the given stays, ignoring nights already past."""
    current = [s for s in spans if s.check_out > today]
    found = []
    for a, b in overlapping_pairs(current):
        start, end = max(a.check_in, b.check_in), min(a.check_out, b.check_out)
        klass = classify(a, b)
        found.append(Overlap(a, b, start, end, klass, severity(klass, max(start, today), end, today)))
    return found
