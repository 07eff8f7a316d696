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
from jobs.clock import Clock, utc_now

_DAY_PATTERN = {"pt_BR": "dd/MM (EEE)", "en": "EEE d MMM"}
_DAY_OTHER_YEAR_PATTERN = {"pt_BR": "dd/MM/yyyy (EEE)", "en": "EEE d MMM yyyy"}
_DAY_YEAR_PATTERN = {"pt_BR": "dd/MM/yyyy", "en": "d MMM yyyy"}
_SHORT_PATTERN = {"pt_BR": "dd/MM", "en": "d MMM"}
_SHORT_YEAR_PATTERN = {"pt_BR": "dd/MM/yyyy", "en": "d MMM yyyy"}
_MOMENT_PATTERN = {"pt_BR": "dd/MM HH:mm", "en": "d MMM HH:mm"}
_MOMENT_YEAR_PATTERN = {"pt_BR": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy HH:mm"}


@cache
def _parsed_locale(code: str) -> Locale:
    return Locale.parse(code)  # Babel would parse the code string again on every call


def babel_locale() -> Locale:
    """The current language as Babel's Locale, for every Babel formatter."""
    return _parsed_locale(current_locale())


_clock: Clock = utc_now  # the running application's (Application sets it), so a test's clock is the views' too


def use_clock(clock: Clock) -> None:
    global _clock
    _clock = clock


def this_year() -> int:
    """The year a date is shown without: the current one where the message is read (a day at most apart from the
    host's own time zone; a date within a day of New Year shows its year either way in the range that matters)."""
    return _clock().year


def day(value: date, *, with_year: bool = False) -> str:
    """A day as lists, cards and alerts show it: the year whenever it is not the current one (or `with_year`)."""
    if with_year:
        patterns = _DAY_YEAR_PATTERN
    else:
        patterns = _DAY_PATTERN if value.year == this_year() else _DAY_OTHER_YEAR_PATTERN
    return format_date(value, patterns.get(current_locale(), "yyyy-MM-dd"), locale=babel_locale())


def short_day(value: date) -> str:
    patterns = _SHORT_PATTERN if value.year == this_year() else _SHORT_YEAR_PATTERN
    return format_date(value, patterns.get(current_locale(), "yyyy-MM-dd"), locale=babel_locale())


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
    zone = ZoneInfo(tz) if tz else None
    local = value.astimezone(zone) if zone and value.tzinfo else value
    patterns = _MOMENT_PATTERN if local.year == this_year() else _MOMENT_YEAR_PATTERN
    return format_datetime(value, patterns.get(current_locale(), "yyyy-MM-dd HH:mm"), tzinfo=zone,
                           locale=babel_locale())  # fmt: skip


def month_title(year: int, month: int) -> str:
    return f"{get_month_names('wide', locale=babel_locale())[month].capitalize()} {year}"


def weekday_letters() -> list[str]:
    names = get_day_names("narrow", context="stand-alone", locale=babel_locale())
    return [names[i] for i in range(7)]  # Babel: 0 = Monday


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)
