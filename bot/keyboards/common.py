"""Keyboards shared by every area: the main menu, Back/Cancel, pagination."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.keyboards.callbacks import MenuCB, PageCB

CANCEL = "cancel"  # callback data of the Cancel button in every dialog
BACK = "back"  # callback data of the Back button in every dialog step
NOOP = "noop"  # a button that only shows something (a weekday name, a past day)


def main_menu() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for to, label in (
        ("today", _("📅 Today")),
        ("upcoming", _("🗓 Upcoming")),
        ("properties", _("🏠 Properties")),
        ("conflicts", _("⚠️ Conflicts")),
        ("free", _("🔎 Is it free?")),
        ("sync", _("🔄 Check calendars")),
        ("stats", _("📊 Numbers")),
        ("settings", _("⚙️ Settings")),
        ("help", _("❓ Help")),
    ):
        builder.button(text=label, callback_data=MenuCB(to=to))
    builder.adjust(2)
    return builder.as_markup()


def menu_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("☰ Menu"), callback_data=MenuCB(to="menu").pack())


def only_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[menu_button()]])


def dialog_nav(*, back: bool = True, extra: list[InlineKeyboardButton] | None = None) -> InlineKeyboardMarkup:
    """Back (to the previous step) and Cancel (leave the dialog) under every question."""
    row = [InlineKeyboardButton(text=_("⬅️ Back"), callback_data=BACK)] if back else []
    row.append(InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=CANCEL))
    rows = [[button] for button in extra or []]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, row])


def pager(name: str, page: int, pages: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀️", callback_data=PageCB(list=name, page=page - 1).pack()))
    if pages > 1:
        row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=NOOP))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(text="▶️", callback_data=PageCB(list=name, page=page + 1).pack()))
    return row


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data if isinstance(data, str) else data.pack())


def yes_no(yes: CallbackData, no: CallbackData | str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("✅ Yes"), yes), button(_("✖️ No"), no)]])
