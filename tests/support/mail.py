"""Bookings ready for the building's authorization (nothing missing), for the mail tests."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Guest, MailSettings, Property, User


async def ready_booking(
    session: AsyncSession, *, telegram_id: int = 1, check_in: date = date(2027, 8, 12),
    check_out: date = date(2027, 8, 15), mode: str = "ask", now: datetime | None = None,
    addresses: tuple[str, ...] = ("portaria@predio.test",), locale: str = "pt_BR", source: str = "airbnb",
) -> tuple[User, Property, Booking]:  # fmt: skip
    owner = User(telegram_id=telegram_id, first_name="Ana", role="owner", locale="en")
    info = {"host_name": "Ana Lima", "host_document": "", "city": "Rio de Janeiro"}
    prop = Property(name="Apto 101", address="Rua das Flores, 100", timezone="America/Sao_Paulo",
                    export_token=f"{telegram_id}-x", currency="BRL", private_info=info)  # fmt: skip
    session.add_all([owner, prop])
    await session.flush()
    booking = Booking(property_id=prop.id, source=source, kind="reservation", export_uid=f"x{telegram_id}@lumina",
                      uid=f"u{telegram_id}", check_in=check_in, check_out=check_out, feed_guest_name="Maria Souza",
                      guests_count=1, vehicle_plate="ABC1D23", first_seen_at=now)  # fmt: skip
    session.add(booking)
    await session.flush()
    session.add(Guest(booking_id=booking.id, position=0, full_name="Maria Souza", document_type="CPF",
                      document_number="123.456.789-09"))  # fmt: skip
    session.add(MailSettings(property_id=prop.id, addresses=list(addresses), mode=mode, locale=locale, body=None))
    await session.flush()
    return owner, prop, booking
