"""Anonymized platform mails of the real shapes (Airbnb's host notifications, Booking.com's extranet notices), in
Portuguese, English, Italian and Spanish: names, codes, listings and amounts are made up."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

AIRBNB_SUBJECTS = {
    ("confirmed", "en"): "Reservation confirmed - {guest} arrives Aug 12",
    ("confirmed", "pt"): "Reserva confirmada - {guest} chega em 12 de ago.",
    ("confirmed", "es"): "Reserva confirmada: {guest} llega el 12 ago",
    ("confirmed", "it"): "Prenotazione confermata - {guest} arriva il 12 ago",
    ("changed", "en"): "Reservation change approved for {code}",
    ("changed", "pt"): "Alteração de reserva aprovada: {code}",
    ("changed", "es"): "Cambio de reserva aprobado: {code}",
    ("changed", "it"): "Modifica della prenotazione approvata: {code}",
    ("cancelled", "en"): "Reservation {code} on Aug 12 – 15, 2027 has been cancelled",
    ("cancelled", "pt"): "Reserva {code} de 12 – 15 de ago. de 2027 cancelada",
    ("cancelled", "es"): "Reserva {code} del 12 al 15 de ago. de 2027 cancelada",
    ("cancelled", "it"): "Prenotazione {code} dal 12 al 15 ago 2027 annullata",
}
AIRBNB_LABELS = {
    "en": ("Check-in", "Checkout", "{n} adults", "Confirmation code", "You earn", "August 12, 2027", "August 15, 2027"),
    "pt": ("Check-in", "Checkout", "{n} adultos", "Código de confirmação", "Você recebe", "12 de agosto de 2027",
           "15 de agosto de 2027"),
    "es": ("Llegada", "Salida", "{n} adultos", "Código de confirmación", "Ganas", "12 de agosto de 2027",
           "15 de agosto de 2027"),
    "it": ("Check-in", "Check-out", "{n} adulti", "Codice di conferma", "Guadagni", "12 agosto 2027",
           "15 agosto 2027"),
}  # fmt: skip
BOOKING_SUBJECTS = {
    ("confirmed", "en"): "Booking.com - New booking! ({code}, Thursday, 12 August 2027)",
    ("confirmed", "pt"): "Booking.com - Nova reserva! ({code}, quinta-feira, 12 de agosto de 2027)",
    ("confirmed", "es"): "Booking.com - ¡Nueva reserva! ({code}, jueves, 12 de agosto de 2027)",
    ("confirmed", "it"): "Booking.com - Nuova prenotazione! ({code}, giovedì 12 agosto 2027)",
    ("changed", "en"): "Booking.com - Modified booking! ({code}, Thursday, 12 August 2027)",
    ("changed", "pt"): "Booking.com - Reserva modificada! ({code}, quinta-feira, 12 de agosto de 2027)",
    ("changed", "es"): "Booking.com - ¡Reserva modificada! ({code}, jueves, 12 de agosto de 2027)",
    ("changed", "it"): "Booking.com - Prenotazione modificata! ({code}, giovedì 12 agosto 2027)",
    ("cancelled", "en"): "Booking.com - Cancelled booking! ({code}, Thursday, 12 August 2027)",
    ("cancelled", "pt"): "Booking.com - Reserva cancelada! ({code}, quinta-feira, 12 de agosto de 2027)",
    ("cancelled", "es"): "Booking.com - ¡Reserva cancelada! ({code}, jueves, 12 de agosto de 2027)",
    ("cancelled", "it"): "Booking.com - Prenotazione annullata! ({code}, giovedì 12 agosto 2027)",
}
BOOKING_LABELS = {
    "en": ("Guest name", "Check-in", "Check-out", "{n} guests", "Total price", "Phone", "Property ID"),
    "pt": ("Nome do hóspede", "Check-in", "Check-out", "{n} hóspedes", "Preço total", "Telefone", "ID da propriedade"),
    "es": ("Nombre del huésped", "Llegada", "Salida", "{n} huéspedes", "Precio total", "Teléfono",
           "ID del alojamiento"),
    "it": ("Nome dell'ospite", "Arrivo", "Partenza", "{n} ospiti", "Prezzo totale", "Telefono", "ID della struttura"),
}  # fmt: skip
VERIFIED = "mx.lumina-test.example; dkim=pass header.d={domain} header.s=s1; spf=pass smtp.mailfrom={domain}; " \
    "dmarc=pass (p=REJECT) header.from={domain}"


def airbnb_mail(event: str = "confirmed", language: str = "en", *, code: str = "HMQX7Z2K4B",
                guest: str = "Maria Silva", guests: int = 2, amount: str = "R$ 1.240,00", listing: str = "53127744",
                html_only: bool = False, authentication: str | None = None, sender: str = "automated@airbnb.com",
                message_id: str | None = None) -> bytes:  # fmt: skip
    check_in_label, check_out_label, people, code_label, earn, start, end = AIRBNB_LABELS[language]
    lines = [
        "%opentrack%",
        f"https://www.airbnb.com.br/hosting/reservations/details/{code}",
        f"{guest}",
        "Identity verified · 4 reviews",
        f"https://www.airbnb.com.br/rooms/{listing}",
        "APTO 101 · VISTA MAR",
        f"{check_in_label}", f"{start}", "15:00",
        f"{check_out_label}", f"{end}", "11:00",
        people.format(n=guests),
        f"{code_label}", code,
        f"{earn}", amount,
    ]
    return _mail(sender, AIRBNB_SUBJECTS[(event, language)].format(guest=guest, code=code), lines,
                 html_only=html_only, domain=sender.rpartition("@")[2], authentication=authentication,
                 message_id=message_id)  # fmt: skip


def booking_mail(event: str = "confirmed", language: str = "pt", *, code: str = "4127093385",
                 guest: str = "João Pereira", guests: int = 3, amount: str = "R$ 2.150,50", listing: str = "9912345",
                 phone: str = "+55 21 99876-5432", html_only: bool = False, authentication: str | None = None,
                 sender: str = "noreply@booking.com", message_id: str | None = None) -> bytes:  # fmt: skip
    name_label, check_in_label, check_out_label, people, total, phone_label, property_label = BOOKING_LABELS[language]
    lines = [
        "Booking.com",
        f"{property_label}: {listing}",
        f"{name_label}: {guest}",
        f"{check_in_label}: 12/08/2027",
        f"{check_out_label}: 16/08/2027",
        people.format(n=guests),
        f"{total}: {amount}",
        f"{phone_label}: {phone}",
        f"https://admin.booking.com/hotel/hoteladmin/extranet_ng/manage/booking.html?res_id={code}&hotel_id={listing}",
    ]
    return _mail(sender, BOOKING_SUBJECTS[(event, language)].format(code=code), lines, html_only=html_only,
                 domain=sender.rpartition("@")[2], authentication=authentication, message_id=message_id)  # fmt: skip


def _mail(sender: str, subject: str, lines: list[str], *, html_only: bool, domain: str,
          authentication: str | None, message_id: str | None) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["Authentication-Results"] = authentication if authentication is not None else VERIFIED.format(domain=domain)
    message["From"] = f"Platform <{sender}>"
    message["To"] = "host@example.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2027, 7, 20, 12, 0, tzinfo=UTC))
    message["Message-ID"] = message_id or f"<{abs(hash((subject, tuple(lines))))}@{domain}>"
    text = "\n".join(lines) + "\n"
    if html_only:
        cells = "".join(f"<tr><td>{line}</td></tr>" for line in lines)
        message.set_content(f"<html><body><table>{cells}</table><style>.x{{}}</style></body></html>", subtype="html")
    else:
        message.set_content(text)
        message.add_alternative("<html><body><p>" + "</p><p>".join(lines) + "</p></body></html>", subtype="html")
    return bytes(message)
