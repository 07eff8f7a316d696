"""/stats buttons: the property (or all), the period, and the files of what is shown."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from bot.keyboards.callbacks import StatsCB
from bot.keyboards.common import button, menu_button
from bot.views.stats import PERIOD_LABELS
from domain.stats import PERIOD_NAMES
from storage.models import Property


def picker_keyboard(properties: list[Property], chosen: int, *, monthly: bool | None = None) -> InlineKeyboardMarkup:
    """`monthly`: whether the monthly summary is on (None: not this person's to switch)."""
    rows: list[list[InlineKeyboardButton]] = []
    if len(properties) > 1:
        choices = [(0, _("All properties")), *((p.id, p.name[:40]) for p in properties)]
        line: list[InlineKeyboardButton] = []
        for pid, name in choices:
            mark = "✅ " if pid == chosen else ""
            line.append(button(mark + name, StatsCB(action="pick", p=pid)))
            if len(line) == 2:
                rows.append(line)
                line = []
        if line:
            rows.append(line)
    periods = [button(_(PERIOD_LABELS[name]), StatsCB(action="show", p=chosen, per=name)) for name in PERIOD_NAMES]
    rows += [periods[:2], periods[2:]]
    if chosen:
        rows.append([button(_("💵 Default nightly rate (for estimates)"), StatsCB(action="rate", p=chosen))])
    if monthly is not None:
        label = _("🔔 Monthly summary on the 1st: on") if monthly else _("🔕 Monthly summary on the 1st: off")
        rows.append([button(label, StatsCB(action="monthly", p=chosen))])
    rows.append([menu_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def figures_keyboard(chosen: int, period: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("📎 CSV"), StatsCB(action="csv", p=chosen, per=period)),
             button(_("📊 XLSX"), StatsCB(action="xlsx", p=chosen, per=period))],
            [button(_("🔁 Another period or property"), StatsCB(action="pick", p=chosen)), menu_button()],
        ]
    )  # fmt: skip
