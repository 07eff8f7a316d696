"""Reading the platforms' reservation mails: Airbnb (confirmed, changed, cancelled) and Booking.com (new, modified,
cancelled), in Portuguese, English, Italian and Spanish. Pure: bytes in, a PlatformMessage or a reason out.

Only mail that is really from a platform counts: its From domain must be the platform's, and the receiving
server's verdict (the topmost Authentication-Results header, which our own server adds above anything the sender
wrote) must say DMARC passed, or DKIM passed for that same domain. Anything else is ignored, however it looks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

MAX_BYTES = 2_000_000  # larger messages (attachments) are skipped before they are downloaded
PLATFORM_DOMAINS = {
    "airbnb": ("airbnb.com", "airbnb.com.br", "airbnb.it", "airbnb.es", "airbnb.pt", "airbnb.mx", "airbnb.co.uk"),
    "booking": ("booking.com",),
}


@dataclass(frozen=True, slots=True)
class PlatformMessage:
    platform: str  # airbnb | booking
    event: str  # confirmed | changed | cancelled
    reservation_code: str | None
    listing: str | None = None  # the platform's listing id (or the property's name when there is no id)
    guest_name: str | None = None
    check_in: date | None = None
    check_out: date | None = None
    guests: int | None = None
    amount: Decimal | None = None
    currency: str | None = None
    phone: str | None = None
    message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        return {
            "guest_name": self.guest_name,
            "check_in": self.check_in.isoformat() if self.check_in else None,
            "check_out": self.check_out.isoformat() if self.check_out else None,
            "guests": self.guests,
            "amount": str(self.amount) if self.amount is not None else None,
            "currency": self.currency,
            "phone": self.phone,
        }


class NotPlatformMail(Exception):
    """`reason`: malformed | unknown_sender | unverified | not_reservation | too_large."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# --- the sender ------------------------------------------------------------------------------------------------


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower().rstrip(">")


def _belongs(domain: str, platform: str) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in PLATFORM_DOMAINS[platform])


def sender_platform(message: EmailMessage) -> str:
    """The platform this mail really comes from, or NotPlatformMail."""
    froms = message.get_all("From") or []
    if len(froms) != 1:
        raise NotPlatformMail("unknown_sender", "no single From")
    _name, address = parseaddr(str(froms[0]))
    domain = _domain_of(address)
    platform = next((p for p in PLATFORM_DOMAINS if _belongs(domain, p)), None)
    if platform is None:
        raise NotPlatformMail("unknown_sender", domain)
    results = message.get_all("Authentication-Results") or []
    if not results:
        raise NotPlatformMail("unverified", "no Authentication-Results")
    verdict = " ".join(str(results[0]).lower().split())  # the topmost: our own server's
    dmarc = re.search(r"\bdmarc=pass\b", verdict) and re.search(r"header\.from=([\w.-]+)", verdict)
    if dmarc and _belongs(dmarc.group(1), platform):
        return platform
    for found in re.finditer(r"\bdkim=pass\b[^;]*?header\.[di]=@?([\w.-]+)", verdict):
        if _belongs(found.group(1), platform) and _belongs(domain, platform):
            return platform
    raise NotPlatformMail("unverified", verdict[:200])


# --- the text ---------------------------------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in ("br", "p", "div", "tr", "td", "li", "h1", "h2", "h3", "table"):
            self.parts.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.parts.append(f" {href} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return html.unescape("".join(parser.parts))


def body_text(message: EmailMessage) -> str:
    """The plain text part, or the HTML part as text when the mail has no plain one."""
    part = message.get_body(("plain",))
    if part is not None:
        return str(part.get_content())
    part = message.get_body(("html",))
    if part is not None:
        return html_text(str(part.get_content()))
    raise NotPlatformMail("not_reservation", "no text")


# --- what it says -----------------------------------------------------------------------------------------------

_EVENTS: dict[str, list[tuple[str, str]]] = {
    "airbnb": [
        (r"cancel|cancelad|annullat", "cancelled"),
        (r"alterad|changed|modificad|change approved|alteração|cambio|modifica", "changed"),
        (r"confirmed|confirmada|confermata|prenotazione confermata", "confirmed"),
    ],
    "booking": [
        (r"cancel|annullat|cancelación", "cancelled"),
        (r"modif", "changed"),
        (r"new booking|nova reserva|nueva reserva|nuova prenotazione", "confirmed"),
    ],
}
_GUEST_SUBJECT = re.compile(
    r"(?:confirmed|confirmada|confermata)\s*[-:–]\s*(?P<name>.+?)\s+(?:arrives|chega|llega|arriva)\b", re.I)
_GUEST_BODY = re.compile(
    r"(?:guest name|guest|nome do hóspede|hóspede|nombre del huésped|huésped|nome dell'ospite|ospite)"
    r"\s*:\s*(?P<name>[^\n]+)", re.I)  # fmt: skip
_AIRBNB_CODE = re.compile(r"\b(HM[A-Z0-9]{8})\b")
_BOOKING_NUMBER = re.compile(r"\((\d{8,12})[,)]|(?:booking number|número da reserva|número de reserva|numero di prenotazione)\s*:?\s*(\d{8,12})", re.I)  # noqa: E501
_AIRBNB_LISTING = re.compile(r"airbnb\.[a-z.]+/rooms/(\d+)", re.I)
_BOOKING_LISTING = re.compile(r"(?:property id|id da propriedade|id del alojamiento|id della struttura|hotel_id=)\s*:?\s*(\d{3,12})", re.I)  # noqa: E501
_GUESTS = re.compile(r"(?<![\d.,])(\d{1,2})[ \t]+(?:guests?|adults?|hóspedes?|adultos?|huéspedes?|ospiti|adulti)\b",
                     re.I)
_PHONE = re.compile(r"(?:phone|telefone|teléfono|telefono)\s*:?\s*(\+?\d[\d\s().-]{7,20}\d)", re.I)
_MONEY = re.compile(r"(R\$|US\$|\$|€|£|BRL|USD|EUR|GBP)\s?(\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{2})?|\d+(?:[.,]\d{2})?)")
_AMOUNT_LABELS = re.compile(
    r"you earn|total payout|você recebe|seus ganhos|ganas|guadagni|total \((?:brl|usd|eur)\)|total price|preço total|"
    r"precio total|prezzo totale|valor total|importe total|importo totale", re.I)  # fmt: skip
_CHECK_IN = re.compile(r"check-?in|entrada|arrivo|llegada", re.I)
_CHECK_OUT = re.compile(r"check-?out|checkout|saída|salida|partenza", re.I)
_MONTHS = {
    **dict.fromkeys(("jan", "january", "janeiro", "enero", "gennaio", "gen", "ene"), 1),
    **dict.fromkeys(("feb", "february", "fev", "fevereiro", "febrero", "febbraio"), 2),
    **dict.fromkeys(("mar", "march", "março", "marco", "marzo"), 3),
    **dict.fromkeys(("apr", "april", "abr", "abril", "aprile"), 4),
    **dict.fromkeys(("may", "mai", "maio", "mayo", "maggio", "mag"), 5),
    **dict.fromkeys(("jun", "june", "junho", "junio", "giugno", "giu"), 6),
    **dict.fromkeys(("jul", "july", "julho", "julio", "luglio", "lug"), 7),
    **dict.fromkeys(("aug", "august", "ago", "agosto"), 8),
    **dict.fromkeys(("sep", "sept", "september", "set", "setembro", "septiembre", "settembre"), 9),
    **dict.fromkeys(("oct", "october", "out", "outubro", "octubre", "ott", "ottobre"), 10),
    **dict.fromkeys(("nov", "november", "novembro", "noviembre", "novembre"), 11),
    **dict.fromkeys(("dec", "december", "dez", "dezembro", "dic", "diciembre", "dicembre"), 12),
}
_MONTH = r"([a-zçã]{3,10})\.?"
_DATES = [
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), ("y", "m", "d")),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("d", "m", "y")),
    (re.compile(rf"(\d{{1,2}})\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?(\d{{4}})", re.I), ("d", "M", "y")),
    (re.compile(rf"{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})", re.I), ("M", "d", "y")),
]


def _date_after(text: str, label: re.Pattern[str]) -> date | None:
    for found in label.finditer(text):
        window = text[found.end(): found.end() + 80]
        best: tuple[int, date] | None = None
        for pattern, order in _DATES:
            match = pattern.search(window)
            if match is None:
                continue
            parts = dict(zip(order, match.groups(), strict=True))
            month = _MONTHS.get(parts["M"].lower()) if "M" in parts else int(parts["m"])
            try:
                value = date(int(parts["y"]), month or 0, int(parts["d"]))
            except ValueError:
                continue
            if best is None or match.start() < best[0]:
                best = (match.start(), value)
        if best is not None:
            return best[1]
    return None


def _amount(text: str) -> tuple[Decimal | None, str | None]:
    for label in _AMOUNT_LABELS.finditer(text):
        found = _MONEY.search(text, label.end(), label.end() + 80)
        if found is None:
            continue
        symbol, number = found.groups()
        currency = {"R$": "BRL", "US$": "USD", "$": "USD", "€": "EUR", "£": "GBP"}.get(symbol, symbol)
        number = number.replace(" ", "")
        decimal_comma = re.search(r",\d{2}$", number)  # 1.240,00 rather than 1,240.00
        number = number.replace(".", "").replace(",", ".") if decimal_comma else number.replace(",", "")
        try:
            return Decimal(number), currency
        except InvalidOperation:
            continue
    return None, None


def parse(raw: bytes) -> PlatformMessage:
    """A platform's reservation mail, or NotPlatformMail saying why not."""
    if len(raw) > MAX_BYTES:
        raise NotPlatformMail("too_large", str(len(raw)))
    try:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        subject = " ".join(str(message.get("Subject", "")).split())
    except Exception as error:  # malformed headers: the email package raises a zoo of errors
        raise NotPlatformMail("malformed", f"{type(error).__name__}") from error
    platform = sender_platform(message)
    try:
        text = body_text(message)
    except NotPlatformMail:
        raise
    except Exception as error:
        raise NotPlatformMail("malformed", f"{type(error).__name__}") from error
    event = next((name for pattern, name in _EVENTS[platform] if re.search(pattern, subject, re.I)), None)
    if event is None:
        raise NotPlatformMail("not_reservation", subject[:100])
    everything = f"{subject}\n{text}"
    if platform == "airbnb":
        code_match = _AIRBNB_CODE.search(everything)
        code = code_match.group(1) if code_match else None
        listing_match = _AIRBNB_LISTING.search(text)
    else:
        number = _BOOKING_NUMBER.search(everything)
        code = next((g for g in number.groups() if g), None) if number else None
        listing_match = _BOOKING_LISTING.search(text)
    if code is None:
        raise NotPlatformMail("not_reservation", "no reservation code")
    name = _GUEST_SUBJECT.search(subject) or _GUEST_BODY.search(text)
    guests = _GUESTS.search(text)
    amount, currency = _amount(text)
    phone = _PHONE.search(text)
    message_id = str(message.get("Message-ID", "")).strip() or None
    received = None
    try:
        received = parsedate_to_datetime(str(message.get("Date"))) if message.get("Date") else None
    except (TypeError, ValueError):
        received = None
    return PlatformMessage(
        platform=platform, event=event, reservation_code=code,
        listing=listing_match.group(1) if listing_match else None,
        guest_name=" ".join(name.group("name").split())[:200] if name else None,
        check_in=_date_after(text, _CHECK_IN), check_out=_date_after(text, _CHECK_OUT),
        guests=int(guests.group(1)) if guests else None, amount=amount, currency=currency,
        phone=" ".join(phone.group(1).split()) if phone else None, message_id=message_id,
        extra={"received": received.isoformat() if received else None, "subject": subject[:200]},
    )  # fmt: skip
