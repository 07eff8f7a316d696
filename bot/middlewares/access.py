"""Who is this, and may they talk to us? Sets data["user"] and the locale for every update.

Strangers get one polite refusal (then silence for a while, so a stranger cannot make the bot spam), except for
`/start <code>`, which the start router checks against the setup code.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.types import User as TgUser

from bot.i18n import _, normalize_locale, set_locale
from domain import access
from jobs.clock import Clock

REFUSAL_QUIET_SECONDS = 3600


class AccessMiddleware(BaseMiddleware):
    def __init__(self, *, owner_ids: frozenset[int], default_locale: str, clock: Clock) -> None:
        self._owner_ids = owner_ids
        self._default_locale = default_locale
        self._clock = clock
        self._refused_at: dict[int, float] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return None  # channel posts, service updates: nothing for us
        session = data["session"]
        locale = normalize_locale(tg_user.language_code, self._default_locale)
        user = await access.find_user(session, tg_user.id)
        if tg_user.id in self._owner_ids and (user is None or user.role != "owner"):
            user = await access.ensure_preauthorized_owner(
                session,
                telegram_id=tg_user.id,
                first_name=tg_user.first_name,
                username=tg_user.username,
                locale=locale,
                now=self._clock(),
            )
        if user is not None:
            if not user.is_active:
                user.is_active = True  # they wrote to us, so they unblocked the bot
            set_locale(user.locale)
            data["user"] = user
            return await handler(event, data)

        set_locale(locale)
        data["user"] = None
        data["locale"] = locale
        if _is_start_with_payload(event):
            return await handler(event, data)
        await self.refuse(event, tg_user.id)
        return None

    async def refuse(self, event: TelegramObject, telegram_id: int) -> None:
        inner = event.event if isinstance(event, Update) else event
        if isinstance(inner, CallbackQuery):
            await inner.answer(_("This bot is private."), show_alert=True)
            return
        if not isinstance(inner, Message):
            return
        now = time.monotonic()
        last = self._refused_at.get(telegram_id)
        if last is not None and now - last < REFUSAL_QUIET_SECONDS:
            return
        self._refused_at[telegram_id] = now
        await inner.answer(_("Sorry, this is a private assistant and I can't help you here."))


def _is_start_with_payload(event: TelegramObject) -> bool:
    inner = event.event if isinstance(event, Update) else event
    if not isinstance(inner, Message) or not inner.text:
        return False
    command, _sep, payload = inner.text.partition(" ")
    return command.split("@", 1)[0] == "/start" and bool(payload.strip())
