"""Writing alerts: one outbox row per recipient, in the transaction of the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories
from storage.models import Outbox, Property


async def queue_alert(
    session: AsyncSession,
    prop: Property,
    kind: str,
    key: str,
    *,
    now: datetime,
    payload: dict[str, Any],
    booking_id: int | None = None,
    urgent: bool = False,
) -> int:
    """Returns how many rows were written. `key` makes the alert idempotent per recipient."""
    recipients = await repositories.alert_recipients(session, prop.id)
    for user in recipients:
        session.add(
            Outbox(
                idempotency_key=f"{key}:{user.id}",
                user_id=user.id,
                chat_id=user.telegram_id,
                kind=kind,
                urgent=urgent,
                property_id=prop.id,
                booking_id=booking_id,
                payload={"property": prop.name, **payload},
                status="pending",
                created_at=now,
            )
        )
    return len(recipients)
