"""What a platform's mail changes: it is matched to its stay (by reservation code, else by the listing the host
mapped once and the dates) and fills only what nobody has filled in; the host hears it once, in the booking's
thread. A mail that matches no stay is listed for the host to attach or ignore; a cancellation of a stay the feed
still shows is news (the feed follows within hours) and cancels nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.mail.building import tell
from domain.mail.platforms import PlatformMessage
from storage.models import LIVE_STATUSES, Booking, ListingMap, PlatformMail, Property


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # filled | matched | unmatched | news | duplicate
    booking_id: int | None = None
    filled: tuple[str, ...] = ()


async def already_read(session: AsyncSession, folder: str, uidvalidity: int, uid: int, message_id: str | None) -> bool:
    query = select(PlatformMail.id).where(PlatformMail.folder == folder, PlatformMail.uidvalidity == uidvalidity,
                                          PlatformMail.uid == uid)  # fmt: skip
    if await session.scalar(query) is not None:
        return True
    if message_id:  # UIDVALIDITY changed (a mailbox rebuilt): the same mail under new UIDs is still read once
        return await session.scalar(select(PlatformMail.id).where(PlatformMail.message_id == message_id)) is not None
    return False


async def find_stay(session: AsyncSession, found: PlatformMessage) -> Booking | None:
    if found.reservation_code:
        stay = await session.scalar(
            select(Booking).where(Booking.reservation_code == found.reservation_code).order_by(Booking.id.desc())
        )
        if stay is not None:
            return stay
    if found.listing and found.check_in and found.check_out:
        mapped = await session.scalar(select(ListingMap.property_id).where(
            ListingMap.platform == found.platform, ListingMap.listing == found.listing))  # fmt: skip
        if mapped is not None:
            return await session.scalar(
                select(Booking).where(Booking.property_id == mapped, Booking.source == found.platform,
                                      Booking.kind.in_(("reservation", "tentative")),
                                      Booking.check_in == found.check_in, Booking.check_out == found.check_out)
                .order_by(Booking.id.desc())
            )  # fmt: skip
    return None


def fill(booking: Booking, found: PlatformMessage, *, now: datetime) -> tuple[str, ...]:
    """Fill only what is empty: never overwrite what a person entered."""
    filled = []
    if found.guest_name and not booking.guest_name:
        booking.guest_name = found.guest_name
        filled.append("guest_name")
    if found.guests and booking.guests_count is None:
        booking.guests_count = found.guests
        filled.append("guests_count")
    if found.amount is not None and booking.price is None:
        booking.price, booking.currency = found.amount, found.currency or booking.currency
        filled.append("price")
    if found.phone and not booking.guest_phone:
        booking.guest_phone = found.phone[:40]
        filled.append("guest_phone")
    if found.reservation_code and not booking.reservation_code:
        booking.reservation_code = found.reservation_code
    if filled:
        booking.updated_at = now
    return tuple(filled)


async def record(
    session: AsyncSession, found: PlatformMessage, *, folder: str, uidvalidity: int, uid: int, now: datetime,
    dry_run: bool = False,
) -> Outcome:  # fmt: skip
    """Match, fill and tell; with `dry_run` only say what would happen (nothing is written)."""
    stay = await find_stay(session, found)
    prop = await session.get(Property, stay.property_id) if stay is not None else None
    status = "unmatched"
    filled: tuple[str, ...] = ()
    if stay is not None and prop is not None:
        if found.event == "cancelled":
            status = "news" if stay.status in LIVE_STATUSES else "matched"
        else:
            filled = _would_fill(stay, found, now=now) if dry_run else fill(stay, found, now=now)
            status = "filled" if filled else "matched"
    if dry_run:
        return Outcome(status, stay.id if stay else None, filled)
    row = PlatformMail(folder=folder, uidvalidity=uidvalidity, uid=uid, message_id=found.message_id,
                       platform=found.platform, event=found.event, reservation_code=found.reservation_code,
                       listing=found.listing, details={**found.details(), "filled": list(filled)}, status=status,
                       property_id=prop.id if prop else None, booking_id=stay.id if stay else None,
                       received_at=_received(found), created_at=now)  # fmt: skip
    session.add(row)
    await session.flush()
    await _tell(session, row, found, prop, stay, filled, now=now)
    return Outcome(status, stay.id if stay else None, filled)


def _would_fill(stay: Booking, found: PlatformMessage, *, now: datetime) -> tuple[str, ...]:
    copy = Booking(guest_name=stay.guest_name, guests_count=stay.guests_count, price=stay.price,
                   guest_phone=stay.guest_phone, reservation_code=stay.reservation_code,
                   currency=stay.currency)  # fmt: skip
    return fill(copy, found, now=now)


def _received(found: PlatformMessage) -> datetime | None:
    value = found.extra.get("received")
    return datetime.fromisoformat(value) if value else None


async def _tell(session: AsyncSession, row: PlatformMail, found: PlatformMessage, prop: Property | None,
                stay: Booking | None, filled: tuple[str, ...], *, now: datetime) -> None:  # fmt: skip
    payload: dict[str, Any] = {"mail_id": row.id, "status": row.status, "platform": found.platform,
                               "event": found.event, "code": found.reservation_code, "listing": found.listing,
                               "filled": list(filled), **found.details()}  # fmt: skip
    if stay is not None:
        payload |= {"booking_id": stay.id, "stay_check_in": stay.check_in.isoformat(),
                    "stay_check_out": stay.check_out.isoformat()}  # fmt: skip
        if stay.price is not None:
            payload |= {"amount": str(stay.price), "currency": stay.currency}
    if row.status in ("filled", "news") and prop is not None:
        await tell(session, prop, "platform_mail", f"platform_mail:{row.id}", now=now, payload=payload,
                   booking_id=stay.id if stay else None)  # fmt: skip
    elif row.status == "unmatched":
        await _tell_owners(session, row, payload, now=now)


async def _tell_owners(session: AsyncSession, row: PlatformMail, payload: dict[str, Any], *, now: datetime) -> None:
    from domain.outbox import queue_owner_alert

    await queue_owner_alert(session, "platform_mail", f"platform_mail:{row.id}", now=now, payload=payload)


# --- the host's answer to an unmatched mail ------------------------------------------------------------------------


async def candidates(session: AsyncSession, mail: PlatformMail, *, limit: int = 6) -> list[tuple[Property, Booking]]:
    """Live stays of the mail's platform starting on its check-in date (or any, if the mail had no dates)."""
    check_in = (mail.details or {}).get("check_in")
    query = (
        select(Property, Booking).join(Booking, Booking.property_id == Property.id)
        .where(Booking.status.in_(LIVE_STATUSES), Booking.kind.in_(("reservation", "tentative")),
               Property.archived_at.is_(None))
    )  # fmt: skip
    if check_in:
        query = query.where(Booking.check_in == date.fromisoformat(check_in))
    rows = await session.execute(query.order_by(Booking.source != mail.platform, Booking.check_in).limit(limit))
    return [(p, b) for p, b in rows.all()]


async def attach(session: AsyncSession, mail: PlatformMail, stay: Booking, *, now: datetime) -> tuple[str, ...]:
    """The host says which stay the mail is about: fill it, and remember the listing for that property."""
    details = mail.details or {}
    found = PlatformMessage(
        platform=mail.platform, event=mail.event, reservation_code=mail.reservation_code, listing=mail.listing,
        guest_name=details.get("guest_name"), guests=details.get("guests"),
        amount=Decimal(details["amount"]) if details.get("amount") else None, currency=details.get("currency"),
        phone=details.get("phone"),
    )  # fmt: skip
    filled = fill(stay, found, now=now) if mail.event != "cancelled" else ()
    mail.status, mail.booking_id, mail.property_id = ("filled" if filled else "matched"), stay.id, stay.property_id
    mail.details = {**details, "filled": list(filled)}
    if mail.listing:
        exists = await session.scalar(select(ListingMap.id).where(ListingMap.platform == mail.platform,
                                                                  ListingMap.listing == mail.listing))  # fmt: skip
        if exists is None:
            session.add(ListingMap(platform=mail.platform, listing=mail.listing, property_id=stay.property_id))
    await session.flush()
    return filled
