"""Small answering helpers every router uses."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message

from bot.i18n import _
from bot.keyboards.common import main_menu, only_menu

MAX_TEXT = 4096  # Telegram's limit for a message


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


async def edit_or_answer(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None, *, notice: str | None = None
) -> None:
    """A button press edits the message it came from (one screen, no clutter); a command gets a new message.
    A callback can be answered only once: `notice` is that answer, shown as a pop-up."""
    text = clip(text)
    if isinstance(target, Message):
        await target.answer(text, reply_markup=markup)
        return
    message = target.message
    await target.answer(notice, show_alert=bool(notice))
    if message is None or isinstance(message, InaccessibleMessage):
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "not modified" not in str(error):
            await message.answer(text, reply_markup=markup)


async def expired(query: CallbackQuery) -> None:
    """For a button whose object is gone or is not this user's: say only that it expired."""
    await query.answer(_("This button has expired."), show_alert=True)
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        await query.message.answer(_("This button has expired. Here is the menu."), reply_markup=main_menu())


async def booking_gone(target: Message | CallbackQuery) -> None:
    """The booking of a dialog or button no longer exists, or is no longer this user's."""
    if isinstance(target, CallbackQuery):
        await expired(target)
    else:
        await target.answer(_("This booking is no longer available."), reply_markup=only_menu())
