"""An inline month calendar for picking a day: localized month and weekday names, past days not pickable."""

from __future__ import annotations

import calendar
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from bot.keyboards.callbacks import DayCB
from bot.keyboards.common import BACK, CANCEL, NOOP
from bot.views.format import month_title, weekday_letters


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def date_picker(year: int, month: int, *, earliest: date, back: bool = True) -> InlineKeyboardMarkup:
    """Days before `earliest` are shown but not pickable; months entirely before it cannot be opened."""
    rows: list[list[InlineKeyboardButton]] = []
    prev_y, prev_m = shift_month(year, month, -1)
    next_y, next_m = shift_month(year, month, 1)
    can_go_back = (prev_y, prev_m) >= (earliest.year, earliest.month)
    rows.append([
        InlineKeyboardButton(text="◀️" if can_go_back else " ",
                             callback_data=DayCB(y=prev_y, m=prev_m).pack() if can_go_back else NOOP),
        InlineKeyboardButton(text=month_title(year, month), callback_data=NOOP),
        InlineKeyboardButton(text="▶️", callback_data=DayCB(y=next_y, m=next_m).pack()),
    ])  # fmt: skip
    rows.append([InlineKeyboardButton(text=letter, callback_data=NOOP) for letter in weekday_letters()])
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        row = []
        for number in week:
            if number == 0:
                row.append(InlineKeyboardButton(text=" ", callback_data=NOOP))
            elif date(year, month, number) < earliest:
                row.append(InlineKeyboardButton(text="·", callback_data=NOOP))
            else:
                row.append(
                    InlineKeyboardButton(text=str(number), callback_data=DayCB(y=year, m=month, day=number).pack())
                )
        rows.append(row)
    nav = [InlineKeyboardButton(text=_("⬅️ Back"), callback_data=BACK)] if back else []
    nav.append(InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=CANCEL))
    rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)
