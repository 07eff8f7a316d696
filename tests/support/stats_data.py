"""A small, known month of stays for the tests of the numbers (storage, `lumina stats`, /stats in the chat)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.stats import month_start
from storage.models import Booking, BookingChange, Feed, Property

SEEN = datetime(2020, 1, 1, tzinfo=UTC)


async def add_stay(
    session: AsyncSession,
    prop: Property,
    feed: Feed | None,
    check_in: date,
    check_out: date,
    *,
    source: str | None = None,
    kind: str = "reservation",
    status: str = "active",
    price: str | None = None,
    guests: int | None = None,
    first_seen_at: datetime = SEEN,
    news: bool = False,
    echo_of_id: int | None = None,
) -> Booking:
    uid = secrets.token_hex(6)
    booking = Booking(
        property_id=prop.id,
        feed_id=feed.id if feed else None,
        source=source or (feed.platform if feed else "direct"),
        kind=kind,
        status=status,
        uid=uid if feed else None,
        export_uid=f"{uid}@test",
        check_in=check_in,
        check_out=check_out,
        price=Decimal(price) if price is not None else None,
        currency=prop.currency if price is not None else None,
        guests_count=guests,
        first_seen_at=first_seen_at,
        echo_of_id=echo_of_id,
    )
    session.add(booking)
    await session.flush()
    if news:
        session.add(BookingChange(booking_id=booking.id, at=first_seen_at, change="new", kind=kind, alert=True))
    return booking


async def seed_month(session: AsyncSession, first: date) -> dict[str, int]:
    """Apto 101 (BRL) in the month starting `first` (N nights): booked 3 + 5 + 4 = 12 nights, 2 blocked, so N - 2
    available; R$ 900 + R$ 400 = R$ 1.300 over 7 priced nights (ADR R$ 185,71), 5 nights without a price; 3 stays
    of 3, 5 and 5 nights; lead times 30 days and (N - 4) days; 1 cancellation; Airbnb 3 nights, Booking.com 5,
    direct 4. Beach house (USD): 2 nights, US$ 300. An archived property, whose stay counts nowhere."""
    day = lambda n: first + timedelta(days=n - 1)  # noqa: E731
    flat = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token=secrets.token_hex(8), currency="BRL")
    beach = Property(name="Beach house", timezone="America/New_York", export_token=secrets.token_hex(8),
                     currency="USD")  # fmt: skip
    old = Property(name="Old flat", timezone="America/Sao_Paulo", export_token=secrets.token_hex(8),
                   archived_at=SEEN)  # fmt: skip
    session.add_all([flat, beach, old])
    await session.flush()
    airbnb = Feed(property_id=flat.id, url="https://www.airbnb.com/calendar/ical/1.ics", platform="airbnb")
    booking = Feed(property_id=flat.id, url="https://admin.booking.com/hotel/ical/1.ics", platform="booking")
    session.add_all([airbnb, booking])
    await session.flush()
    # 3 nights, ended (gone from the feed after check-out), R$ 900, booked 30 days before (seen as news)
    ended = await add_stay(session, flat, airbnb, day(3), day(6), status="ended", price="900.00", guests=2,
                     first_seen_at=datetime.combine(day(3) - timedelta(days=30), datetime.min.time(), UTC)
                     + timedelta(hours=15), news=True)  # fmt: skip
    await add_stay(session, flat, booking, day(3), day(6), echo_of_id=ended.id)  # Booking.com's closure: an echo
    await add_stay(session, flat, booking, day(10), day(15), guests=3)  # 5 nights, no price
    await add_stay(session, flat, airbnb, day(20), day(22), status="cancelled", price="450.00")
    await add_stay(session, flat, airbnb, day(20), day(21), kind="tentative")
    await add_stay(session, flat, airbnb, day(1), day(28), kind="window")
    await add_stay(session, flat, airbnb, day(17), day(19), kind="block", status="ended")  # 2 nights blocked
    # direct, 5 nights: the month's last 4 and the next month's first: R$ 500 -> R$ 400 inside; booked on the 1st
    end = month_start(first, 1)
    await add_stay(session, flat, None, end - timedelta(days=4), end + timedelta(days=1), price="500.00",
                   first_seen_at=datetime.combine(day(1), datetime.min.time(), UTC) + timedelta(hours=12))  # fmt: skip
    await add_stay(session, beach, None, day(2), day(4), price="300.00", guests=4)
    await add_stay(session, old, None, day(2), day(4), price="999.00")
    await session.flush()
    return {"flat": flat.id, "beach": beach.id, "old": old.id}
