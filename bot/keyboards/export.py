"""Buttons under the export links: rotate, confirm, and pick a property when there are many."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.keyboards.callbacks import ExportCB
from domain.export import ExportLinks


def links_keyboard(property_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔄 Rotate link"), callback_data=ExportCB(id=property_id, action="rotate"))
    return builder.as_markup()


def confirm_keyboard(property_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, rotate"), callback_data=ExportCB(id=property_id, action="yes"))
    builder.button(text=_("No, keep them"), callback_data=ExportCB(id=property_id, action="no"))
    return builder.as_markup()


def picker_keyboard(links: list[ExportLinks]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in links:
        builder.button(text=item.property_name[:60], callback_data=ExportCB(id=item.property_id, action="show"))
    builder.adjust(1)
    return builder.as_markup()
