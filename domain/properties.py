"""Properties and who may see them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Property, PropertyAccess, User


async def visible_property_ids(session: AsyncSession, user: User) -> list[int]:
    """Owners see every property that is not archived; everyone else only those they were given."""
    query = select(Property.id).where(Property.archived_at.is_(None))
    if user.role != "owner":
        query = query.join(PropertyAccess, PropertyAccess.property_id == Property.id).where(
            PropertyAccess.user_id == user.id
        )
    return list((await session.scalars(query.order_by(Property.id))).all())
