"""Properties, and who may see or change them.

Roles: an owner sees and manages everything; a manager manages the properties given to them; a viewer only sees
them; a cleaner sees turnovers only (no bookings, no prices).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from storage.models import Property, PropertyAccess, User, whole_installation

MANAGE_ROLES = ("manager",)
VIEW_ROLES = ("manager", "viewer")


def visible(user: User, *, manage: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on Property: not archived, and this user may see it (or manage it when `manage`).

    Queries join it instead of fetching the ids first: a screen is then one statement."""
    if whole_installation(user):
        return Property.archived_at.is_(None)
    return and_(Property.archived_at.is_(None), _has_role(user, MANAGE_ROLES if manage else VIEW_ROLES))


def manages(user: User) -> ColumnElement[bool]:
    """A column: may this user change the property of the row? (for the buttons a screen offers)"""
    return literal(True) if whole_installation(user) else _has_role(user, MANAGE_ROLES)


def _has_role(user: User, roles: tuple[str, ...]) -> ColumnElement[bool]:
    return exists().where(
        PropertyAccess.property_id == Property.id, PropertyAccess.user_id == user.id, PropertyAccess.role.in_(roles)
    )


async def left_team(session: AsyncSession, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of these (user id, property id) pairs, those where the person no longer has a role on the property: an alert
    queued before someone left a team is not delivered after (owners and co-owners are on every team)."""
    if not pairs:
        return set()
    query = select(PropertyAccess.user_id, PropertyAccess.property_id).where(
        PropertyAccess.user_id.in_({user_id for user_id, _p in pairs})
    )
    return set(pairs) - {(user_id, property_id) for user_id, property_id in (await session.execute(query)).all()}


async def visible_property_ids(session: AsyncSession, user: User, *, manage: bool = False) -> list[int]:
    """Properties (not archived) this user may see, or manage when `manage`."""
    query = select(Property.id).where(visible(user, manage=manage)).order_by(Property.id)
    return list((await session.scalars(query)).all())


async def visible_properties(session: AsyncSession, user: User, *, manage: bool = False) -> list[Property]:
    query = select(Property).where(visible(user, manage=manage)).order_by(Property.name)
    return list((await session.scalars(query)).all())


async def property_for(session: AsyncSession, user: User, property_id: int, *, manage: bool = False) -> Property | None:
    """The property if this user may see it (or manage it); None otherwise, whatever the reason."""
    return await session.scalar(select(Property).where(Property.id == property_id, visible(user, manage=manage)))


def can_add_properties(user: User) -> bool:
    return whole_installation(user)


def new_export_token(property_id: int) -> str:
    return f"{property_id}-{secrets.token_urlsafe(24)}"  # 192 random bits


@dataclass(frozen=True, slots=True)
class PropertyDraft:
    name: str
    timezone: str
    address: str = ""
    checkin_time: time = time(15, 0)
    checkout_time: time = time(11, 0)
    capacity: int | None = None
    currency: str = "BRL"
    building_contact_name: str | None = None
    building_email: str | None = None


async def create_property(session: AsyncSession, draft: PropertyDraft, *, user: User | None, now: datetime) -> Property:
    """`user`: who added it (None: the operator, from the command line)."""
    prop = Property(
        name=draft.name,
        address=draft.address,
        timezone=draft.timezone,
        checkin_time=draft.checkin_time,
        checkout_time=draft.checkout_time,
        capacity=draft.capacity,
        currency=draft.currency,
        building_contact_name=draft.building_contact_name,
        building_email=draft.building_email,
        export_token=secrets.token_urlsafe(24),  # replaced below once the id is known
        created_by=user.id if user else None,
        created_at=now,
    )
    session.add(prop)
    await session.flush()
    prop.export_token = new_export_token(prop.id)
    await audit(session, user, "property.created", "property", prop.id, {"name": prop.name}, now=now)
    return prop


EDITABLE_FIELDS = (
    "name",
    "address",
    "timezone",
    "checkin_time",
    "checkout_time",
    "capacity",
    "currency",
    "building_contact_name",
    "building_email",
)


async def update_property(
    session: AsyncSession, prop: Property, field: str, value: Any, *, user: User, now: datetime
) -> None:
    if field not in EDITABLE_FIELDS:
        raise ValueError(field)
    before = getattr(prop, field)
    setattr(prop, field, value)
    await audit(
        session, user, "property.updated", "property", prop.id,
        {"field": field, "before": _jsonable(before), "after": _jsonable(value)}, now=now,
    )  # fmt: skip


async def archive_property(session: AsyncSession, prop: Property, *, user: User, now: datetime) -> None:
    """Archived properties disappear from every list and stop syncing; their data is kept."""
    prop.archived_at = now
    await audit(session, user, "property.archived", "property", prop.id, None, now=now)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, time) else value
