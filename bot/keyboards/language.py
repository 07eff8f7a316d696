from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

LANGUAGE_NAMES = {"pt_BR": "🇧🇷 Português (Brasil)", "en": "🇬🇧 English"}


class LanguageCB(CallbackData, prefix="lang"):
    code: str


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=("✓ " if code == current else "") + name, callback_data=LanguageCB(code=code))
    builder.adjust(1)
    return builder.as_markup()
