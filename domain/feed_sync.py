"""Apply downloads of feeds: parse, reconcile, and write bookings, changes, health and alerts in the caller's
transaction. The scheduled sync, `/sync`, `lumina sync` and `lumina replay` all come through here.

Most downloads change nothing: the same content (only DTSTAMP moved) or an HTTP 304, on a healthy feed with no
absence pending. record_quiet() writes those for many feeds in one transaction: a SyncRun row and the feed's
health fields each, exactly what apply_download() would write for them. Every other download goes through
apply_download(), one feed per transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import BOOKING_ALERTS, AlertKind
from domain.audit import audit_rows
from domain.calendar.echoes import Echo, Holder, echo_of, from_json, to_json
from domain.calendar.model import FeedEvent, FeedParseError, Kind, ParsedFeed, Platform
from domain.calendar.parse import ParseCache, mask_stamps, parse_feed
from domain.calendar.reconcile import Change, KnownStay, Policy, Reconciliation, Status, StayOp, reconcile
from domain.conflict_check import ConflictEvent, check_property
from domain.outbox import PropertyAlerts
from domain.time import property_today
from domain.turnovers import refresh_turnovers
from storage import repositories, sync_rows
from storage.models import Property

log = logging.getLogger("lumina.sync")

# A cancelled or ended stay can come back this long after its check-out (platforms keep past stays 0-2 days).
RECALL_DAYS = 3

@dataclass(frozen=True, slots=True)
class Download:
    """What the network gave us, independent of how it was fetched (HTTP, a replayed file)."""

    status: Literal["ok", "not_modified", "failed"]
    body: bytes = b""
    reason: str | None = None  # failure reason code, localized when shown
    detail: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failures_for_trouble: int = 3
    stale_after: timedelta = timedelta(hours=6)


@dataclass(slots=True)
class SyncOutcome:
    """What one download did. Plain values only: a sync of many feeds keeps one of these per feed until it ends."""

    feed_id: int
    run_id: int
    outcome: str  # ok | unchanged | not_modified | failed | suspicious
    reason: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # change -> how many (the SyncRun's counts)
    kind_counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, change) -> how many
    conflicts: list[ConflictEvent] = field(default_factory=list)
    alerts: int = 0
    platform: str | None = None  # the feed's platform, as detected (None: not known yet)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A download of a feed waiting to be recorded, with its content fingerprint computed once."""

    feed_id: int
    download: Download
    fingerprint: str | None  # of an ok body, else None
    next_sync_at: datetime | None = None  # when to poll the feed next; None leaves it as it is

    @classmethod
    def of(cls, feed_id: int, download: Download, *, next_sync_at: datetime | None = None) -> Arrival:
        fingerprint = content_fingerprint(download.body) if download.status == "ok" else None
        return cls(feed_id, download, fingerprint, next_sync_at)


def content_fingerprint(body: bytes) -> str:
    """Hash of the body with its DTSTAMP values masked (the parse cache's rule, `mask_stamps`): Airbnb and
    Booking.com rewrite them on every download (§1.4). Latin-1 maps bytes to characters one to one, and the rule
    reads ASCII only."""
    return hashlib.sha256(mask_stamps(body.decode("latin-1")).encode("latin-1")).hexdigest()


# --- downloads that change nothing, many feeds at once ------------------------------------------------------


async def record_quiet(
    session: AsyncSession, arrivals: Sequence[Arrival], *, now: datetime
) -> tuple[list[SyncOutcome], list[Arrival]]:
    """Record the arrivals that change nothing, in the caller's transaction: per feed one SyncRun row and its
    health fields, as apply_download would write them. Returns their outcomes, and the arrivals left for
    apply_download in their order: new content, a first download, a failure, a feed in trouble (it alerts its
    recovery) or with absences pending (reconcile confirms them on unchanged downloads too), a second download
    of the same feed."""
    states = await repositories.feed_sync_states(session, [a.feed_id for a in arrivals])
    quiet: list[tuple[Arrival, Row[Any]]] = []
    rest: list[Arrival] = []
    seen: set[int] = set()
    for arrival in arrivals:
        state = states.get(arrival.feed_id)
        if state is not None and arrival.feed_id not in seen and _changes_nothing(arrival, state):
            quiet.append((arrival, state))
        else:
            rest.append(arrival)
        seen.add(arrival.feed_id)
    if not quiet:
        return [], rest

    runs = [_run_values(a.feed_id, a.download, now) | {"outcome": _quiet_outcome(a), "counts": {}} for a, _s in quiet]
    run_ids = await sync_rows.insert_runs(session, runs)
    feeds = [
        {"row_id": a.feed_id, **_after_success(s, a.download, a.fingerprint, now, a.next_sync_at)} for a, s in quiet
    ]
    await sync_rows.update_feeds(session, feeds)
    outcomes = [SyncOutcome(a.feed_id, run_ids[a.feed_id], _quiet_outcome(a), platform=s.platform) for a, s in quiet]
    return outcomes, rest


def _changes_nothing(arrival: Arrival, state: Row[Any]) -> bool:
    if state.in_trouble or state.has_missing:
        return False
    if arrival.download.status == "not_modified":
        return True
    return (
        arrival.download.status == "ok"
        and state.last_success_at is not None
        and arrival.fingerprint == state.content_hash
    )


def _quiet_outcome(arrival: Arrival) -> str:
    return "not_modified" if arrival.download.status == "not_modified" else "unchanged"


# --- the feed's own row -------------------------------------------------------------------------------------


def _run_values(feed_id: int, download: Download, now: datetime) -> dict[str, Any]:
    return {
        "feed_id": feed_id,
        "started_at": now,
        "finished_at": now,
        "http_status": download.http_status,
        "bytes": len(download.body),
    }


def _after_success(
    feed: Row[Any],
    download: Download,
    fingerprint: str | None,
    now: datetime,
    next_sync_at: datetime | None,
    *,
    platform: str | None = None,
    suspicious: bool = False,
) -> dict[str, Any]:
    """Every field of the feed after a good download (unchanged ones keep their value, so that many feeds can be
    written by one executemany)."""
    validators = download.etag or download.last_modified
    return {
        "last_attempt_at": now,
        "last_success_at": now,
        "consecutive_failures": 0,
        "in_trouble": False,
        "last_error": None,
        "last_error_detail": None,
        "suspicious_since": (feed.suspicious_since or now) if suspicious else None,
        "platform": platform or feed.platform,
        "content_hash": fingerprint if download.status == "ok" else feed.content_hash,
        "etag": download.etag if validators else feed.etag,
        "last_modified": download.last_modified if validators else feed.last_modified,
        "next_sync_at": next_sync_at or feed.next_sync_at,
    }


# --- one download, in full ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Written:
    """A BookingChange row as written, for the alerts and the outcome (no ORM entity kept around)."""

    id: int
    booking_id: int
    sync_run_id: int
    change: str
    kind: str
    before: dict[str, str] | None
    after: dict[str, str]
    alert: bool


async def apply_download(
    session: AsyncSession,
    feed_id: int,
    download: Download,
    *,
    now: datetime,
    policy: Policy = Policy(),
    health: HealthPolicy = HealthPolicy(),
    parse_cache: ParseCache | None = None,
    fingerprint: str | None = None,
    next_sync_at: datetime | None = None,
) -> SyncOutcome:
    """Record one download of a feed. The caller commits (one transaction per feed).

    `parse_cache` makes parsing incremental (same result); `fingerprint` is content_fingerprint(body) if the
    caller has it already; `next_sync_at`, if given, is when the feed is polled next."""
    found = await repositories.feed_for_sync(session, feed_id)
    if found is None:
        raise LookupError(f"feed {feed_id} does not exist")
    feed, prop = found
    tz = ZoneInfo(prop.timezone)
    today = property_today(prop, now)
    if download.status == "ok":
        fingerprint = fingerprint or content_fingerprint(download.body)
    # Parsing is the CPU-heavy step: in a worker thread the event loop (chat, deliveries, the export feeds) keeps
    # answering while a big calendar is read.
    read = await asyncio.to_thread(_read, feed, download, fingerprint, tz=tz, today=today, cache=parse_cache)
    alerts = PropertyAlerts(session, prop, now=now)
    run = _run_values(feed.id, download, now)
    if isinstance(read, tuple):
        return await _record_failure(
            session, alerts, feed, run, read, now=now, next_sync_at=next_sync_at, health=health
        )

    parsed = read
    events = parsed.events if parsed is not None else None
    platform = feed.platform
    if parsed is not None:
        run["events"], run["skipped"] = len(parsed.events), parsed.skipped
        if parsed.platform is not Platform.OTHER:
            platform = parsed.platform.value
    initial = feed.last_success_at is None
    since = today - timedelta(days=RECALL_DAYS)
    stored = {row.id: row for row in await repositories.feed_stays(session, feed.id, since=since)}
    known = [_known(row) for row in stored.values()]
    recycles_uids = platform == Platform.BOOKING
    result = await asyncio.to_thread(  # pure, and ~20 ms per 1,000 stays: off the event loop too
        reconcile,
        known,
        events,
        now=now,
        today=today,
        policy=policy,
        initial=initial,
        uids_name_first_nights=recycles_uids,
        suspicious_since=feed.suspicious_since,
    )
    echoes = {}
    if recycles_uids and feed.has_other_sources:
        echoes = await _echoes(session, prop.id, feed.id, result, stored, today=today)
    counts: dict[str, int] = {}
    for op in result.ops:
        if op.change is not None:
            counts[op.change.value] = counts.get(op.change.value, 0) + 1
    name = _success_outcome(download, events, result)
    run_id = await _insert_run(session, run | {"outcome": name, "counts": counts})
    outcome = SyncOutcome(feed.id, run_id, name, counts=counts, platform=platform)

    changes = await _apply(session, prop, feed.id, platform, run_id, result, stored, echoes, now=now)
    if events is not None:
        await _mark_seen(session, feed.id, now=now)
    values = _after_success(
        feed, download, fingerprint, now, next_sync_at, platform=platform, suspicious=result.suspicious
    )
    await sync_rows.update_feeds(session, [{"row_id": feed.id, **values}])

    if feed.in_trouble:
        outcome.alerts += await alerts.queue(
            AlertKind.FEED_RECOVERED,
            f"feed_recovered:{feed.id}:{run_id}",
            payload={"feed_id": feed.id, "platform": platform, "label": feed.label},
        )
    for change in changes:
        key = (change.kind, change.change)
        outcome.kind_counts[key] = outcome.kind_counts.get(key, 0) + 1
    outcome.alerts += await _write_alerts(alerts, feed.id, platform, changes, initial=initial)
    if changes:
        outcome.conflicts = await check_property(session, prop, now=now, today=today, alerts=alerts)
        outcome.alerts += sum(1 for event in outcome.conflicts if event.alert)
        outcome.alerts += await refresh_turnovers(session, prop, now=now, today=today)
    return outcome


def _read(
    feed: Row[Any],
    download: Download,
    fingerprint: str | None,
    *,
    tz: ZoneInfo,
    today: date,
    cache: ParseCache | None,
) -> ParsedFeed | tuple[str, str | None] | None:
    """The parsed download; None when there is nothing to parse (a 304, or the same content as the last good
    download); or the failure (reason, detail) of a failed download or of bytes that are no calendar."""
    if download.status == "failed":
        return download.reason or "network", (download.detail or "")[:2000] or None
    if download.status != "ok" or (fingerprint == feed.content_hash and feed.last_success_at is not None):
        return None
    try:
        parsed = parse_feed(
            download.body,
            tz=tz,
            url=feed.url,
            today=today,
            platform=Platform(feed.platform) if feed.platform != Platform.OTHER else None,
            cache=cache,
            cache_key=feed.id,
        )
    except FeedParseError as exc:
        return exc.reason, (exc.detail or "")[:2000] or None
    except Exception as exc:  # a parser bug must fail this download, not stop the feed for good
        log.exception("feed could not be parsed", extra={"feed_id": feed.id})
        return "invalid", f"{type(exc).__name__}: {exc}"[:2000]
    if parsed.problems:
        log.info("feed had problems", extra={"feed_id": feed.id, "problems": parsed.problems[:20]})
    return parsed


def _success_outcome(download: Download, events: list[FeedEvent] | None, result: Reconciliation) -> str:
    if result.suspicious:
        return "suspicious"
    if download.status == "not_modified":
        return "not_modified"
    return "unchanged" if events is None else "ok"


async def _insert_run(session: AsyncSession, values: dict[str, Any]) -> int:
    """The run's row, written once with its final values (its id keys the change rows and the alerts)."""
    return (await sync_rows.insert_runs(session, [values]))[values["feed_id"]]


async def _mark_seen(session: AsyncSession, feed_id: int, *, now: datetime) -> None:
    """Every stay the download listed was seen now. Once the reconciliation is written, those are exactly the
    feed's active stays (an absent one is missing, cancelled or ended), so one statement covers them all."""
    await sync_rows.mark_seen(session, feed_id, now)


_KINDS = {kind.value: kind for kind in Kind}  # a dict lookup is cheaper than an Enum call, 40 times per feed
_STATUSES = {status.value: status for status in Status}


def _known(row: Row[Any]) -> KnownStay:
    return KnownStay(
        id=row.id,
        uid=row.uid or "",
        kind=_KINDS[row.kind],
        check_in=row.check_in,
        check_out=row.check_out,
        status=_STATUSES[row.status],
        missing_since=row.missing_since,
        missing_count=row.missing_count,
        absorbed=row.absorbed_at is not None,
    )


async def _echoes(
    session: AsyncSession,
    property_id: int,
    feed_id: int,
    result: Reconciliation,
    stored: dict[int, Row[Any]],
    *,
    today: date,
) -> dict[int, Echo]:
    """Echo nights of the stays this download booked nights for, by the index of their op (§2.3: Booking.com
    closes the nights other sources sold)."""
    growing = [(i, op) for i, op in enumerate(result.ops) if _adds_nights(op)]
    if not growing:
        return {}
    holders = [
        Holder(row.id, row.check_in, row.check_out)
        for row in await repositories.other_sources_stays(session, property_id, feed_id, today=today)
    ]
    found: dict[int, Echo] = {}
    for i, op in growing:
        assert op.event is not None
        row = stored.get(op.known.id) if op.known is not None else None
        before = (op.known.check_in, op.known.check_out) if op.known is not None else None
        known_echo = from_json(row.echo_nights) if row is not None else []
        echo = echo_of((op.event.check_in, op.event.check_out), before, known_echo, holders, today=today)
        if echo.nights or known_echo:
            found[i] = echo
    return found


def _dates(check_in: date, check_out: date) -> dict[str, str]:
    return {"check_in": check_in.isoformat(), "check_out": check_out.isoformat()}


async def _apply(
    session: AsyncSession,
    prop: Property,
    feed_id: int,
    platform: str,
    run_id: int,
    result: Reconciliation,
    stored: dict[int, Row[Any]],
    echoes: dict[int, Echo],
    *,
    now: datetime,
) -> list[_Written]:
    """Write the reconciliation with a few bulk statements: only the stays that really change are updated, the
    new ones inserted at once, then the change rows (whose ids key the alerts)."""
    ops = [_quiet_echo(op, echoes.get(i)) for i, op in enumerate(result.ops)]
    # Free the UIDs that move first, so a swap of UIDs between two stays cannot trip the unique constraint. A UID
    # taken by another stay (Booking.com names a run by its first night, so a cancelled or merged stay's UID comes
    # back for someone else, §2.3) stays with its old holder, suffixed with the holder's id.
    moving = {op.known.id for op in ops if op.known and op.event and op.event.uid != op.known.uid}
    holders = {row.uid: row.id for row in stored.values() if row.uid}
    taken = {
        holder
        for op in ops
        if op.event is not None
        and (holder := holders.get(op.event.uid)) is not None
        and holder not in moving
        and (op.known is None or op.known.id != holder)
    }
    if moving or taken:
        renames = [{"row_id": i, "uid": f"~moving~{i}"} for i in moving]
        renames += [{"row_id": i, "uid": f"{stored[i].uid[:240]}~{i}"} for i in taken]
        await sync_rows.update_bookings(session, renames)
    updates = [
        values
        for i, op in enumerate(ops)
        if op.known and (values := _update_values(stored[op.known.id], op, echoes.get(i), now))
    ]
    for same_columns in _by_columns(updates):  # one executemany per set of columns
        await sync_rows.update_bookings(session, same_columns)

    inserts = [(op, echoes.get(i)) for i, op in enumerate(ops) if op.known is None]
    new_ids = await _insert_bookings(session, prop, feed_id, platform, inserts, now=now) if inserts else {}
    rows: list[dict[str, Any]] = []
    for op in ops:
        if op.change is None:
            continue
        if op.known is not None:
            booking_id = op.known.id
        else:
            assert op.event is not None
            booking_id = new_ids[op.event.uid]
        rows.append(_change_values(booking_id, stored.get(booking_id), run_id, op, now=now))
    if not rows:
        return []
    change_ids = await sync_rows.insert_changes(session, rows)
    # The audit trail: what the sync did to each stay (the change row holds the detail; the trail says who and when)
    changes = [(r["change"], r["booking_id"], {"before": r["before"], "after": r["after"]}) for r in rows]
    await sync_rows.insert_audit(session, audit_rows("job:sync", "booking", prop.id, changes, now=now))
    return [
        _Written(change_ids[r["booking_id"]], r["booking_id"], run_id, r["change"], r["kind"], r["before"],
                 r["after"], r["alert"])
        for r in rows
    ]  # fmt: skip


def _feed_owned(event: FeedEvent, stored: Row[Any] | None) -> dict[str, Any]:
    """Feed-owned fields only: what a person typed (guest_name, price, notes...) is never touched here."""
    return {
        "uid": event.uid,
        "kind": event.kind.value,
        "check_in": event.check_in,
        "check_out": event.check_out,
        "summary": event.summary[:255],  # the columns' lengths: PostgreSQL refuses longer values
        "reservation_code": (event.reservation_code or "")[:32] or (stored.reservation_code if stored else None),
        "phone_last4": (event.phone_last4 or "")[:8] or (stored.phone_last4 if stored else None),
        "feed_guest_name": (event.guest_name or "")[:200] or (stored.feed_guest_name if stored else None),
    }


def _adds_nights(op: StayOp) -> bool:
    if op.event is None or op.change is None:
        return False
    if op.known is None:
        return True
    return op.event.check_in < op.known.check_in or op.event.check_out > op.known.check_out


def _quiet_echo(op: StayOp, echo: Echo | None) -> StayOp:
    """Nights that only mirror another source's stay are not news."""
    if echo is not None and op.alert and (echo.only_echo_added or echo.of is not None):
        return replace(op, alert=False)
    return op


def _echo_values(echo: Echo | None) -> dict[str, Any]:
    if echo is None:
        return {}
    return {"echo_nights": to_json(echo.nights), "echo_of_id": echo.of}


def _update_values(stored: Row[Any], op: StayOp, echo: Echo | None, now: datetime) -> dict[str, Any] | None:
    """The UPDATE of one stored stay by primary key, or None when it would write the values it already has."""
    values: dict[str, Any] = {
        "status": op.status.value,
        "missing_since": op.missing_since,
        "missing_count": op.missing_count,
        "absorbed_at": (stored.absorbed_at or now) if op.absorbed else None,
        **_echo_values(echo),
    }
    if op.event is not None:
        values.update(_feed_owned(op.event, stored))
    if op.change is None and _same(stored, values):
        return None
    if op.change is Change.CANCELLED:
        values["cancelled_at"] = now
    elif op.change is Change.RESTORED:
        values["cancelled_at"] = None
    if op.change is not None:
        values["updated_at"] = now
    return {"row_id": stored.id, **values}


def _same(stored: Row[Any], values: dict[str, Any]) -> bool:
    current = stored._mapping  # by key: cheaper than getattr on a Row
    return all(current[name] == value for name, value in values.items())


def _by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


async def _insert_bookings(
    session: AsyncSession,
    prop: Property,
    feed_id: int,
    platform: str,
    ops: list[tuple[StayOp, Echo | None]],
    *,
    now: datetime,
) -> dict[str, int]:
    """New stays in one INSERT ... RETURNING; their ids by uid (unique within a feed)."""
    rows = []
    for op, echo in ops:
        assert op.event is not None
        rows.append(
            {
                "property_id": prop.id,
                "feed_id": feed_id,
                "source": platform,
                "export_uid": _export_uid(),
                "first_seen_at": now,
                "last_seen_at": now,
                "missing_count": 0,
                "status": Status.ACTIVE.value,
                "created_at": now,
                "echo_nights": None,
                "echo_of_id": None,
                **_echo_values(echo),
                **_feed_owned(op.event, None),
            }
        )
    return await sync_rows.insert_bookings(session, rows)


def _change_values(
    booking_id: int, stored: Row[Any] | None, run_id: int, op: StayOp, *, now: datetime
) -> dict[str, Any]:
    assert op.change is not None
    moved = op.known is not None and op.event is not None and op.event.uid != op.known.uid
    if op.event is not None:  # the booking as it now is
        uid, check_in, check_out = op.event.uid, op.event.check_in, op.event.check_out
    else:
        assert stored is not None
        uid, check_in, check_out = stored.uid, stored.check_in, stored.check_out
    before = _dates(op.known.check_in, op.known.check_out) if op.known is not None else None
    return {
        "booking_id": booking_id,
        "sync_run_id": run_id,
        "user_id": None,
        "at": now,
        "change": op.change.value,
        "kind": op.kind.value,
        "uid": uid,
        "previous_uid": op.known.uid if moved and op.known else None,
        "before": before if op.change in (Change.CHANGED, Change.REISSUED) else None,
        "after": _dates(check_in, check_out),
        "alert": op.alert,
    }


def _export_uid() -> str:
    return f"{secrets.token_hex(16)}@lumina"


async def _record_failure(
    session: AsyncSession,
    alerts: PropertyAlerts,
    feed: Row[Any],
    run: dict[str, Any],
    failure: tuple[str, str | None],
    *,
    now: datetime,
    next_sync_at: datetime | None,
    health: HealthPolicy,
) -> SyncOutcome:
    reason, detail = failure
    run_id = await _insert_run(session, run | {"outcome": "failed", "error": reason, "error_detail": detail})
    failures = feed.consecutive_failures + 1
    log.warning(
        "feed download failed",
        extra={"feed_id": feed.id, "property_id": feed.property_id, "reason": reason, "failures": failures},
    )
    since = feed.last_success_at or feed.created_at
    stale = since is not None and now - since >= health.stale_after
    trouble = not feed.in_trouble and (failures >= health.failures_for_trouble or stale)
    values = {
        "last_attempt_at": now,
        "consecutive_failures": failures,
        "last_error": reason,
        "last_error_detail": detail,
        "in_trouble": feed.in_trouble or trouble,
        "next_sync_at": next_sync_at or feed.next_sync_at,
    }
    await sync_rows.update_feeds(session, [{"row_id": feed.id, **values}])
    written = 0
    if trouble:
        written = await alerts.queue(
            AlertKind.FEED_TROUBLE,
            f"feed_trouble:{feed.id}:{run_id}",
            payload={
                "feed_id": feed.id,
                "platform": feed.platform,
                "label": feed.label,
                "reason": reason,
                "failures": failures,
                "last_success_at": feed.last_success_at.isoformat() if feed.last_success_at else None,
            },
        )
    # its alerts are counted: delivery wakes at once
    return SyncOutcome(feed.id, run_id, "failed", reason=reason, alerts=written, platform=feed.platform)


async def _write_alerts(
    alerts: PropertyAlerts, feed_id: int, platform: str, changes: list[_Written], *, initial: bool
) -> int:
    """One alert per reservation change; block changes become one summary per download; windows never speak."""
    written = 0
    for change in changes:
        if change.alert:
            payload: dict[str, Any] = {
                "booking_id": change.booking_id,
                "change": change.change,
                "kind": change.kind,
                "platform": platform,
                "feed_id": feed_id,
                **change.after,
                "previous": change.before,
            }
            written += await alerts.queue(
                BOOKING_ALERTS[change.change], f"change:{change.id}", payload=payload, booking_id=change.booking_id
            )
    blocks = [c for c in changes if c.kind == Kind.BLOCK and c.change in ("new", "changed", "cancelled")]
    if blocks and not initial:
        summary = {name: sum(1 for c in blocks if c.change == name) for name in ("new", "changed", "cancelled")}
        written += await alerts.queue(
            AlertKind.BLOCKS_SUMMARY,
            f"blocks:{feed_id}:{changes[0].sync_run_id}",
            payload={"feed_id": feed_id, "platform": platform, **summary},
        )
    return written
