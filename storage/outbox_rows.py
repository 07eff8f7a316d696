"""The outbox as a queue: the statements that move a row pending → sending (claimed, with a lease) → sent, back to
pending, or dead. jobs/delivery.py decides when; the rules of what a row may become live here, beside the table.

The per-message writes (sent, a result) take a connection and prebuilt Core statements: half the CPU of an ORM
session, and they run once per message.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Outbox, TurnoverMessage, User

LIVE = ("pending", "sending")  # still to deliver

_OUTBOX_TABLE, _TURNOVER_TABLE = cast(Table, Outbox.__table__), cast(Table, TurnoverMessage.__table__)
_OUTBOX = _OUTBOX_TABLE.c
_MARK_SENT = (
    update(_OUTBOX_TABLE)
    .where(_OUTBOX.id == bindparam("row_id"), _OUTBOX.status == "sending")
    .values(status="sent", telegram_message_id=bindparam("message_id"), sent_at=bindparam("at"), not_before=None,
            last_error=None)
)  # fmt: skip
_SET_RESULT = (
    update(_OUTBOX_TABLE)
    .where(_OUTBOX.id == bindparam("row_id"), _OUTBOX.status == "sending")
    .values(status=bindparam("status"), not_before=bindparam("not_before"), last_error=bindparam("error"))
)
_SET_TURNOVER_MESSAGE = (
    update(_TURNOVER_TABLE).where(_TURNOVER_TABLE.c.id == bindparam("tm_id")).values(message_id=bindparam("message_id"))
)


async def due_rows(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[int]
) -> Sequence[tuple[Outbox, User]]:
    """Pending rows that are due, each with its person, oldest first, locked for this transaction (FOR UPDATE SKIP
    LOCKED on PostgreSQL: another instance skips them). A row is due only when no older row of its chat is pending
    or being sent; an urgent one only waits for a row being sent. `exclude`: chats not to look at."""
    earlier = aliased(Outbox)
    # Rows older than the oldest live one cannot block anything: without this floor the check would walk each
    # user's whole history of sent rows (the index is on user_id alone).
    floor = select(func.min(Outbox.id)).where(Outbox.status.in_(LIVE)).scalar_subquery()
    blocked = exists().where(
        earlier.user_id == Outbox.user_id,
        earlier.id < Outbox.id,
        earlier.id >= floor,
        or_(earlier.status == "sending", and_(earlier.status == "pending", Outbox.urgent.is_(False))),
    )
    query = (
        select(Outbox, User)
        .join(User, User.id == Outbox.user_id)
        .where(Outbox.status == "pending", or_(Outbox.not_before.is_(None), Outbox.not_before <= now), ~blocked)
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(of=Outbox, skip_locked=True)
    )
    if exclude:
        query = query.where(Outbox.user_id.not_in(exclude))
    return [(row, user) for row, user in (await session.execute(query)).all()]


async def mark_sending(session: AsyncSession, row_ids: Sequence[int], *, lease_until: datetime) -> set[int]:
    """Claim: pending → sending with a lease (a killed instance's rows go back once it ends). Returns the ids won."""
    claimed = await session.scalars(
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.status == "pending")
        .values(status="sending", attempts=Outbox.attempts + 1, not_before=lease_until)
        .returning(Outbox.id)
    )
    return set(claimed.all())


async def recover_sending(
    session: AsyncSession, *, expired_before: datetime | None, keep: Collection[int]
) -> Sequence[int]:
    """Rows left "sending" by a process that stopped mid-send go back to pending, marked interrupted. Only those
    whose lease ended before `expired_before` (None: all, when this process alone owns the database); never the
    ids in `keep` (this process's own sends)."""
    condition = [Outbox.status == "sending"]
    if expired_before is not None:
        condition.append(or_(Outbox.not_before.is_(None), Outbox.not_before < expired_before))
    if keep:
        condition.append(Outbox.id.not_in(keep))
    recovered = await session.scalars(
        update(Outbox)
        .where(*condition)
        .values(status="pending", not_before=None, interrupted=True, last_error="interrupted while sending")
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return recovered.all()


async def release(session: AsyncSession, row_ids: Sequence[int], *, not_before: datetime | None) -> None:
    """Claimed but never sent: back to pending as if never claimed."""
    await session.execute(
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.status == "sending")
        .values(status="pending", attempts=Outbox.attempts - 1, not_before=not_before)
        .execution_options(synchronize_session=False)
    )


async def mark_sent(
    connection: AsyncConnection, row_id: int, message_id: int, *, at: datetime, turnover_id: int | None
) -> bool:
    """sending → sent, with the Telegram message (and the turnover message it edits from now on). False: the row
    was no longer ours (its lease ended and another sender took it back)."""
    result = await connection.execute(_MARK_SENT, {"row_id": row_id, "message_id": message_id, "at": at})
    if turnover_id is not None:
        await connection.execute(_SET_TURNOVER_MESSAGE, {"tm_id": turnover_id, "message_id": message_id})
    return bool(result.rowcount)


async def set_result(
    connection: AsyncConnection, row_id: int, *, status: str, not_before: datetime | None, error: str
) -> None:
    """sending → pending (retry at `not_before`) or a final status."""
    await connection.execute(
        _SET_RESULT, {"row_id": row_id, "status": status, "not_before": not_before, "error": error}
    )


async def block_user(session: AsyncSession, user_id: int, row_id: int, error: str) -> int:
    """403: the person blocked the bot. They are inactive until they write again, this row and everything pending
    for them is dead. Returns how many rows died."""
    await session.execute(
        update(User).where(User.id == user_id).values(is_active=False).execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Outbox)
        .where(Outbox.id == row_id)
        .values(status="dead", last_error=f"403: {error}"[:500], not_before=None)
        .execution_options(synchronize_session=False)
    )
    others = await session.execute(
        update(Outbox)
        .where(Outbox.user_id == user_id, Outbox.status == "pending")
        .values(status="dead", last_error="the user blocked the bot")
        .execution_options(synchronize_session=False)
    )
    return 1 + max(int(getattr(others, "rowcount", 0) or 0), 0)


async def backlog(session: AsyncSession) -> int:
    """Rows still to deliver."""
    return int(await session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status.in_(LIVE))) or 0)
