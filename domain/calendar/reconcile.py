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
    ABSORBED = "absorbed"  # merged into a neighbouring run of the same feed: its nights are still booked


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
    absorbed: bool = False  # active, but carried by another event of the feed (a merged run)


@dataclass(frozen=True, slots=True)
class Policy:
    absences_to_cancel: int = 2
    min_absence_span: timedelta = timedelta(hours=1)
    mass_loss_ratio: float = 0.5
    # A download that loses most future stays at once (an empty or cut calendar, §5.5) cancels nothing until the
    # loss has lasted this long: Booking.com served the same empty calendar for over an hour (§2.3).
    mass_loss_hold: timedelta = timedelta(hours=12)


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
    absorbed: bool = False  # the stay is (still) carried by another event of the feed

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
_LIVE = (Status.ACTIVE, Status.MISSING)


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


def is_recut(old_in: date, old_out: date, new_in: date, new_out: date, *, today: date) -> bool:
    """The one shape of a silent re-issue (§1.4, §2.3): a started stay or block re-cut to begin today, its end kept.
    Any other move of the first night is a change the host must hear."""
    return new_out == old_out and old_in < new_in <= today


def reconcile(
    known: Sequence[KnownStay],
    events: Sequence[FeedEvent] | None,
    *,
    now: datetime,
    today: date,
    policy: Policy = Policy(),
    initial: bool = False,
    uids_name_first_nights: bool = False,
    suspicious_since: datetime | None = None,
) -> Reconciliation:
    """Decide what a download means, on nights: events and their UIDs are how the feed groups its booked nights
    today, so a stay is followed through re-cuts, merges and new UIDs by the nights it holds.

    `known`: this feed's stays that are active, missing, or cancelled/ended recently enough to come back.
    `events`: the download's events, or None when the feed is known to be unchanged since the last download
    (HTTP 304, or the same content): then every active stay is present and every missing one still absent.
    `today`: the property's local date at `now`. `initial`: the feed's first successful download (no alerts).
    `uids_name_first_nights`: the platform derives a UID from the first night (Booking.com, §2.3), so a UID that
    comes back after its stay was cancelled is a new booking of that night, not the old guest restored.
    `suspicious_since`: when the feed's current mass loss began, if it is in one.
    """
    result = Reconciliation()
    expired = suspicious_since is not None and now - suspicious_since >= policy.mass_loss_hold
    if events is None:
        result.suspicious = suspicious_since is not None and not expired
        may_cancel = not result.suspicious
        for stay in known:
            if stay.status is Status.MISSING:
                result.ops.append(
                    _absent(stay, now=now, today=today, policy=policy, may_cancel=may_cancel, initial=initial)
                )
        return result

    # 1. A UID still (or again, before confirmation) in the feed continues its stay.
    by_uid = {event.uid: event for event in events}
    live_by_uid = {stay.uid: stay for stay in known if stay.status in _LIVE}
    vanished: list[KnownStay] = []
    seen: set[str] = set()
    merged: list[KnownStay] = []
    for stay in known:
        if stay.status not in _LIVE:
            continue
        if stay.absorbed:
            merged.append(stay)  # its UID coming back is first offered to the stays this download lost
            continue
        event = by_uid.get(stay.uid)
        if event is None:
            vanished.append(stay)
            continue
        seen.add(event.uid)
        result.ops.append(_present(stay, event, today=today, initial=initial))

    # 2. New UIDs continue vanished stays (re-cut, first night moved, runs merged under a new first night) before
    #    a returning UID may mean anything else (§2.3).
    finished_by_uid = {stay.uid: stay for stay in known if stay.status not in _LIVE and stay.uid not in live_by_uid}
    fresh = [event for event in events if event.uid not in seen]
    fresh = _match_continuations(vanished, fresh, result, today=today, initial=initial)
    left = {event.uid: event for event in fresh}
    for stay in merged:
        event = left.pop(stay.uid, None)
        if event is None:
            vanished.append(stay)
        else:
            result.ops.append(_present(stay, event, today=today, initial=initial))
    fresh = list(left.values())

    # 3. What nothing continues is new, or a finished stay back under its UID.
    for event in fresh:
        old = finished_by_uid.get(event.uid)
        if old is not None and not uids_name_first_nights:
            result.ops.append(
                StayOp(
                    old, event, Status.ACTIVE, Change.RESTORED, _alerts(Change.RESTORED, event.kind, initial=initial)
                )
            )
            continue
        alert = _alerts(Change.NEW, event.kind, initial=initial) and event.check_out > today
        result.ops.append(StayOp(None, event, Status.ACTIVE, Change.NEW, alert))

    # 4. A vanished stay whose remaining nights lie inside other events of the download was merged into them.
    continued = {id(op.known) for op in result.ops if op.known is not None}
    by_first_night = sorted(events, key=lambda e: e.check_in) if vanished else []
    gone: list[KnownStay] = []
    for stay in vanished:
        if id(stay) in continued:
            continue
        if today < stay.check_out and _covered(stay, by_first_night, today=today):
            change = None if stay.absorbed else Change.ABSORBED
            result.ops.append(StayOp(stay, None, Status.ACTIVE, change, absorbed=True))
        else:
            gone.append(stay)
    still_lost = suspicious_since is not None and any(
        stay.status is Status.MISSING and stay.check_out > today for stay in gone
    )
    # a loss that outlasted the hold is believed: the feed is no longer suspicious, its absences are confirmed
    result.suspicious = not expired and (
        still_lost or _is_mass_loss(known, gone, today=today, policy=policy, events=events)
    )
    may_cancel = not result.suspicious
    for stay in gone:
        result.ops.append(_absent(stay, now=now, today=today, policy=policy, may_cancel=may_cancel, initial=initial))
    return result


def _covered(stay: KnownStay, by_first_night: Sequence[FeedEvent], *, today: date) -> bool:
    """Every night the stay still has (from today on) lies inside events of its own kind (sorted by check-in)."""
    night = max(stay.check_in, today)
    for event in by_first_night:
        if event.kind is not stay.kind or event.check_out <= night:
            continue
        if event.check_in > night:
            return False
        night = event.check_out
        if night >= stay.check_out:
            return True
    return night >= stay.check_out


def _present(stay: KnownStay, event: FeedEvent, *, today: date, initial: bool) -> StayOp:
    """The stay's UID is in the download."""
    if stay.absorbed:
        # A merged run split again and this stay heads its own event: the host heard the run shrink, and now
        # hears that this stay stands on its own, with the nights it has now.
        alert = event.check_out > today and _alerts(Change.RESTORED, event.kind, initial=initial)
        return StayOp(stay, event, Status.ACTIVE, Change.RESTORED, alert)
    dates_or_kind_moved = (stay.check_in, stay.check_out, stay.kind) != (event.check_in, event.check_out, event.kind)
    if dates_or_kind_moved:
        # Same UID, new dates: a modification (DTEND-only changes keep the UID on every platform, §2.2).
        quiet = {stay.kind, event.kind} <= {Kind.BLOCK, Kind.WINDOW} or stay.kind is Kind.WINDOW
        alert = not quiet and _alerts(Change.CHANGED, event.kind, initial=initial)
        return StayOp(stay, event, Status.ACTIVE, Change.CHANGED, alert)
    # back before its absence was confirmed, out of a merge, or simply still there: kept, feed-owned fields refreshed
    return StayOp(stay, event, Status.ACTIVE)


def _match_continuations(
    vanished: list[KnownStay],
    fresh: list[FeedEvent],
    result: Reconciliation,
    *,
    today: date,
    initial: bool,
) -> list[FeedEvent]:
    """Pair vanished stays with new UIDs whose nights overlap theirs. A re-cut (§2.3) is silent; any other move of
    the first night is a change. Re-cuts are paired first, then the earliest stay (the head of a merged run)."""
    candidates: list[tuple[int, date, int, int, KnownStay, FeedEvent]] = []
    for i, stay in enumerate(vanished):
        for j, event in enumerate(fresh):
            if not _same_group(stay.kind, event.kind):
                continue
            if not _overlaps(stay.check_in, stay.check_out, event.check_in, event.check_out):
                continue
            overlap = (min(stay.check_out, event.check_out) - max(stay.check_in, event.check_in)).days
            recut = stay.kind == event.kind and is_recut(
                stay.check_in, stay.check_out, event.check_in, event.check_out, today=today
            )
            candidates.append((0 if recut else 1, stay.check_in, -overlap, i * len(fresh) + j, stay, event))
    # re-cuts first (rank 0), then the earliest stay: the head of a run merged under a new first night
    candidates.sort(key=lambda c: c[:4])
    used_known: set[int] = set()
    used_events: set[int] = set()
    for rank, _in, _overlap, _order, stay, event in candidates:
        if id(stay) in used_known or id(event) in used_events:
            continue
        used_known.add(id(stay))
        used_events.add(id(event))
        if rank == 0:
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
        # A stay that was merged into a run was told with that run: the run's change named the nights it freed.
        alert = not stay.absorbed and _alerts(Change.CANCELLED, stay.kind, initial=initial)
        return StayOp(stay, None, Status.CANCELLED, Change.CANCELLED, alert, since, count, absorbed=stay.absorbed)
    return StayOp(stay, None, Status.MISSING, None, False, since, count, absorbed=stay.absorbed)
