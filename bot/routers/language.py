from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LOCALES, _, set_locale
from bot.keyboards.callbacks import LanguageCB
from bot.keyboards.language import language_keyboard
from bot.services import Services
from domain import access
from storage.models import User


async def ask(message: Message, user: User) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard(user.locale))


async def choose(
    query: CallbackQuery, callback_data: LanguageCB, session: AsyncSession, user: User, services: Services
) -> None:
    if callback_data.code not in LOCALES:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await access.set_locale(session, user, callback_data.code, now=services.clock())
    set_locale(user.locale)
    text = (
        _("Done: I will speak English with you.")
        if user.locale == "en"
        else _("Done: I will speak Portuguese with you.")
    )
    if query.message is not None and hasattr(query.message, "edit_text"):
        await query.message.edit_text(text)
    await query.answer()


def get_router() -> Router:
    router = Router(name="language")

    router.message.register(ask, Command("language"))
    router.callback_query.register(choose, LanguageCB.filter())

    return router
