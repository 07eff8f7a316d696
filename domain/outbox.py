"""Writing alerts: one outbox row per recipient, in the transaction of the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import add_outbox_rows, outbox_row
from storage import repositories
from storage.models import INSTALLATION_ROLES, Outbox, Property, User

_OUTBOX: Table = Outbox.__table__  # type: ignore[assignment]
_RECIPIENTS = repositories.alert_recipient_chats(bindparam("of_property")).subquery()
# One INSERT ... SELECT per alert: a row per recipient, in user id order, without a round trip to read the
# recipients first (every changed feed of a sync alerts, and each statement costs a thread hand-off on SQLite).
_INSERT_ALERT = insert(_OUTBOX).from_select(
    [
        "idempotency_key",
        "user_id",
        "chat_id",
        "kind",
        "urgent",
        "property_id",
        "booking_id",
        "payload",
        "status",
        "attempts",
        "created_at",
    ],
    select(
        bindparam("key_prefix", type_=String) + cast(_RECIPIENTS.c.id, String),
        _RECIPIENTS.c.id,
        _RECIPIENTS.c.telegram_id,
        bindparam("alert_kind", type_=_OUTBOX.c.kind.type),
        bindparam("alert_urgent", type_=_OUTBOX.c.urgent.type),
        bindparam("of_property", type_=_OUTBOX.c.property_id.type),
        bindparam("alert_booking", type_=_OUTBOX.c.booking_id.type),
        bindparam("alert_payload", type_=_OUTBOX.c.payload.type),
        literal("pending", _OUTBOX.c.status.type),
        literal(0, _OUTBOX.c.attempts.type),
        bindparam("alert_at", type_=_OUTBOX.c.created_at.type),
    ).order_by(_RECIPIENTS.c.id),
)


class PropertyAlerts:
    """The alerts about one property within one transaction (the session, property and time they share)."""

    def __init__(self, session: AsyncSession, prop: Property, *, now: datetime) -> None:
        self._session, self._prop, self._now = session, prop, now

    async def queue(
        self,
        kind: str,
        key: str,
        *,
        payload: dict[str, Any],
        booking_id: int | None = None,
        urgent: bool = False,
    ) -> int:
        """Write the alert's rows now, one per recipient; returns how many. `key` makes the alert idempotent per
        recipient (the rows' keys are `key:<user id>`)."""
        result = await self._session.execute(
            _INSERT_ALERT,
            {
                "key_prefix": f"{key}:",
                "alert_kind": kind,
                "alert_urgent": urgent,
                "of_property": self._prop.id,
                "alert_booking": booking_id,
                "alert_payload": {"property": self._prop.name, **payload},
                "alert_at": self._now,
            },
        )
        return int(getattr(result, "rowcount", 0) or 0)


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
    """One alert on its own. Returns how many rows were written. `key` makes the alert idempotent per recipient."""
    alerts = PropertyAlerts(session, prop, now=now)
    return await alerts.queue(kind, key, payload=payload, booking_id=booking_id, urgent=urgent)


async def queue_owner_alert(
    session: AsyncSession, kind: str, key: str, *, now: datetime, payload: dict[str, Any]
) -> int:
    """An alert about the installation (not a property) to every active owner. Idempotent per owner by `key`."""
    owners = (
        await session.scalars(select(User).where(User.role.in_(INSTALLATION_ROLES), User.is_active.is_(True)))
    ).all()
    rows = [outbox_row(owner, kind, f"{key}:{owner.id}", now=now, payload=payload) for owner in owners]
    return await add_outbox_rows(session, rows)
