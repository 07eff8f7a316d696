"""Check-in reminders (the day before, in the evening) and check-out reminders (the morning of the day), in the
property's local time. due_reminders() is pure; queue_reminders() writes the outbox rows, each with an
idempotency key that includes the date it reminds of, so a second run adds nothing and a moved stay gets a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import add_outbox_rows, outbox_row, wants
from domain.time import local_instant
from storage import repositories
from storage.models import Booking, Property, User, hosted

MIN_WINDOW = timedelta(hours=2)  # even when the reminder hour is after the check-in/out time itself

ReminderKind = Literal["checkin_reminder", "checkout_reminder"]


@dataclass(frozen=True, slots=True)
class ReminderTimes:
    checkin: time = time(18, 0)  # the day before check-in
    checkout: time = time(8, 0)  # the day of check-out


@dataclass(frozen=True, slots=True)
class DueReminder:
    kind: ReminderKind
    booking_id: int
    day: date  # the check-in or check-out date it is about


def reminder_window(
    kind: ReminderKind, day: date, *, zone: ZoneInfo, times: ReminderTimes, event_time: time
) -> tuple[datetime, datetime]:
    """[from, until) in UTC. From: the reminder hour (the evening before a check-in, the morning of a check-out).
    Until: the check-in/out time itself, since a reminder after it is noise; at least MIN_WINDOW long."""
    start_day, at = (day - timedelta(days=1), times.checkin) if kind == "checkin_reminder" else (day, times.checkout)
    start = local_instant(start_day, at, zone)
    return start, max(local_instant(day, event_time, zone), start + MIN_WINDOW)


def due_reminders(
    now: datetime, bookings: Iterable[Booking], properties: dict[int, Property], times: ReminderTimes
) -> list[DueReminder]:
    """The reminders due at `now` for these live reservations."""
    due = []
    for booking in bookings:
        prop = properties[booking.property_id]
        zone = ZoneInfo(prop.timezone)
        events: tuple[tuple[ReminderKind, date, time], ...] = (
            ("checkin_reminder", booking.check_in, prop.checkin_time),
            ("checkout_reminder", booking.check_out, prop.checkout_time),
        )
        for kind, day, event_time in events:
            start, until = reminder_window(kind, day, zone=zone, times=times, event_time=event_time)
            if start <= now < until:
                due.append(DueReminder(kind, booking.id, day))
    return due


def reminder_payload(reminder: DueReminder, booking: Booking, prop: Property) -> dict[str, Any]:
    return {
        "property": prop.name,
        "booking_id": booking.id,
        "platform": booking.source,
        "guest": booking.guest_name or booking.feed_guest_name,
        "guests": booking.guests_count,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "time": (prop.checkin_time if reminder.kind == "checkin_reminder" else prop.checkout_time).strftime("%H:%M"),
    }


async def queue_reminders(session: AsyncSession, *, now: datetime, times: ReminderTimes) -> int:
    """Queue every reminder due now that was not queued before. Returns how many rows were new."""
    # Every zone's "today" lies within a day of the UTC date, so this window holds every candidate.
    low, high = now.date() - timedelta(days=1), now.date() + timedelta(days=2)
    rows = (
        await session.execute(
            select(Booking, Property)
            .join(Property, Property.id == Booking.property_id)
            .where(
                Property.archived_at.is_(None),
                hosted(),
                Booking.kind == "reservation",
                or_(
                    and_(Booking.check_in >= low, Booking.check_in <= high),
                    and_(Booking.check_out >= low, Booking.check_out <= high),
                ),
            )
            .order_by(Booking.id)
        )
    ).all()
    bookings = {booking.id: booking for booking, _prop in rows}
    properties = {prop.id: prop for _booking, prop in rows}
    recipients: dict[int, Sequence[User]] = {}
    new_rows = []
    for reminder in due_reminders(now, bookings.values(), properties, times):
        booking = bookings[reminder.booking_id]
        prop = properties[booking.property_id]
        if prop.id not in recipients:
            recipients[prop.id] = await repositories.alert_recipients(session, prop.id)
        payload = reminder_payload(reminder, booking, prop)
        prefix = "checkin" if reminder.kind == "checkin_reminder" else "checkout"
        for user in recipients[prop.id]:
            if wants(user.alert_kinds, reminder.kind, payload):
                key = f"{prefix}:{booking.id}:{reminder.day.isoformat()}:{user.id}"
                new_rows.append(
                    outbox_row(
                        user, reminder.kind, key, now=now, payload=payload, property_id=prop.id, booking_id=booking.id
                    )
                )
    return await add_outbox_rows(session, new_rows)
