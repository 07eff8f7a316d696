"""The last resort: a handler raised. The user gets a short apology (their transaction was rolled back, so nothing
was half-changed); the operator gets the traceback with the ids."""

from __future__ import annotations

import contextlib
import logging

from aiogram.types import ErrorEvent

from bot.i18n import _
from bot.keyboards.common import only_menu

log = logging.getLogger("lumina.bot")


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    user = getattr(update.event, "from_user", None)
    log.exception(
        "handler failed",
        exc_info=event.exception,
        extra={
            "update_id": update.update_id,
            "update_type": update.event_type,
            "telegram_user": getattr(user, "id", None),
        },
    )
    message = update.message or (update.callback_query.message if update.callback_query else None)
    with contextlib.suppress(Exception):  # Telegram itself may be what failed
        if update.callback_query is not None:
            await update.callback_query.answer()
        if message is not None and hasattr(message, "answer"):
            await message.answer(
                _("Something went wrong on my side and nothing was changed. Please try again."),
                reply_markup=only_menu(),
            )
    return True
