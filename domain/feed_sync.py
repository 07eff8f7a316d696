"""Apply one download of one feed: parse, reconcile, and write bookings, changes, health and alerts in one
transaction. The scheduled sync, `/sync`, `lumina sync` and `lumina replay` all come through here."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.model import FeedEvent, FeedParseError, Kind, Platform
from domain.calendar.parse import parse_feed
from domain.calendar.reconcile import Change, KnownStay, Policy, Reconciliation, Status, StayOp, reconcile
from domain.conflict_check import ConflictEvent, check_property
from domain.outbox import queue_alert
from domain.turnovers import refresh_turnovers
from storage import repositories
from storage.models import Booking, BookingChange, Feed, Property, SyncRun

log = logging.getLogger("lumina.sync")

# A cancelled or ended stay can come back this long after its check-out (platforms keep past stays 0-2 days).
RECALL_DAYS = 3
_DTSTAMP = re.compile(rb"^DTSTAMP[;:][^\r\n]*\r?\n", re.MULTILINE)


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
    feed_id: int
    run_id: int
    outcome: str  # ok | unchanged | not_modified | failed | suspicious
    reason: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[BookingChange] = field(default_factory=list)
    conflicts: list[ConflictEvent] = field(default_factory=list)
    alerts: int = 0


def content_fingerprint(body: bytes) -> str:
    """Hash of the body without DTSTAMP lines, which Airbnb and Booking.com rewrite on every download (§1.4)."""
    return hashlib.sha256(_DTSTAMP.sub(b"", body)).hexdigest()


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


async def apply_download(
    session: AsyncSession,
    feed_id: int,
    download: Download,
    *,
    now: datetime,
    policy: Policy = Policy(),
    health: HealthPolicy = HealthPolicy(),
) -> SyncOutcome:
    """Record one download of a feed. The caller commits (one transaction per feed)."""
    found = await repositories.feed_with_property(session, feed_id)
    if found is None:
        raise LookupError(f"feed {feed_id} does not exist")
    feed, prop = found
    tz = ZoneInfo(prop.timezone)
    today = local_today(now, tz)
    run = SyncRun(
        feed_id=feed.id, started_at=now, outcome="failed", http_status=download.http_status, bytes=len(download.body)
    )
    session.add(run)
    await session.flush()
    outcome = SyncOutcome(feed.id, run.id, "failed")

    events: list[FeedEvent] | None = None
    fingerprint: str | None = None
    failure: tuple[str, str | None] | None = None
    if download.status == "failed":
        failure = (download.reason or "network", download.detail)
    elif download.status == "ok":
        fingerprint = content_fingerprint(download.body)
        if fingerprint != feed.content_hash or feed.last_success_at is None:
            try:
                parsed = parse_feed(
                    download.body,
                    tz=tz,
                    url=feed.url,
                    today=today,
                    platform=Platform(feed.platform) if feed.platform != Platform.OTHER else None,
                )
            except FeedParseError as exc:
                failure = (exc.reason, exc.detail)
            else:
                events = parsed.events
                run.events, run.skipped = len(parsed.events), parsed.skipped
                if parsed.platform is not Platform.OTHER:
                    feed.platform = parsed.platform.value
                if parsed.problems:
                    log.info("feed had problems", extra={"feed_id": feed.id, "problems": parsed.problems[:20]})

    feed.last_attempt_at = now
    if failure is not None:
        await _record_failure(session, feed, prop, run, failure, now=now, health=health)
        outcome.reason = failure[0]
        run.finished_at = now
        return outcome

    initial = feed.last_success_at is None
    stored = await repositories.feed_stays(session, feed.id, since=today - timedelta(days=RECALL_DAYS))
    by_id = {booking.id: booking for booking in stored}
    result = reconcile([_known(b) for b in stored], events, now=now, today=today, policy=policy, initial=initial)
    changes = await _apply(session, prop, feed, run, result, by_id, now=now)

    await _record_success(session, feed, prop, run, now=now)
    if download.status == "ok":
        feed.content_hash = fingerprint
    if download.etag or download.last_modified:
        feed.etag, feed.last_modified = download.etag, download.last_modified
    feed.suspicious_since = now if result.suspicious else None

    counts: dict[str, int] = {}
    for change in changes:
        counts[change.change] = counts.get(change.change, 0) + 1
    outcome.outcome = (
        "suspicious"
        if result.suspicious
        else ("not_modified" if download.status == "not_modified" else "unchanged" if events is None else "ok")
    )
    run.outcome, run.counts, run.finished_at = outcome.outcome, counts, now
    outcome.counts, outcome.changes = counts, changes
    outcome.alerts = await _write_alerts(session, prop, feed, changes, initial=initial, now=now)
    if changes:
        outcome.conflicts = await check_property(session, prop, now=now, today=today)
        outcome.alerts += sum(1 for event in outcome.conflicts if event.alert)
        outcome.alerts += await refresh_turnovers(session, prop, now=now, today=today)
    return outcome


def _known(booking: Booking) -> KnownStay:
    return KnownStay(
        id=booking.id,
        uid=booking.uid or "",
        kind=Kind(booking.kind),
        check_in=booking.check_in,
        check_out=booking.check_out,
        status=Status(booking.status),
        missing_since=booking.missing_since,
        missing_count=booking.missing_count,
    )


def _dates(check_in: date, check_out: date) -> dict[str, str]:
    return {"check_in": check_in.isoformat(), "check_out": check_out.isoformat()}


async def _apply(
    session: AsyncSession,
    prop: Property,
    feed: Feed,
    run: SyncRun,
    result: Reconciliation,
    by_id: dict[int, Booking],
    *,
    now: datetime,
) -> list[BookingChange]:
    changes: list[BookingChange] = []
    # Free the UIDs that move first, so a swap of UIDs between two stays cannot trip the unique constraint.
    moving = [op for op in result.ops if op.known and op.event and op.event.uid != op.known.uid]
    for op in moving:
        assert op.known is not None
        by_id[op.known.id].uid = f"~moving~{op.known.id}"
    if moving:
        await session.flush()

    for op in result.ops:
        if op.known is None:
            assert op.event is not None
            booking = Booking(
                property_id=prop.id,
                feed_id=feed.id,
                source=feed.platform,
                export_uid=_export_uid(),
                first_seen_at=now,
                missing_count=0,
                status=Status.ACTIVE.value,
                created_at=now,
            )
            _copy_event(booking, op.event)
            booking.last_seen_at = now
            session.add(booking)
            await session.flush()
            before = None
        else:
            booking = by_id[op.known.id]
            before = _dates(op.known.check_in, op.known.check_out)
            _update(booking, op, now=now)
        if op.change is not None:
            change = _change_row(booking, run, op, before, now=now)
            session.add(change)
            changes.append(change)
    if changes:
        await session.flush()
    return changes


def _update(booking: Booking, op: StayOp, *, now: datetime) -> None:
    booking.status = op.status.value
    booking.missing_since, booking.missing_count = op.missing_since, op.missing_count
    if op.event is not None:
        _copy_event(booking, op.event)
        booking.last_seen_at = now
    if op.change is Change.CANCELLED:
        booking.cancelled_at = now
    elif op.change is Change.RESTORED:
        booking.cancelled_at = None
    if op.change is not None:
        booking.updated_at = now


def _copy_event(booking: Booking, event: FeedEvent) -> None:
    """Feed-owned fields only: what a person typed (guest_name, price, notes...) is never touched here."""
    booking.uid = event.uid
    booking.kind = event.kind.value
    booking.check_in, booking.check_out = event.check_in, event.check_out
    booking.summary = event.summary[:255]
    booking.reservation_code = event.reservation_code or booking.reservation_code
    booking.phone_last4 = event.phone_last4 or booking.phone_last4
    booking.feed_guest_name = event.guest_name or booking.feed_guest_name


def _change_row(
    booking: Booking, run: SyncRun, op: StayOp, before: dict[str, str] | None, *, now: datetime
) -> BookingChange:
    assert op.change is not None
    moved = op.known is not None and op.event is not None and op.event.uid != op.known.uid
    return BookingChange(
        booking_id=booking.id,
        sync_run_id=run.id,
        at=now,
        change=op.change.value,
        kind=op.kind.value,
        uid=booking.uid,
        previous_uid=op.known.uid if moved and op.known else None,
        before=before if op.change in (Change.CHANGED, Change.REISSUED) else None,
        after=_dates(booking.check_in, booking.check_out),
        alert=op.alert,
    )


def _export_uid() -> str:
    return f"{secrets.token_hex(16)}@lumina"


async def _record_failure(
    session: AsyncSession,
    feed: Feed,
    prop: Property,
    run: SyncRun,
    failure: tuple[str, str | None],
    *,
    now: datetime,
    health: HealthPolicy,
) -> None:
    reason, detail = failure
    run.outcome, run.error, run.error_detail = "failed", reason, (detail or "")[:2000] or None
    feed.consecutive_failures += 1
    feed.last_error, feed.last_error_detail = reason, run.error_detail
    log.warning(
        "feed download failed",
        extra={"feed_id": feed.id, "property_id": prop.id, "reason": reason, "failures": feed.consecutive_failures},
    )
    since = feed.last_success_at or feed.created_at
    stale = since is not None and now - since >= health.stale_after
    if not feed.in_trouble and (feed.consecutive_failures >= health.failures_for_trouble or stale):
        feed.in_trouble = True
        await queue_alert(
            session,
            prop,
            "feed_trouble",
            f"feed_trouble:{feed.id}:{run.id}",
            now=now,
            payload={
                "feed_id": feed.id,
                "platform": feed.platform,
                "label": feed.label,
                "reason": reason,
                "failures": feed.consecutive_failures,
                "last_success_at": feed.last_success_at.isoformat() if feed.last_success_at else None,
            },
        )


async def _record_success(session: AsyncSession, feed: Feed, prop: Property, run: SyncRun, *, now: datetime) -> None:
    if feed.in_trouble:
        await queue_alert(
            session,
            prop,
            "feed_recovered",
            f"feed_recovered:{feed.id}:{run.id}",
            now=now,
            payload={
                "feed_id": feed.id,
                "platform": feed.platform,
                "label": feed.label,
            },
        )
    feed.in_trouble = False
    feed.consecutive_failures = 0
    feed.last_success_at = now
    feed.last_error = feed.last_error_detail = None


async def _write_alerts(
    session: AsyncSession, prop: Property, feed: Feed, changes: list[BookingChange], *, initial: bool, now: datetime
) -> int:
    """One alert per reservation change; block changes become one summary per download; windows never speak."""
    written = 0
    for change in changes:
        if change.alert:
            payload: dict[str, Any] = {
                "booking_id": change.booking_id,
                "change": change.change,
                "kind": change.kind,
                "platform": feed.platform,
                "feed_id": feed.id,
                **(change.after or {}),
                "previous": change.before,
            }
            written += await queue_alert(
                session,
                prop,
                f"booking_{change.change}",
                f"change:{change.id}",
                now=now,
                payload=payload,
                booking_id=change.booking_id,
            )
    blocks = [c for c in changes if c.kind == Kind.BLOCK and c.change in ("new", "changed", "cancelled")]
    if blocks and not initial:
        summary = {name: sum(1 for c in blocks if c.change == name) for name in ("new", "changed", "cancelled")}
        written += await queue_alert(
            session,
            prop,
            "blocks_summary",
            f"blocks:{feed.id}:{changes[0].sync_run_id}",
            now=now,
            payload={"feed_id": feed.id, "platform": feed.platform, **summary},
        )
    return written
