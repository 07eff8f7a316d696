"""Who may use this installation: the one-time setup code, pre-authorized owners, and user records."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from storage.models import AppState, User

SETUP_KEY = "setup_code_sha256"


def code_digest(code: str) -> str:
    """How one-time codes (the setup code, invites) are kept: only their hash."""
    return hashlib.sha256(code.encode()).hexdigest()


async def has_owner(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(User.role == "owner"))))


async def issue_setup_code(session: AsyncSession) -> str | None:
    """A fresh one-time code while nobody owns this installation; None once someone does.

    Only its hash is stored, so the code printed at start-up is the only copy. Each start replaces the last one.
    """
    if await has_owner(session):
        await _drop_setup_code(session)
        return None
    code = secrets.token_urlsafe(12)  # 16 chars of [A-Za-z0-9_-]: valid as a t.me ?start= payload
    state = await session.get(AppState, SETUP_KEY)
    if state is None:
        session.add(AppState(key=SETUP_KEY, value=code_digest(code)))
    else:
        state.value = code_digest(code)
    return code


async def _drop_setup_code(session: AsyncSession) -> None:
    state = await session.get(AppState, SETUP_KEY)
    if state is not None:
        await session.delete(state)


async def claim_ownership(
    session: AsyncSession,
    code: str,
    *,
    telegram_id: int,
    first_name: str,
    username: str | None,
    locale: str,
    now: datetime,
) -> User | None:
    """The first person with the right code becomes the owner; the code dies with that use."""
    state = await session.get(AppState, SETUP_KEY)
    if state is None or not hmac.compare_digest(state.value, code_digest(code)) or await has_owner(session):
        return None
    await session.delete(state)
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        user = User(telegram_id=telegram_id, first_name=first_name[:128], username=username, locale=locale)
        session.add(user)
    user.role = "owner"
    await session.flush()
    await audit(session, user, "owner.claimed", "user", user.id, now=now)
    return user


async def find_user(session: AsyncSession, telegram_id: int) -> User | None:
    return await session.scalar(select(User).where(User.telegram_id == telegram_id))


async def ensure_preauthorized_owner(
    session: AsyncSession, *, telegram_id: int, first_name: str, username: str | None, locale: str, now: datetime
) -> User:
    """A user listed in LUMINA_OWNER_IDS is an owner from the first message on."""
    user = await find_user(session, telegram_id)
    if user is None:
        user = User(
            telegram_id=telegram_id, first_name=first_name[:128], username=username, locale=locale, role="owner"
        )
        session.add(user)
        await session.flush()
        await audit(session, user, "owner.preauthorized", "user", user.id, now=now)
    elif user.role != "owner":
        user.role = "owner"
    return user


async def set_locale(session: AsyncSession, user: User, locale: str, *, now: datetime) -> None:
    if user.locale != locale:
        await audit(session, user, "user.locale", "user", user.id, {"before": user.locale, "after": locale}, now=now)
        user.locale = locale
