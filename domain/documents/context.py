"""What a document says, as plain data: the fields each kind may use, what is still missing, and the template context.

Everything here is pure. The service takes a snapshot of a booking (DocumentData: plain values, no ORM objects),
`needs()` says what a template would print blank, and `build_context()` turns the snapshot into the dict of strings
and lists of dicts that the template is rendered with, formatted in the document's language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency

from domain.calendar.model import PLATFORM_NAMES
from domain.documents.words import amount_in_words
from domain.languages import LANGUAGES, N_, translations

KINDS = ("authorization", "checkin", "receipt")
LOCALES = LANGUAGES

# Property.private_info keys. The secrets are printed in check-in instructions only, never in other documents.
HOST_INFO = ("host_name", "host_document", "city")
SECRET_INFO = ("access_instructions", "door_code", "wifi_name", "wifi_password", "house_rules")
TYPED_SECRETS = frozenset({"door_code", "wifi_password"})  # the host's message with one is deleted once it is stored
INFO_KEYS = HOST_INFO + SECRET_INFO
SKIPPABLE_INFO = frozenset({"host_document", *SECRET_INFO})  # "" = the host said there is none

PERSON_KEYS = ("name", "document", "document_type", "document_number")
LIST_FIELDS = frozenset({"guests", "companions"})  # lists of dicts with PERSON_KEYS

COMMON_FIELDS = (
    "property_name", "property_address", "building_contact", "host_name", "host_document", "city",
    "guest_name", "guests_count", "guests", "companions", "guest_phone", "guest_email",
    "check_in", "check_out", "check_in_time", "check_out_time", "nights", "nights_text",
    "reservation_code", "platform", "vehicle_plate", "issue_date",
)  # fmt: skip
KIND_FIELDS = {
    "authorization": COMMON_FIELDS,
    "checkin": COMMON_FIELDS + SECRET_INFO,
    "receipt": COMMON_FIELDS + ("amount", "amount_words", "payer_name", "payer_document"),
}
FIELDS: dict[str, frozenset[str]] = {kind: frozenset(names) for kind, names in KIND_FIELDS.items()}

_DATE = {"pt_BR": "dd/MM/yyyy", "en": "d MMM yyyy"}
_LONG_DATE = {"pt_BR": "d 'de' MMMM 'de' yyyy", "en": "d MMMM yyyy"}
# The documents' words come from the chat's catalogs, in the document's language (not the reader's).
_DIRECT, _OTHER = N_("Direct booking"), N_("Other platform")


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    document_type: str | None = None
    document_number: str | None = None
    guest_id: int | None = None  # None: the main guest known only by name (no Guest row yet)

    @property
    def document(self) -> str:
        return " ".join(part for part in (self.document_type, self.document_number) if part)


@dataclass(frozen=True, slots=True)
class DocumentData:
    """A snapshot of one booking and its property, as plain values."""

    property_name: str
    property_address: str
    checkin_time: time
    checkout_time: time
    currency: str
    check_in: date
    check_out: date
    source: str = "direct"
    building_contact: str | None = None
    info: Mapping[str, str] = field(default_factory=dict)  # a missing key is unknown; "" is "there is none"
    main_guest: str | None = None  # what a person typed, else what the feed said
    guests: tuple[Person, ...] = ()  # the booking's Guest rows, in order
    guests_count: int | None = None
    vehicle_plate: str | None = None  # None: not asked yet; "": no vehicle
    price: Decimal | None = None
    reservation_code: str | None = None
    guest_phone: str | None = None
    guest_email: str | None = None

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


@dataclass(frozen=True, slots=True)
class Need:
    """One thing to ask before a document can be rendered without blanks."""

    key: str  # guest_name | guests_count | guest_document | companion | vehicle_plate | price | address | info
    info: str = ""  # for key "info": which Property.private_info key
    guest_id: int | None = None  # for guest_document: the Guest row; None = the main guest, known only by name
    person: str = ""  # for guest_document: whose document
    skippable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "info": self.info, "guest_id": self.guest_id, "person": self.person,
                "skippable": self.skippable}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Need:
        return cls(str(data["key"]), str(data.get("info", "")), data.get("guest_id"), str(data.get("person", "")),
                   bool(data.get("skippable", False)))  # fmt: skip


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def people(data: DocumentData) -> list[Person]:
    """Everyone staying, the main guest first. The main guest is the typed (or feed) name; a Guest row with the same
    name is that person with their document. Without a name, the first Guest row is the main guest."""
    rows = list(data.guests)
    if not data.main_guest:
        return rows
    wanted = _plain(data.main_guest)
    for index, row in enumerate(rows):
        if _plain(row.name) == wanted:
            return [row, *rows[:index], *rows[index + 1 :]]
    return [Person(data.main_guest), *rows]


def needs(kind: str, used: frozenset[str], data: DocumentData) -> list[Need]:
    """What the template (through the fields it uses) would print blank for this booking, in the order to ask it."""
    found: list[Need] = []
    everyone = people(data)
    if used & {"guest_name", "payer_name", "guests", "companions", "guests_count"} and not everyone:
        return [Need("guest_name")]  # everything about guests starts from the main guest
    if used & {"guests", "companions", "guests_count"}:
        if data.guests_count is None:
            found.append(Need("guests_count"))
        found += [Need("guest_document", guest_id=p.guest_id, person=p.name) for p in everyone if not p.document_number]
        if data.guests_count is not None and len(everyone) < data.guests_count:
            found.append(Need("companion"))
    if "vehicle_plate" in used and data.vehicle_plate is None:
        found.append(Need("vehicle_plate", skippable=True))
    if used & {"amount", "amount_words"} and data.price is None:
        found.append(Need("price"))
    if "property_address" in used and not data.property_address.strip():
        found.append(Need("address"))
    for key in INFO_KEYS:
        if key not in used or data.info.get(key) is not None:
            continue
        if key == "wifi_password" and data.info.get("wifi_name") == "":
            continue  # no Wi-Fi, no password
        found.append(Need("info", info=key, skippable=key in SKIPPABLE_INFO))
    return found


def _person(person: Person) -> dict[str, str]:
    return {"name": person.name, "document": person.document, "document_type": person.document_type or "",
            "document_number": person.document_number or ""}  # fmt: skip


def nights_text(nights: int, locale: str) -> str:
    return translations(locale).ngettext("{n} night", "{n} nights", nights).format(n=nights)


def platform_label(source: str, locale: str) -> str:
    if source == "direct":
        return translations(locale).gettext(_DIRECT)
    return PLATFORM_NAMES.get(source) or translations(locale).gettext(_OTHER)


def build_context(kind: str, locale: str, data: DocumentData, *, today: date) -> dict[str, Any]:
    """The template's data: strings and lists of dicts of strings, only the fields `kind` may use."""
    if kind not in FIELDS or locale not in LOCALES:
        raise ValueError(f"unknown document {kind}/{locale}")
    everyone = people(data)
    main = everyone[0] if everyone else None
    currency = data.currency or "BRL"
    values: dict[str, Any] = {
        "property_name": data.property_name,
        "property_address": data.property_address,
        "building_contact": data.building_contact or "",
        "guest_name": main.name if main else "",
        "guests_count": str(max(data.guests_count or 0, len(everyone))),
        "guests": [_person(p) for p in everyone],
        "companions": [_person(p) for p in everyone[1:]],
        "guest_phone": data.guest_phone or "",
        "guest_email": data.guest_email or "",
        "check_in": format_date(data.check_in, _DATE[locale], locale=locale),
        "check_out": format_date(data.check_out, _DATE[locale], locale=locale),
        "check_in_time": data.checkin_time.strftime("%H:%M"),
        "check_out_time": data.checkout_time.strftime("%H:%M"),
        "nights": str(data.nights),
        "nights_text": nights_text(data.nights, locale),
        "reservation_code": data.reservation_code or "",
        "platform": platform_label(data.source, locale),
        "vehicle_plate": data.vehicle_plate or "",
        "issue_date": format_date(today, _LONG_DATE[locale], locale=locale),
        "amount": format_currency(data.price, currency, locale=locale) if data.price is not None else "",
        "amount_words": amount_in_words(data.price, currency, locale) if data.price is not None else "",
        "payer_name": main.name if main else "",
        "payer_document": main.document if main else "",
    }
    values.update({key: data.info.get(key) or "" for key in INFO_KEYS})
    return {name: values[name] for name in KIND_FIELDS[kind]}


def sample_data() -> DocumentData:
    """The booking a host's own template is tried against before it is accepted."""
    return DocumentData(
        property_name="Apto 101 Copacabana",
        property_address="Av. Atlântica, 1702, apto 101 – Copacabana, Rio de Janeiro – RJ",
        checkin_time=time(15, 0),
        checkout_time=time(11, 0),
        currency="BRL",
        check_in=date(2027, 8, 12),
        check_out=date(2027, 8, 15),
        source="airbnb",
        building_contact="Portaria",
        info={"host_name": "Ana Lima", "host_document": "987.654.321-00", "city": "Rio de Janeiro",
              "access_instructions": "Retire a chave na portaria.", "door_code": "4321",
              "wifi_name": "Apto101", "wifi_password": "praia2027", "house_rules": "Sem festas. Silêncio após 22h."},
        main_guest="Maria Silva",
        guests=(Person("Maria Silva", "CPF", "123.456.789-09", 1), Person("João Silva", "RG", "12.345.678-9", 2)),
        guests_count=2,
        vehicle_plate="ABC1D23",
        price=Decimal("1234.56"),
        reservation_code="HMABCDEF12",
        guest_phone="+55 21 99999-0000",
        guest_email="maria@example.com",
    )  # fmt: skip


def slugify(text: str, *, max_length: int = 40) -> str:
    """ASCII, lower case, words joined by hyphens: "Apto 101 – Copacabana" → "apto-101-copacabana"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def _file_word(kind: str, locale: str) -> str:
    """The kind's name in `locale` for a file name, ASCII: e.g. autorizacao-2027-08-12-apto-101.docx."""
    t = translations(locale)
    words = {
        "authorization": t.pgettext("file name", "authorization"),
        "checkin": t.pgettext("file name", "check-in instructions"),
        "receipt": t.pgettext("file name", "receipt"),
    }
    return slugify(words[kind])


def file_name(kind: str, locale: str, check_in: date, property_name: str, extension: str) -> str:
    words = _file_word(kind, locale)
    name = "-".join(part for part in (words, check_in.isoformat(), slugify(property_name)) if part)
    return f"{name}.{extension}"


def template_file_name(kind: str, locale: str, version: str) -> str:
    words = _file_word(kind, locale)
    return f"{words}-{slugify(locale)}-{slugify(version)}.docx"
