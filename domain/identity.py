"""Identity and tax numbers as people type them: Brazil's CPF and CNPJ and Portugal's NIF checked by their check
digits and written the usual way; RG, passports and other countries' numbers kept as free text within a limit.
Which number a host is asked for follows the property's country (from its time zone). Pure; failures are
InputError."""

from __future__ import annotations

import re
from functools import cache

from babel.core import get_global

from domain.inputs import InputError, parse_text

FREE_NUMBER_MAX = 30  # an RG, a passport, another country's number
_TYPE = re.compile(r"^[A-Za-zÀ-ÿ.]{2,12}$")
_CPF_SHAPE = re.compile(r"^\d{3}\.\d{3}\.\d{3}-\d{2}$")
_CNPJ_SHAPE = re.compile(r"^\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}$")


@cache
def country_of(timezone: str | None) -> str | None:
    """ISO country of an IANA time zone ("America/Sao_Paulo" → "BR", "Europe/Lisbon" → "PT"), from CLDR."""
    if not timezone:
        return None
    territory = get_global("zone_territories").get(timezone)
    return str(territory) if territory and territory != "001" else None


def host_number_kind(country: str | None) -> str:
    """What a host in this country writes under their signature: "cpf_cnpj" (Brazil), "nif" (Portugal), or any
    "tax_id" elsewhere."""
    return {"BR": "cpf_cnpj", "PT": "nif"}.get(country or "", "tax_id")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _mod11_digit(digits: str, weights: range | list[int]) -> int:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def cpf_valid(text: str) -> bool:
    digits = _digits(text)
    if len(digits) != 11 or digits == digits[0] * 11:
        return False
    first = _mod11_digit(digits[:9], range(10, 1, -1))
    second = _mod11_digit(digits[:10], range(11, 1, -1))
    return digits[9:] == f"{first}{second}"


def cnpj_valid(text: str) -> bool:
    digits = _digits(text)
    if len(digits) != 14 or digits == digits[0] * 14:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _mod11_digit(digits[:12], weights)
    second = _mod11_digit(digits[:13], [6, *weights])
    return digits[12:] == f"{first}{second}"


def nif_valid(text: str) -> bool:
    digits = _digits(text)
    if len(digits) != 9 or digits[0] not in "123456789":
        return False
    rest = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) % 11
    return int(digits[8]) == (0 if rest < 2 else 11 - rest)


def format_cpf(text: str) -> str:
    d = _digits(text)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def format_cnpj(text: str) -> str:
    d = _digits(text)
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def parse_cpf(text: str) -> str:
    if not cpf_valid(text):
        raise InputError("cpf_invalid", text=text.strip()[:20])
    return format_cpf(text)


def parse_cnpj(text: str) -> str:
    if not cnpj_valid(text):
        raise InputError("cnpj_invalid", text=text.strip()[:24])
    return format_cnpj(text)


def parse_nif(text: str) -> str:
    if not nif_valid(text):
        raise InputError("nif_invalid", text=text.strip()[:20])
    return _digits(text)


def parse_host_number(text: str, country: str | None) -> str:
    """The host's own number, printed under their signature: in Brazil a CPF (11 digits) or a CNPJ (14), in
    Portugal a NIF (9), checked and formatted; elsewhere free text."""
    value = parse_text(text, max_length=40)
    kind = host_number_kind(country)
    if kind == "cpf_cnpj":
        digits = _digits(value)
        if len(digits) == 14:
            return parse_cnpj(value)
        if len(digits) == 11:
            return parse_cpf(value)
        raise InputError("cpf_cnpj_format")
    if kind == "nif":
        return parse_nif(value.upper().removeprefix("PT"))
    return parse_text(value, max_length=FREE_NUMBER_MAX)


def parse_person_document(text: str) -> tuple[str | None, str]:
    """A guest's document: `CPF 123.456.789-09` (checked and formatted), `CNPJ ...`, `NIF ...`, `RG 12.345.678-9`,
    `Passport X1234567`, or just the number (a number shaped like a CPF must be one). → (type, number)."""
    value = parse_text(text, max_length=60)
    first, _sep, rest = value.partition(" ")
    kind: str | None = None
    number = value
    if rest and _TYPE.match(first) and any(c.isalnum() for c in rest):
        word = first.rstrip(".")
        kind, number = (word.upper() if len(word) <= 4 else word.capitalize()), rest.strip()
    if not any(c.isalnum() for c in number):
        raise InputError("text_empty")
    if kind is None and len(number) == 11 and number.isdigit() and cpf_valid(number):
        kind = "CPF"
    if kind == "CPF" or (kind is None and _CPF_SHAPE.match(number)):
        return "CPF", parse_cpf(number)
    if kind == "CNPJ" or (kind is None and _CNPJ_SHAPE.match(number)):
        return "CNPJ", parse_cnpj(number)
    if kind == "NIF":
        return "NIF", parse_nif(number)
    if len(number) > FREE_NUMBER_MAX:
        raise InputError("text_too_long", max=FREE_NUMBER_MAX, length=len(number))
    return kind, number
