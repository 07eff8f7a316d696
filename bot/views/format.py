"""Dates, money and names in the user's language (Babel)."""

from __future__ import annotations

import html
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, get_day_names, get_month_names
from babel.numbers import format_currency

from bot.i18n import current_locale, ngettext

_DAY_PATTERN = {"pt_BR": "dd/MM (EEE)", "en": "EEE d MMM"}
_DAY_YEAR_PATTERN = {"pt_BR": "dd/MM/yyyy", "en": "d MMM yyyy"}


@cache
def _parsed_locale(code: str) -> Locale:
    return Locale.parse(code)  # Babel would parse the code string again on every call


def babel_locale() -> Locale:
    """The current language as Babel's Locale, for every Babel formatter."""
    return _parsed_locale(current_locale())


def day(value: date, *, with_year: bool = False) -> str:
    pattern = (_DAY_YEAR_PATTERN if with_year else _DAY_PATTERN).get(current_locale(), "yyyy-MM-dd")
    return format_date(value, pattern, locale=babel_locale())


def short_day(value: date) -> str:
    return format_date(value, "dd/MM" if current_locale() == "pt_BR" else "d MMM", locale=babel_locale())


def stay_range(check_in: date, check_out: date) -> str:
    nights = (check_out - check_in).days
    return f"{day(check_in)} → {day(check_out)} · " + ngettext("{n} night", "{n} nights", nights).format(n=nights)


def money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return "—"
    return format_currency(amount, currency or "BRL", locale=babel_locale())


def clock(value: time) -> str:
    return value.strftime("%H:%M")


def moment(value: datetime | None, tz: str | None = None) -> str:
    if value is None:
        return "—"
    pattern = "dd/MM HH:mm" if current_locale() == "pt_BR" else "d MMM HH:mm"
    return format_datetime(value, pattern, tzinfo=ZoneInfo(tz) if tz else None, locale=babel_locale())


def month_title(year: int, month: int) -> str:
    return f"{get_month_names('wide', locale=babel_locale())[month].capitalize()} {year}"


def weekday_letters() -> list[str]:
    names = get_day_names("narrow", context="stand-alone", locale=babel_locale())
    return [names[i] for i in range(7)]  # Babel: 0 = Monday


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)
