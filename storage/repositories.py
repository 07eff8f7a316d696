"""Queries that more than one service needs. Plain functions over an AsyncSession."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Feed, Property, PropertyAccess, User

ALERT_ROLES = ("manager", "viewer")  # per-property roles that get booking alerts; cleaners get turnovers only


async def alert_recipients(session: AsyncSession, property_id: int) -> Sequence[User]:
    """Active users who should hear about bookings of this property: owners, and its managers and viewers."""
    access = select(PropertyAccess.user_id).where(
        PropertyAccess.property_id == property_id, PropertyAccess.role.in_(ALERT_ROLES)
    )
    query = select(User).where(User.is_active.is_(True), or_(User.role == "owner", User.id.in_(access)))
    return (await session.scalars(query.order_by(User.id))).all()


async def feed_stays(session: AsyncSession, feed_id: int, *, since: date) -> Sequence[Booking]:
    """The stays of a feed that a download can still speak about: live ones, and recent ones that may come back."""
    query = select(Booking).where(
        Booking.feed_id == feed_id,
        or_(Booking.status.in_(("active", "missing")), Booking.check_out >= since),
    )
    return (await session.scalars(query.order_by(Booking.id))).all()


async def feed_with_property(session: AsyncSession, feed_id: int) -> tuple[Feed, Property] | None:
    row = (
        await session.execute(
            select(Feed, Property).join(Property, Feed.property_id == Property.id).where(Feed.id == feed_id)
        )
    ).first()
    return (row[0], row[1]) if row else None
