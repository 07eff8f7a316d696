"""What people type, read the way they mean it: dates, times, money, e-mail. Pure; every failure says why.

Dates accept `12/08`, `12/08/2027`, `12/8/27`, `2027-08-12`, `12 ago`, `12 de agosto`, `Aug 12`, `12.08.2027`:
day first, as in Brazil (and in English outside the US; a host types dates of their own calendar); a date that can
only be month first (`07/19/2027`) is read that way. Every answer repeats the date with the month's name, so a
misread shows at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation

from babel.numbers import list_currencies


class InputError(ValueError):
    """`code` picks the localized message; `detail` fills it."""

    def __init__(self, code: str, **detail: object) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


_MONTHS = {
    # pt, en and es abbreviations and names, accents stripped
    "jan": 1, "janeiro": 1, "january": 1, "enero": 1,
    "fev": 2, "feb": 2, "fevereiro": 2, "february": 2, "febrero": 2,
    "mar": 3, "marco": 3, "march": 3, "marzo": 3,
    "abr": 4, "apr": 4, "abril": 4, "april": 4,
    "mai": 5, "may": 5, "maio": 5, "mayo": 5,
    "jun": 6, "junho": 6, "june": 6, "junio": 6,
    "jul": 7, "julho": 7, "july": 7, "julio": 7,
    "ago": 8, "aug": 8, "agosto": 8, "august": 8,
    "set": 9, "sep": 9, "sept": 9, "setembro": 9, "september": 9, "septiembre": 9,
    "out": 10, "oct": 10, "outubro": 10, "october": 10, "octubre": 10,
    "nov": 11, "novembro": 11, "november": 11, "noviembre": 11,
    "dez": 12, "dec": 12, "dezembro": 12, "december": 12, "dic": 12, "diciembre": 12,
}  # fmt: skip

_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})\s*(?:de\s+)?([a-z]+)\.?(?:\s*(?:de\s+)?(\d{4}))?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?$")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_date(text: str, *, today: date) -> date:
    """A date a person typed. Without a year: the next such date on or after today."""
    value = _plain(text)
    if not value:
        raise InputError("date_empty")
    if len(value) > 40:
        raise InputError("date_format")
    year: int | None
    if match := _ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _NUMERIC.match(value):
        day, month = int(match.group(1)), int(match.group(2))
        if month > 12 >= day:  # 07/19/2027: only month-first makes sense (the US order, read in any language)
            day, month = month, day
        year = _year(match.group(3))
    elif (match := _DAY_MONTH.match(value)) and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], _year(match.group(3))
    elif (match := _MONTH_DAY.match(value)) and match.group(1) in _MONTHS:
        month, day, year = _MONTHS[match.group(1)], int(match.group(2)), _year(match.group(3))
    else:
        raise InputError("date_format")
    if not 1 <= month <= 12:
        raise InputError("date_invalid", text=text.strip())
    if year is None:
        for candidate in range(today.year, today.year + 5):  # 29/02 may be years away
            try:
                found = date(candidate, month, day)
            except ValueError:
                continue  # 29/02 in a year that has none: try the next
            if found >= today:
                return found
        raise InputError("date_invalid", text=text.strip())
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError("date_invalid", text=text.strip()) from None


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    year = int(text)
    return 2000 + year if year < 100 else year


@dataclass(frozen=True, slots=True)
class StayDates:
    check_in: date
    check_out: date

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


MAX_STAY_NIGHTS = 365
NEW_YEAR_STAY_NIGHTS = 90  # the longest stay a yearless check-out may make by falling in the next year


def parse_stay(first: str, second: str, *, today: date, allow_past: bool = False) -> StayDates:
    """Check-in and check-out as typed. A check-out without a year that falls before check-in is next year's."""
    check_in = parse_date(first, today=today)
    check_out = parse_date(second, today=check_in)
    # "15/12 10/12": a yearless check-out before the check-in is next year's only across New Year (28/12 03/01);
    # otherwise the dates are reversed, not a stay of 360 nights
    rolled = check_out.year > check_in.year and (check_out - check_in).days > NEW_YEAR_STAY_NIGHTS
    if rolled and parse_date(second, today=check_in.replace(month=1, day=1)) < check_in:
        raise InputError("checkout_before_checkin")
    return validate_stay(check_in, check_out, today=today, allow_past=allow_past)


def validate_stay(check_in: date, check_out: date, *, today: date, allow_past: bool = False) -> StayDates:
    if not allow_past and check_in < today:
        raise InputError("date_past", day=check_in)
    if check_out <= check_in:
        raise InputError("checkout_before_checkin")
    if (check_out - check_in).days > MAX_STAY_NIGHTS:
        raise InputError("stay_too_long", nights=MAX_STAY_NIGHTS)
    return StayDates(check_in, check_out)


_MONEY = re.compile(r"^(?:r\$|us\$|\$|€|eur|brl|usd)?\s*(-?[\d.,\s]+)\s*(?:r\$|€|eur|brl|usd)?$")


def parse_money(text: str) -> Decimal:
    """`1.234,56`, `1234,56`, `1,234.56`, `1234.56`, `R$ 1.234`, `1234`: the last separator followed by 1-2 digits
    is the decimal one; the others group thousands."""
    value = _plain(text).replace("\u00a0", " ")
    match = _MONEY.match(value)
    if not match:
        raise InputError("money_format")
    number = match.group(1).replace(" ", "")
    if number.startswith("-"):
        raise InputError("money_negative")
    last = max(number.rfind(","), number.rfind("."))
    if last != -1 and 1 <= len(number) - last - 1 <= 2:
        whole, cents = number[:last], number[last + 1 :]
    else:
        whole, cents = number, ""
    if not re.fullmatch(r"\d{1,3}([.,]\d{3})*|\d+", whole or "0"):
        raise InputError("money_format")
    digits = re.sub(r"[.,]", "", whole) or "0"
    try:
        amount = Decimal(f"{digits}.{cents or '0'}")
    except InvalidOperation:
        raise InputError("money_format") from None
    if amount > Decimal("10000000"):
        raise InputError("money_too_large")
    return amount.quantize(Decimal("0.01"))


_TIME = re.compile(r"^(\d{1,2})(?:[:h.](\d{2}))?\s*(?:h|hs|hrs|(a|p)\.?\s*m\.?)?$")


def parse_time(text: str) -> time:
    """`15:00`, `15h`, `15h30`, `9`, `09.30`, `3 pm`, `3:30pm`, `11 a.m.`."""
    match = _TIME.match(_plain(text))
    if not match:
        raise InputError("time_format")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half is not None:
        if not 1 <= hour <= 12:
            raise InputError("time_format")
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        raise InputError("time_format")
    return time(hour, minute)


_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[a-z]{2,}$", re.IGNORECASE)


def parse_email(text: str) -> str:
    value = text.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InputError("email_format")
    return value


def parse_text(text: str, *, max_length: int, field: str = "text") -> str:
    value = " ".join(text.split())
    if not value:
        raise InputError("text_empty")
    if len(value) > max_length:
        raise InputError("text_too_long", max=max_length, length=len(value))
    return value


def parse_count(text: str, *, low: int = 1, high: int = 50) -> int:
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise InputError("count_range", low=low, high=high)
    return int(value)


def parse_date_pair(text: str, *, today: date) -> StayDates:
    """Two dates in one line: `12/08 15/08`, `12 ago 15 ago`, `12/08 - 15/08`, `12/08 to 15/08`, `12/08 a 15/08`."""
    words = [w for w in _plain(text).replace("–", " - ").split() if w not in ("to", "a", "ate", "-")]
    last_error: InputError = InputError("date_pair")
    for split in range(1, len(words)):
        try:
            return parse_stay(" ".join(words[:split]), " ".join(words[split:]), today=today)
        except InputError as error:
            if error.code not in ("date_format", "date_empty"):
                last_error = error  # a readable pair that is wrong (past, reversed): say exactly that
    raise last_error


def parse_currency(text: str) -> str:
    """An ISO 4217 code Babel knows ("brl" → "BRL")."""
    code = text.strip().upper()
    if len(code) != 3 or code not in list_currencies():
        raise InputError("currency")
    return code
