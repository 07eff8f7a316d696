"""Reconcile one successful download of a feed against what LUMINA already knew about that feed.

Pure: no I/O and no clock. The facts it is built on are in ICAL_FACTS.md:
- a UID is not a stable key: Booking.com re-issues a stay under a new UID when DTSTART moves (a date change, or the
  nightly re-cut of a stay in progress) and Airbnb re-cuts started blocks daily with a new UID (§1.4, §2.2);
- a cancellation is only ever an absence, and absence also means "the stay ended", "the download was empty" or
  "the platform hiccupped", so an absence is believed only after it is confirmed (§5.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.calendar.model import FeedEvent, Kind


class Status(StrEnum):
    ACTIVE = "active"
    MISSING = "missing"  # absent from the feed; cancellation not confirmed yet
    CANCELLED = "cancelled"
    ENDED = "ended"


class Change(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    RESTORED = "restored"
    ENDED = "ended"
    REISSUED = "reissued"


@dataclass(frozen=True, slots=True)
class KnownStay:
    """A stay of this feed as stored, reduced to what reconciliation needs."""

    id: int
    uid: str
    kind: Kind
    check_in: date
    check_out: date
    status: Status
    missing_since: datetime | None = None
    missing_count: int = 0


@dataclass(frozen=True, slots=True)
class Policy:
    absences_to_cancel: int = 2
    min_absence_span: timedelta = timedelta(hours=1)
    mass_loss_ratio: float = 0.5


@dataclass(frozen=True, slots=True)
class StayOp:
    """One thing to write. `known is None` means insert `event`; otherwise update that stay."""

    known: KnownStay | None
    event: FeedEvent | None  # the stay as the feed now has it (None when it is absent)
    status: Status
    change: Change | None = None  # None: bookkeeping only (absence counted, or a silent return)
    alert: bool = False
    missing_since: datetime | None = None
    missing_count: int = 0

    @property
    def kind(self) -> Kind:
        if self.event is not None:
            return self.event.kind
        assert self.known is not None
        return self.known.kind


@dataclass(slots=True)
class Reconciliation:
    ops: list[StayOp] = field(default_factory=list)
    suspicious: bool = False  # lost many future stays at once: absences counted, nothing cancelled

    def changes(self) -> list[StayOp]:
        return [op for op in self.ops if op.change is not None]


_ALERTING_KINDS = {Kind.RESERVATION, Kind.TENTATIVE}


def _alerts(change: Change, kind: Kind, *, initial: bool) -> bool:
    """Only reservations speak. Blocks are summarized elsewhere and window blocks never speak."""
    if initial or kind not in _ALERTING_KINDS:
        return False
    if kind is Kind.TENTATIVE:
        return change in (Change.NEW, Change.CHANGED)  # an expiring hold is not news
    return change in (Change.NEW, Change.CHANGED, Change.CANCELLED, Change.RESTORED)


def _same_group(a: Kind, b: Kind) -> bool:
    blocks = {Kind.BLOCK, Kind.WINDOW}
    return a == b or (a in blocks and b in blocks)


def _overlaps(a_in: date, a_out: date, b_in: date, b_out: date) -> bool:
    return a_in < b_out and b_in < a_out


def reconcile(
    known: Sequence[KnownStay],
    events: Sequence[FeedEvent] | None,
    *,
    now: datetime,
    today: date,
    policy: Policy = Policy(),
    initial: bool = False,
) -> Reconciliation:
    """Decide what a download means.

    `known`: this feed's stays that are active, missing, or cancelled/ended recently enough to come back.
    `events`: the download's events, or None when the feed is known to be unchanged since the last download
    (HTTP 304, or the same content): then every active stay is present and every missing one still absent.
    `today`: the property's local date at `now`. `initial`: the feed's first successful download (no alerts).
    """
    result = Reconciliation()
    if events is None:
        for stay in known:
            if stay.status is Status.MISSING:
                result.ops.append(_absent(stay, now=now, today=today, policy=policy, may_cancel=True, initial=initial))
        return result

    by_uid = {event.uid: event for event in events}
    unmatched_known: list[KnownStay] = []
    seen: set[str] = set()
    for stay in known:
        event = by_uid.get(stay.uid)
        if event is None:
            if stay.status in (Status.ACTIVE, Status.MISSING):
                unmatched_known.append(stay)
            continue
        seen.add(event.uid)
        op = _present(stay, event, initial=initial)
        if op is not None:
            result.ops.append(op)

    fresh = [event for event in events if event.uid not in seen]
    fresh_left = _match_reissues(unmatched_known, fresh, result, initial=initial)

    for event in fresh_left:
        result.ops.append(
            StayOp(
                None,
                event,
                Status.ACTIVE,
                Change.NEW,
                _alerts(Change.NEW, event.kind, initial=initial) and event.check_out > today,
            )
        )

    gone = [stay for stay in unmatched_known if not any(op.known is stay for op in result.ops)]
    result.suspicious = _is_mass_loss(known, gone, today=today, policy=policy, events=events)
    for stay in gone:
        result.ops.append(
            _absent(stay, now=now, today=today, policy=policy, may_cancel=not result.suspicious, initial=initial)
        )
    return result


def _present(stay: KnownStay, event: FeedEvent, *, initial: bool) -> StayOp | None:
    """The stay's UID is in the download."""
    dates_or_kind_moved = (stay.check_in, stay.check_out, stay.kind) != (event.check_in, event.check_out, event.kind)
    if stay.status is Status.CANCELLED:
        return StayOp(
            stay, event, Status.ACTIVE, Change.RESTORED, _alerts(Change.RESTORED, event.kind, initial=initial)
        )
    if dates_or_kind_moved:
        # Same UID, new dates: a modification (DTEND-only changes keep the UID on every platform, §2.2).
        quiet = {stay.kind, event.kind} <= {Kind.BLOCK, Kind.WINDOW} or stay.kind is Kind.WINDOW
        alert = not quiet and _alerts(Change.CHANGED, event.kind, initial=initial)
        return StayOp(stay, event, Status.ACTIVE, Change.CHANGED, alert)
    if stay.status is not Status.ACTIVE:
        return StayOp(stay, event, Status.ACTIVE)  # back before its absence was confirmed: simply kept
    return StayOp(stay, event, Status.ACTIVE)  # refresh feed-owned fields (summary, code); no change recorded


def _match_reissues(
    unmatched: list[KnownStay], fresh: list[FeedEvent], result: Reconciliation, *, initial: bool
) -> list[FeedEvent]:
    """Pair vanished stays with new UIDs: same check-out and overlapping nights is a silent re-issue; overlapping
    nights alone is a date change. Pairs with the same check-out are taken first, then the largest overlap."""
    candidates: list[tuple[int, int, int, KnownStay, FeedEvent]] = []
    for i, stay in enumerate(unmatched):
        for j, event in enumerate(fresh):
            if not _same_group(stay.kind, event.kind):
                continue
            if not _overlaps(stay.check_in, stay.check_out, event.check_in, event.check_out):
                continue
            overlap = (min(stay.check_out, event.check_out) - max(stay.check_in, event.check_in)).days
            same_end = 0 if stay.check_out == event.check_out else 1
            candidates.append((same_end, -overlap, i * len(fresh) + j, stay, event))
    candidates.sort(key=lambda c: c[:3])
    used_known: set[int] = set()
    used_events: set[int] = set()
    for same_end, _overlap, _order, stay, event in candidates:
        if id(stay) in used_known or id(event) in used_events:
            continue
        used_known.add(id(stay))
        used_events.add(id(event))
        if same_end == 0 and stay.kind == event.kind:
            result.ops.append(StayOp(stay, event, Status.ACTIVE, Change.REISSUED))
        else:
            alert = stay.kind is not Kind.WINDOW and _alerts(Change.CHANGED, event.kind, initial=initial)
            result.ops.append(StayOp(stay, event, Status.ACTIVE, Change.CHANGED, alert))
    return [event for event in fresh if id(event) not in used_events]


def _is_mass_loss(
    known: Iterable[KnownStay], gone: list[KnownStay], *, today: date, policy: Policy, events: Sequence[FeedEvent]
) -> bool:
    def future(stay: KnownStay) -> bool:
        return stay.status is Status.ACTIVE and stay.kind is not Kind.WINDOW and stay.check_out > today

    lost = sum(1 for stay in gone if future(stay))
    if lost == 0:
        return False
    before = sum(1 for stay in known if future(stay))
    return not events or lost > before * policy.mass_loss_ratio


def _absent(stay: KnownStay, *, now: datetime, today: date, policy: Policy, may_cancel: bool, initial: bool) -> StayOp:
    if today >= stay.check_out:
        return StayOp(stay, None, Status.ENDED, Change.ENDED)  # platforms drop stays 0-2 days after check-out
    if stay.kind is Kind.WINDOW:
        return StayOp(stay, None, Status.ENDED, Change.ENDED)  # the booking window rolled; never news
    since = stay.missing_since or now
    count = stay.missing_count + 1
    confirmed = count >= policy.absences_to_cancel and now - since >= policy.min_absence_span
    if confirmed and may_cancel:
        alert = _alerts(Change.CANCELLED, stay.kind, initial=initial)
        return StayOp(stay, None, Status.CANCELLED, Change.CANCELLED, alert, since, count)
    return StayOp(stay, None, Status.MISSING, None, False, since, count)
