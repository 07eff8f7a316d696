"""The audit trail in the database: append-only from the application's side, secrets masked, the property found from
what changed, and pruned after its retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from domain.audit import audit, events, prune_audit
from storage.audit_guard import AuditLogIsAppendOnly
from storage.models import AuditLog, Booking, Property, User

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


async def seed(sessions) -> tuple[int, int]:
    async with sessions.begin() as session:
        user = User(telegram_id=1, first_name="Bia", role="owner", locale="en")
        prop = Property(name="Apto 1", timezone="UTC", export_token="audit-1")
        session.add_all([user, prop])
        await session.flush()
        booking = Booking(property_id=prop.id, source="direct", kind="reservation", uid="a", export_uid="a-e",
                          check_in=NOW.date(), check_out=NOW.date() + timedelta(2), first_seen_at=NOW)  # fmt: skip
        session.add(booking)
        await session.flush()
        await audit(session, user, "booking.moved", "booking", booking.id, {"before": "x", "after": "y"}, now=NOW)
        details = {"export_token": "abc", "smtp": {"password": "p"}, "door_code": "4321", "name": "Apto"}
        await audit(session, user, "property.updated", "property", prop.id, details, now=NOW - timedelta(days=800))
        return user.id, prop.id


async def test_events_name_their_property_and_mask_secrets(sessions):
    user_id, prop_id = await seed(sessions)
    async with sessions() as session:
        found, total = await events(session, property_id=prop_id)
        assert total == 2 and [e.row.action for e in found] == ["booking.moved", "property.updated"]  # newest first
        assert found[0].person == "Bia" and found[0].property_name == "Apto 1"
        assert found[1].row.details == {"export_token": "•••", "smtp": {"password": "•••"}, "door_code": "•••",
                                        "name": "Apto"}  # fmt: skip
        assert (await events(session, user_id=user_id + 1))[1] == 0


async def test_the_log_is_append_only_from_the_application(sessions):
    await seed(sessions)
    async with sessions() as session:
        row = (await session.scalars(select(AuditLog).limit(1))).one()
        row.action = "nothing.happened"
        with pytest.raises(AuditLogIsAppendOnly):
            await session.flush()
        await session.rollback()
        row = (await session.scalars(select(AuditLog).limit(1))).one()
        await session.delete(row)
        with pytest.raises(AuditLogIsAppendOnly):
            await session.flush()
        await session.rollback()
        for statement in (update(AuditLog).values(action="x"), delete(AuditLog)):
            with pytest.raises(AuditLogIsAppendOnly):
                await session.execute(statement)
        await session.rollback()
    async with sessions() as session:
        assert (await events(session))[1] == 2  # nothing changed


async def test_events_older_than_the_retention_are_pruned(sessions):
    await seed(sessions)
    async with sessions.begin() as session:
        assert await prune_audit(session, before=NOW - timedelta(days=730)) == 1
    async with sessions() as session:
        found, total = await events(session)
        assert total == 1 and found[0].row.action == "booking.moved"
