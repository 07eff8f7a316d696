"""The delivery job's Sender, with aiogram: Telegram's errors mapped to what the job should do with the row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetUpdates,
    Response,
    SendDocument,
    SendMessage,
    SetMyCommands,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from jobs.delivery import (
    ChatBlocked,
    MessageGone,
    PermanentError,
    Rendered,
    RetryAfter,
    TransientError,
)

T = TypeVar("T")

# aiogram validates each answer with Response[<return type>]; pydantic caches that generic class only weakly, so
# under steady sending it is rebuilt over and over (about 15 ms each time). Holding it keeps it cached.
# The bot's every common call is pinned here, at import, for the same reason (about 10 x 15 ms once).
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        SendMessage, EditMessageText, EditMessageReplyMarkup, AnswerCallbackQuery, GetUpdates, SendDocument, GetMe,
        DeleteMessage, SetMyCommands,
    )
)  # fmt: skip

NOT_MODIFIED = "message is not modified"
GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")


def markup(message: Rendered) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.callback_data) for b in row] for row in message.buttons
        ]
    )


class TelegramSender:
    """`timeout` bounds each call. A timeout is ambiguous (Telegram may have taken the message and the answer was
    lost), so it is retried: at least once, never lost; see jobs/delivery.py on that window."""

    def __init__(self, bot: Bot, *, timeout: float = 30.0) -> None:
        self._bot = bot
        self._timeout = timeout

    async def send(self, chat_id: int, message: Rendered) -> int:
        sent = await self._call(
            lambda: self._bot.send_message(
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(message),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        if message.photo is not None:
            png = await asyncio.to_thread(message.photo)
            await self._call(lambda: self._bot.send_photo(chat_id, BufferedInputFile(png, filename="lumina-stats.png")))
        if message.photo_id is not None:
            photo_id = message.photo_id
            await self._call(lambda: self._bot.send_photo(chat_id, photo_id))
        return sent.message_id

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> int:
        try:
            await self._call(
                lambda: self._bot.edit_message_text(
                    text=message.text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup(message),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
        except PermanentError as error:
            text = str(error).lower()
            if NOT_MODIFIED in text:  # already shows this text: the edit is done (e.g. sent again after a crash)
                return message_id
            if any(reason in text for reason in GONE):
                raise MessageGone(str(error)) from error
            raise
        return message_id

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await make()
        except TelegramRetryAfter as error:
            raise RetryAfter(float(error.retry_after), error.message) from error
        except TelegramForbiddenError as error:
            raise ChatBlocked(error.message) from error
        except TelegramEntityTooLarge as error:  # a TelegramNetworkError subclass, but nothing will make it fit
            raise PermanentError(error.message) from error
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError, TimeoutError) as error:
            raise TransientError(f"{type(error).__name__}: {error}"[:300]) from error
        except (TelegramUnauthorizedError, TelegramConflictError) as error:
            # An operator's problem (token revoked, a webhook set elsewhere), not the alert's: keep it waiting.
            raise TransientError(f"{type(error).__name__}: {error.message}") from error
        except TelegramBadRequest as error:
            raise PermanentError(error.message) from error
        except TelegramAPIError as error:  # 404 and other refusals: this message will not be taken
            raise PermanentError(f"{type(error).__name__}: {error.message}") from error
