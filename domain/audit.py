"""The audit trail: every write a person or a job makes, with who, when, what, and before and after (secrets
masked). One writer (`audit`), one reader (`events`, for /audit and its CSV), one prune (`prune_audit`). The log is
append-only from the application's side: storage/audit_guard.py refuses any other change to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit_guard import PRUNING
from storage.models import AuditLog, Booking, Conflict, Feed, Property, User

MASK = "•••"
# Keys whose values never reach the log: credentials, the export links' secret, what opens the door.
SECRET_KEYS = ("token", "password", "secret", "door_code", "wifi", "access_instructions")
_PROPERTY_OF = {"booking": Booking, "feed": Feed, "conflict": Conflict}


def masked(value: Any) -> Any:
    """`value` with every secret masked, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if any(s in str(k).lower() for s in SECRET_KEYS) else masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


async def audit(
    session: AsyncSession,
    user: User | None,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any] | None = None,
    *,
    now: datetime,
    actor: str | None = None,
    property_id: int | None = None,
) -> None:
    """Record one event. `user` is the person who did it; a job passes None and names itself in `actor`."""
    if property_id is None:
        property_id = await _property_of(session, entity, entity_id)
    session.add(
        AuditLog(
            at=now,
            user_id=user.id if user else None,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            property_id=property_id,
            details=masked(details) if details else None,
        )
    )


async def _property_of(session: AsyncSession, entity: str, entity_id: int | None) -> int | None:
    if entity_id is None:
        return None
    if entity == "property":
        return entity_id
    model = _PROPERTY_OF.get(entity)
    found = await session.get(model, entity_id) if model is not None else None  # mostly in the session already
    return getattr(found, "property_id", None)


def audit_rows(
    actor: str, entity: str, property_id: int, changes: Sequence[tuple[str, int, dict[str, Any]]], *, now: datetime
) -> list[dict[str, Any]]:
    """A job's many events as plain rows, for one statement: (what happened, to which entity id, details)."""
    return [
        {
            "at": now,
            "user_id": None,
            "actor": actor,
            "action": f"{entity}.{what}",
            "entity": entity,
            "entity_id": entity_id,
            "property_id": property_id,
            "details": masked(details),
        }
        for what, entity_id, details in changes
    ]


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    row: AuditLog
    person: str | None  # the person's first name, or None for a job
    property_name: str | None


async def events(
    session: AsyncSession,
    *,
    property_id: int | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Event], int]:
    """The newest events first, filtered; and how many match in all."""
    conditions = []
    if property_id:
        conditions.append(AuditLog.property_id == property_id)
    if user_id:
        conditions.append(AuditLog.user_id == user_id)
    if since is not None:
        conditions.append(AuditLog.at >= since)
    total = int(await session.scalar(select(func.count()).select_from(AuditLog).where(*conditions)) or 0)
    query = (
        select(AuditLog, User.first_name, Property.name)
        .outerjoin(User, User.id == AuditLog.user_id)
        .outerjoin(Property, Property.id == AuditLog.property_id)
        .where(*conditions)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    return [Event(row, person, name) for row, person, name in rows], total


async def people_in_log(session: AsyncSession) -> list[tuple[int, str]]:
    """(user id, first name) of everyone who appears in the log, for the person filter."""
    query = select(User.id, User.first_name).where(User.id.in_(select(AuditLog.user_id).distinct())).order_by(User.id)
    return [(user_id, name) for user_id, name in (await session.execute(query)).all()]


async def prune_audit(session: AsyncSession, *, before: datetime) -> int:
    """The one deletion the log allows: events older than the retention."""
    result = await session.execute(delete(AuditLog).where(AuditLog.at < before).execution_options(**{PRUNING: True}))
    return max(int(getattr(result, "rowcount", 0) or 0), 0)
