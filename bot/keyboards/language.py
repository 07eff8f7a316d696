from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import LanguageCB

LANGUAGE_NAMES = {"pt_BR": "🇧🇷 Português (Brasil)", "en": "🇬🇧 English"}


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=("✓ " if code == current else "") + name, callback_data=LanguageCB(code=code))
    builder.adjust(1)
    return builder.as_markup()
