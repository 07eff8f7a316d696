"""Booking.com echoes: nights a Booking.com feed closes because another source sold them first. Pure.

Booking.com imports the other platforms' calendars and exports those nights as its own "CLOSED - Not available",
exactly like a guest's stay (ICAL_FACTS §2.1, §2.3). Nights that became booked in a Booking.com feed while another
source already held them are that source's echo: no new-booking alert, no second arrival, no double booking. They
still close the nights for availability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

Range = tuple[date, date]  # half-open [start, end) of nights


@dataclass(frozen=True, slots=True)
class Holder:
    """A live stay of another source (another feed, or a direct booking) of the same property."""

    id: int
    check_in: date
    check_out: date


@dataclass(frozen=True, slots=True)
class Echo:
    nights: tuple[Range, ...]  # the stay's echo nights after this download (within its dates)
    of: int | None  # the stay it mirrors, when every night it still has is an echo
    only_echo_added: bool  # every night this download added to the stay was an echo: nothing to tell the host


def merge(ranges: Iterable[Range]) -> list[Range]:
    out: list[Range] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(ranges: Iterable[Range], minus: Iterable[Range]) -> list[Range]:
    """The nights of `ranges` that are not in `minus`."""
    cuts = merge(minus)
    out: list[Range] = []
    for start, end in merge(ranges):
        for c_start, c_end in cuts:
            if c_end <= start or c_start >= end:
                continue
            if c_start > start:
                out.append((start, c_start))
            start = max(start, c_end)
            if start >= end:
                break
        if start < end:
            out.append((start, end))
    return out


def intersect(ranges: Iterable[Range], other: Iterable[Range]) -> list[Range]:
    a, b = merge(ranges), merge(other)
    return [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2)]


def nights(ranges: Iterable[Range]) -> int:
    return sum((end - start).days for start, end in merge(ranges))


def echo_of(
    stay: Range,
    before: Range | None,
    known_echo: Sequence[Range],
    holders: Sequence[Holder],
    *,
    today: date,
) -> Echo:
    """What of `stay` (its nights now) is an echo, given its nights `before` this download (None: new) and the
    echo nights already known. Only nights added now can become echoes: a night booked on Booking.com before the
    other source took it is that source's double booking, not an echo; so is a night added over part of another
    source's stay."""
    check_in, check_out = stay
    current = [(max(check_in, today), check_out)]
    added = subtract(current, [before] if before else [])
    # The platform closes the other stay's nights, all of them: nights added inside only part of another stay are
    # a guest sold over it (a double booking), not its mirror.
    mirrored_stays = [
        (start, h.check_out)
        for h in holders
        if (start := max(h.check_in, today)) < h.check_out and not subtract([(start, h.check_out)], current)
    ]
    held = intersect(added, mirrored_stays)
    echo = merge(intersect(list(known_echo) + held, current))
    mirrored = None
    if current[0][0] < check_out and not subtract(current, echo):
        mirrored = max(holders, key=lambda h: nights(intersect(current, [(h.check_in, h.check_out)])), default=None)
    only_echo = bool(added) and not subtract(added, held)
    return Echo(tuple(echo), mirrored.id if mirrored else None, only_echo)


def to_json(ranges: Sequence[Range]) -> list[list[str]] | None:
    return [[start.isoformat(), end.isoformat()] for start, end in ranges] or None


def from_json(value: object) -> list[Range]:
    if not isinstance(value, list):
        return []
    return [(date.fromisoformat(start), date.fromisoformat(end)) for start, end in value]
