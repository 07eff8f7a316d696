"""Reading what the host types when a document asks for a missing field. Pure; failures are InputError."""

from __future__ import annotations

from typing import Any

from domain.documents.context import Need
from domain.identity import parse_host_number, parse_person_document
from domain.inputs import InputError, parse_count, parse_money, parse_text

INFO_LIMITS = {
    "host_name": 120, "host_document": 40, "city": 80, "access_instructions": 1000, "door_code": 60,
    "wifi_name": 100, "wifi_password": 100, "house_rules": 2000,
}  # fmt: skip
MULTILINE_INFO = frozenset({"access_instructions", "house_rules"})
VERBATIM_INFO = frozenset({"door_code", "wifi_name", "wifi_password"})  # spaces inside may matter


def parse_lines(text: str, *, max_length: int) -> str:
    """Several lines kept as lines (house rules, how to get in), each with its spaces tidied."""
    value = "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    if not value:
        raise InputError("text_empty")
    if len(value) > max_length:
        raise InputError("text_too_long", max=max_length, length=len(value))
    return value


def parse_verbatim(text: str, *, max_length: int) -> str:
    value = text.strip()
    if not value:
        raise InputError("text_empty")
    if len(value) > max_length or "\n" in value:
        raise InputError("text_too_long", max=max_length, length=len(value))
    return value


def parse_guest_document(text: str) -> tuple[str | None, str]:
    """`CPF 123.456.789-09` (checked), `RG 12.345.678-9`, `Passport X1234567` or just the number → (type, number)."""
    return parse_person_document(text)


def parse_info(key: str, text: str, *, country: str | None = None) -> str:
    """A property detail; the host's own number is checked as the property's country writes it."""
    limit = INFO_LIMITS[key]
    if key == "host_document":
        return parse_host_number(text, country)
    if key in MULTILINE_INFO:
        return parse_lines(text, max_length=limit)
    if key in VERBATIM_INFO:
        return parse_verbatim(text, max_length=limit)
    return parse_text(text, max_length=limit)


def parse_answer(need: Need, text: str, *, country: str | None = None) -> Any:
    """The typed answer to `need`, as the value apply_answer() stores."""
    if need.key in ("guest_name", "companion"):
        return parse_text(text, max_length=200)
    if need.key == "guests_count":
        return parse_count(text, high=50)
    if need.key == "guest_document":
        return parse_guest_document(text)
    if need.key == "vehicle_plate":
        return parse_text(text, max_length=20).upper()
    if need.key == "price":
        return parse_money(text)
    if need.key == "address":
        return parse_text(text, max_length=300)
    if need.key == "info":
        return parse_info(need.info, text, country=country)
    raise ValueError(need.key)
