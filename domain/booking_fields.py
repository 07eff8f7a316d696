"""The booking card's fields a person fills in, in one table: each names its `Booking` column, the button that opens
it, the question, the card's line and the parser of the answer. The fill dialog, the card and `set_detail` read it,
so a new field is a row here, a column (with its migration) and its catalog entries.

The texts are message ids, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.inputs import parse_count, parse_email, parse_money, parse_text
from domain.languages import N_
from storage.models import Booking


@dataclass(frozen=True, slots=True)
class DetailField:
    name: str  # the Booking column it is stored in
    label: str  # the button in the "fill in details" menu
    question: str
    line: str  # the card's line, with {value}
    parse: Callable[[str], Any]  # raises domain.inputs.InputError
    money: bool = False  # shown in the booking's currency
    unset: str | None = None  # shown when empty; None: the line is left out
    on_blocks: bool = False  # shown on a blocked-dates card too


def _text(max_length: int, *, upper: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = parse_text(text, max_length=max_length)
        return value.upper() if upper else value

    return parse


DETAIL_FIELDS = (
    DetailField("guest_name", N_("👤 Main guest"), N_("Main guest's full name?"), N_("Guest: {value}"), _text(200),
                unset=N_("not filled in")),
    DetailField("guests_count", N_("👥 Number of guests"), N_("How many guests in all?"), N_("Guests: {value}"),
                lambda text: parse_count(text, high=50)),
    DetailField("guest_phone", N_("📞 Phone"), N_("Guest's phone number?"), N_("Phone: {value}"), _text(40)),
    DetailField("guest_email", N_("✉️ E-mail"), N_("Guest's e-mail?"), N_("E-mail: {value}"), parse_email),
    DetailField("vehicle_plate", N_("🚗 Vehicle plate"), N_("Vehicle plate?"), N_("Vehicle plate: {value}"),
                _text(20, upper=True)),
    DetailField("price", N_("💰 Price"), N_("Total price of the stay? (e.g. 1.234,56)"), N_("Price: {value}"),
                parse_money, money=True, unset=N_("not set")),
    DetailField("notes", N_("📝 Notes"), N_("Notes for this booking?"), N_("Notes: {value}"), _text(1000),
                on_blocks=True),
)  # fmt: skip
DETAILS = {field.name: field for field in DETAIL_FIELDS}


def display_guest(booking: Booking) -> str | None:
    """What a person typed wins over what the feed said."""
    return booking.guest_name or booking.feed_guest_name


def shown_value(booking: Booking, field: DetailField) -> Any:
    """What the card shows for `field`."""
    return display_guest(booking) if field.name == "guest_name" else getattr(booking, field.name)
