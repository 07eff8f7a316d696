"""Document texts and keyboards: the documents menu of a booking, the questions for missing fields, the property's
document settings (the host's details, the check-in secrets, the templates) and the answers to an uploaded template."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from babel.dates import get_timezone, get_timezone_location

from bot.i18n import LOCALES, N_, _, ngettext
from bot.keyboards.callbacks import BookingCB, DocCB, DocFileCB, DocSetupCB, MailCB, MenuCB, UploadCB
from bot.keyboards.common import button
from bot.views.format import babel_locale, day, esc, moment, short_day
from domain.booking_fields import display_guest
from domain.documents.context import INFO_KEYS, KIND_FIELDS, KINDS, LIST_FIELDS, SECRET_INFO, Need
from domain.documents.package import MAX_TEMPLATE_BYTES
from domain.documents.problem import TemplateProblem
from domain.documents.service import DocumentInfo, Missing, UploadInfo
from domain.identity import country_of, host_number_kind
from storage.models import Booking, Property

KIND_NAMES = {
    "authorization": N_("Guest authorization"),
    "checkin": N_("Check-in instructions"),
    "receipt": N_("Receipt"),
}
KIND_ICONS = {"authorization": "🏢", "checkin": "🔑", "receipt": "🧾"}
LANGUAGE_NAMES = {"pt_BR": "🇧🇷 Português", "en": "🇬🇧 English"}  # each in its own language: not translated
LANGUAGE_SHORT = {"pt_BR": "PT", "en": "EN"}
INFO_LABELS = {
    "host_name": N_("Your name on documents"),
    "host_document": N_("Your tax or ID number"),
    "city": N_("City for the date line"),
    "access_instructions": N_("How to get in"),
    "door_code": N_("Door code"),
    "wifi_name": N_("Wi-Fi network"),
    "wifi_password": N_("Wi-Fi password"),
    "house_rules": N_("House rules"),
}
INFO_QUESTIONS = {
    "host_name": N_("Your full name (or your company's) as it should appear on documents and signatures?"),
    "host_document": N_("Your tax or ID number, printed under your signature? (or Skip)"),
    "city": N_("Which city goes on the place-and-date line, e.g. {city}?"),
    "access_instructions": N_(
        "How does the guest get in? e.g. “Show your ID at the front desk and take the key from the key box.” (or Skip)"
    ),
    "door_code": N_("Door or lock code? It is printed only in the check-in instructions. (or Skip if there is none)"),
    "wifi_name": N_("Wi-Fi network name? (or Skip if there is no Wi-Fi)"),
    "wifi_password": N_("Wi-Fi password?"),
    "house_rules": N_("House rules, one per line? (or Skip)"),
}
FIELD_HELP = {
    "property_name": N_("the property's name"),
    "property_address": N_("its address"),
    "building_contact": N_("who receives the authorization at the building"),
    "host_name": N_("your name"),
    "host_document": N_("your tax or ID number (CPF or CNPJ in Brazil, NIF in Portugal)"),
    "city": N_("city for the date line"),
    "guest_name": N_("the main guest's name"),
    "guests_count": N_("how many guests"),
    "guests": N_("everyone staying, main guest first"),
    "companions": N_("everyone but the main guest"),
    "guest_phone": N_("the guest's phone"),
    "guest_email": N_("the guest's e-mail"),
    "check_in": N_("arrival date"),
    "check_out": N_("departure date"),
    "check_in_time": N_("check-in time"),
    "check_out_time": N_("check-out time"),
    "nights": N_("number of nights"),
    "nights_text": N_("nights in words, e.g. 3 nights"),
    "reservation_code": N_("the platform's reservation code"),
    "platform": N_("where it was booked"),
    "vehicle_plate": N_("vehicle plate (empty: no car)"),
    "issue_date": N_("today's date, written out"),
    "amount": N_("the price, e.g. R$ 1.234,56"),
    "amount_words": N_("the price in words"),
    "payer_name": N_("who paid (the main guest)"),
    "payer_document": N_("the payer's document"),
    "access_instructions": N_("how to get in"),
    "door_code": N_("door code"),
    "wifi_name": N_("Wi-Fi network"),
    "wifi_password": N_("Wi-Fi password"),
    "house_rules": N_("house rules"),
}


HOST_NUMBER_LABELS = {
    "cpf_cnpj": N_("Your CPF or CNPJ"),
    "nif": N_("Your NIF"),
    "tax_id": N_("Your tax or ID number"),
}
HOST_NUMBER_QUESTIONS = {
    "cpf_cnpj": N_("Your CPF or CNPJ, printed under your signature? e.g. 123.456.789-09 (or Skip)"),
    "nif": N_("Your NIF (Portuguese tax number, 9 digits), printed under your signature? (or Skip)"),
    "tax_id": N_("Your tax or ID number, printed under your signature? (or Skip)"),
}


def info_label(key: str, prop: Property | None) -> str:
    """A property detail's name; the host's number is the one the property's country uses."""
    if key == "host_document":
        return _(HOST_NUMBER_LABELS[host_number_kind(country_of(prop.timezone if prop else None))])
    return _(INFO_LABELS[key])


def city_example(timezone: str | None) -> str:
    """A city of the property's own time zone, in the user's language ("Lisboa", "São Paulo")."""
    try:
        return get_timezone_location(get_timezone(timezone or "America/Sao_Paulo"), locale=babel_locale(),
                                     return_city=True)  # fmt: skip
    except LookupError:
        return (timezone or "").rsplit("/", 1)[-1].replace("_", " ")


def kind_name(kind: str) -> str:
    return _(KIND_NAMES.get(kind, kind))


def locales_for(user_locale: str) -> list[str]:
    """The user's language first: it is the default."""
    return sorted(LOCALES, key=lambda locale: locale != user_locale)


# --- a booking's documents -------------------------------------------------------------------------------------


def documents_menu(booking: Booking, prop: Property, recent: list[DocumentInfo], *, tz: str) -> str:
    lines = [
        _("📄 <b>Documents</b> · {property} · {start} → {end}").format(
            property=esc(prop.name), start=short_day(booking.check_in), end=short_day(booking.check_out)
        ),
        "",
        _("Which document do you want? I will ask for anything it still needs."),
    ]
    if recent:
        lines += ["", _("Made before (tap to send again, unchanged):")]
        lines += [f"• {esc(doc.file_name)} · {moment(doc.created_at, tz)}" for doc in recent]
    return "\n".join(lines)


def documents_keyboard(booking: Booking, recent: list[DocumentInfo]) -> InlineKeyboardMarkup:
    rows = [[button(f"{KIND_ICONS[kind]} {kind_name(kind)}", DocCB(id=booking.id, action="kind", kind=kind))]
            for kind in KINDS]  # fmt: skip
    rows += [[button(f"🔁 {doc.file_name[:48]}", DocFileCB(id=doc.id))] for doc in recent]
    rows.append([button(_("✉️ Send to the building"), MailCB(id=booking.id))])
    rows.append([button(_("⚙️ Templates and details"), DocSetupCB(id=booking.property_id))])
    rows.append([button(_("⬅️ Back"), BookingCB(id=booking.id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def format_text(kind: str) -> str:
    return _("{document}: in which language and format?").format(document=f"<b>{kind_name(kind)}</b>")


def format_keyboard(booking_id: int, kind: str, user_locale: str, *, pdf: bool = True) -> InlineKeyboardMarkup:
    """Word and, where LibreOffice is installed, PDF, in each language. No PDF button where it cannot work."""
    rows = [
        [button(f"{LANGUAGE_NAMES[locale]} · Word", DocCB(id=booking_id, action="make", kind=kind, lang=locale,
                                                          fmt="docx"))]
        + ([button(f"{LANGUAGE_NAMES[locale]} · PDF", DocCB(id=booking_id, action="make", kind=kind, lang=locale,
                                                            fmt="pdf"))] if pdf else [])
        for locale in locales_for(user_locale)
    ]  # fmt: skip
    rows.append([button(_("⬅️ Back"), DocCB(id=booking_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def question(need: Need, *, timezone: str | None = None) -> str:
    """What to ask for `need`; `timezone` (the property's) picks the host's number and the city example."""
    if need.key == "guest_name":
        return _("Main guest's full name?")
    if need.key == "guests_count":
        return _("How many guests in all?")
    if need.key == "guest_document":
        return _("Document of {name}? e.g. CPF 123.456.789-09, RG 12.345.678-9 or Passport X1234567.").format(
            name=f"<b>{esc(need.person)}</b>"
        )
    if need.key == "companion":
        return _("Full name of the next guest?")
    if need.key == "vehicle_plate":
        return _("Vehicle plate?")
    if need.key == "price":
        return _("Total price of the stay? (e.g. 1.234,56)")
    if need.key == "address":
        return _("What is the address?")
    if need.info == "host_document":
        return _(HOST_NUMBER_QUESTIONS[host_number_kind(country_of(timezone))])
    if need.info == "city":
        return _(INFO_QUESTIONS["city"]).format(city=city_example(timezone))
    return _(INFO_QUESTIONS[need.info])


def missing_text(kind: str, missing: Missing, *, timezone: str | None = None) -> str:
    count = ngettext("{n} thing is missing.", "{n} things are missing.", missing.remaining).format(n=missing.remaining)
    return f"<b>{kind_name(kind)}</b>: {count}\n\n{question(missing.need, timezone=timezone)}"


def question_keyboard(booking_id: int, need: Need) -> InlineKeyboardMarkup:
    rows = []
    if need.skippable:
        label = _("🚫 No car") if need.key == "vehicle_plate" else _("Skip")
        rows.append([button(label, DocCB(id=booking_id, action="skip"))])
    rows.append([button(_("✖️ Stop"), DocCB(id=booking_id, action="stop"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def stopped_text() -> str:
    return _("Stopped. What you already answered is saved; tap 📄 Documents on the booking to go on.")


def caption(kind: str, prop: Property, booking: Booking) -> str:
    dates = f"{day(booking.check_in)} → {day(booking.check_out)}"
    return f"{KIND_ICONS[kind]} {kind_name(kind)} · {esc(prop.name)} · {dates}"


def sent_again_caption(document: DocumentInfo, tz: str) -> str:
    return _("🔁 Sent again, unchanged (made {when}).").format(when=moment(document.created_at, tz))


def after_document_keyboard(booking_id: int, *, mail: bool = False) -> InlineKeyboardMarkup:
    rows = [[button(_("✉️ Send to the building"), MailCB(id=booking_id))]] if mail else []
    rows.append([button(_("📄 Other documents"), DocCB(id=booking_id)),
                 button(_("⬅️ Booking"), BookingCB(id=booking_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def pdf_unavailable() -> str:
    return _("PDF is not available on this server (LibreOffice is not installed). Choose Word (.docx).")


def pdf_failed() -> str:
    return _("I could not make the PDF this time. Here is the Word file instead.")


# --- the property's document settings --------------------------------------------------------------------------


def _info_value(key: str, info: dict[str, str]) -> str:
    value = info.get(key)
    if value is None:
        return _("not set")
    if value == "":
        return _("none")
    if key in SECRET_INFO:
        return _("set (hidden)")
    return esc(value)


def _template_status(upload: UploadInfo | None) -> str:
    if upload is None:
        return _("default")
    return _("yours, version {version} of {date}").format(
        version=upload.version, date=day(upload.created_at.date(), with_year=True)
    )


def setup_text(prop: Property, info: dict[str, str], uploads: dict[tuple[str, str], UploadInfo]) -> str:
    lines = [
        _("⚙️ <b>Documents of {property}</b>").format(property=esc(prop.name)),
        "",
        _("Your details and the check-in secrets (the secrets are printed only in check-in instructions):"),
    ]
    lines += [f"• {info_label(key, prop)}: {_info_value(key, info)}" for key in INFO_KEYS]
    lines += ["", _("Templates:")]
    lines += [
        f"• {kind_name(kind)} ({LANGUAGE_SHORT[locale]}): {_template_status(uploads.get((kind, locale)))}"
        for kind in KINDS
        for locale in LOCALES
    ]
    lines += ["", _("To use your own template, send me a .docx file (up to 2 MB).")]
    return "\n".join(lines)  # fmt: skip


def setup_keyboard(prop: Property) -> InlineKeyboardMarkup:
    info = [button(f"✏️ {info_label(key, prop)}", DocSetupCB(id=prop.id, action="info", key=key)) for key in INFO_KEYS]
    templates = [button(f"📄 {kind_name(kind)} ({LANGUAGE_SHORT[locale]})",
                        DocSetupCB(id=prop.id, action="tpl", key=kind, lang=locale))
                 for kind in KINDS for locale in LOCALES]  # fmt: skip
    rows = [info[i : i + 2] for i in range(0, len(info), 2)] + [[b] for b in templates]
    rows.append([button(_("✉️ E-mail to the building"), MailCB(id=prop.id, action="open"))])
    rows.append([button(_("☰ Menu"), MenuCB(to="menu"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def info_keyboard(prop_id: int, key: str, *, skippable: bool) -> InlineKeyboardMarkup:
    rows = [[button(_("Skip"), DocSetupCB(id=prop_id, action="info_skip", key=key))]] if skippable else []
    rows.append([button(_("⬅️ Back"), DocSetupCB(id=prop_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def pick_property_keyboard(props: list[Property]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(f"🏠 {p.name[:40]}", DocSetupCB(id=p.id))] for p in props])


def fields_text(kind: str) -> str:
    lines = []
    for name in KIND_FIELDS[kind]:
        if name in LIST_FIELDS:
            example = "{%tr for g in " + name + " %} {{ g.name }} {{ g.document }} {%tr endfor %}"
        else:
            example = "{{ " + name + " }}"
        lines.append(f"<code>{esc(example)}</code> — {_(FIELD_HELP[name])}")
    return "\n".join(lines)


def template_text(prop: Property, kind: str, locale: str, upload: UploadInfo | None) -> str:
    return "\n".join([
        f"📄 <b>{kind_name(kind)}</b> ({LANGUAGE_NAMES[locale]}) · {esc(prop.name)}",
        _("Template in use: {status}.").format(status=_template_status(upload)),
        "",
        _("To use your own, download this one, change it in Word and send it back to me as a .docx. Fields you can "
          "use:"),
        fields_text(kind),
    ])  # fmt: skip


def template_keyboard(prop_id: int, kind: str, locale: str, *, custom: bool) -> InlineKeyboardMarkup:
    rows = [[button(_("⬇️ Download this template"), DocSetupCB(id=prop_id, action="get", key=kind, lang=locale))]]
    if custom:
        rows.append([button(_("↩️ Back to the default"), DocSetupCB(id=prop_id, action="revert", key=kind,
                                                                    lang=locale))])  # fmt: skip
    rows.append([button(_("⬅️ Back"), DocSetupCB(id=prop_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def revert_text(prop: Property, kind: str, locale: str) -> str:
    return _("Go back to the default template for {document} ({language}) of {property}? Yours stays in the "
             "history.").format(document=kind_name(kind), language=LANGUAGE_NAMES[locale],
                                property=esc(prop.name))  # fmt: skip


def reverted_text(kind: str, locale: str) -> str:
    return _("Done: {document} ({language}) uses the default template again.").format(
        document=kind_name(kind), language=LANGUAGE_NAMES[locale]
    )


# --- uploading a template -------------------------------------------------------------------------------------


def upload_property_keyboard(props: list[Property]) -> InlineKeyboardMarkup:
    rows = [[button(f"🏠 {p.name[:40]}", UploadCB(id=p.id))] for p in props]
    rows.append([button(_("✖️ Cancel"), "cancel")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def upload_kind_keyboard(prop_id: int) -> InlineKeyboardMarkup:
    rows = [[button(f"{KIND_ICONS[kind]} {kind_name(kind)}", UploadCB(id=prop_id, kind=kind))] for kind in KINDS]
    rows.append([button(_("✖️ Cancel"), "cancel")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def upload_language_keyboard(prop_id: int, kind: str, user_locale: str) -> InlineKeyboardMarkup:
    rows = [[button(LANGUAGE_NAMES[locale], UploadCB(id=prop_id, kind=kind, lang=locale))]
            for locale in locales_for(user_locale)]  # fmt: skip
    rows.append([button(_("✖️ Cancel"), "cancel")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def upload_received(file_name: str) -> str:
    return _("Got {file}. Which property is this template for?").format(file=f"<b>{esc(file_name)}</b>")


def upload_kind_text() -> str:
    return _("Which document is this template for?")


def upload_language_text() -> str:
    return _("In which language is it written?")


def template_saved(prop: Property, kind: str, locale: str, version: int) -> str:
    return _("✅ Saved: from now on, {document} ({language}) of {property} uses your template (version {version}). "
             "Here it is filled in with a sample booking:").format(
        document=kind_name(kind), language=LANGUAGE_NAMES[locale], property=esc(prop.name), version=version
    )  # fmt: skip


def problem_text(problem: TemplateProblem, kind: str) -> str:
    """Why an uploaded template was refused, and what to do."""
    limit = MAX_TEMPLATE_BYTES // (1024 * 1024)
    if problem.code == "too_large":
        return _("That file is larger than {mb} MB. Send a smaller .docx.").format(mb=limit)
    if problem.code == "not_docx":
        return _("That is not a Word .docx file. Save it as .docx (Word 2007 or later) and send it again.")
    if problem.code == "active":
        return _("I refused this file: it contains {what}, which Word or LibreOffice would run or fetch on their own. "
                 "Remove it and send the file again.").format(what=_active_content(problem.detail))
    if problem.code == "limits":
        return _("Filling in this template took too much time or memory, so I refused it. Simplify it (fewer "
                 "filters, smaller pictures) and send it again.")
    if problem.code == "syntax":
        return _("The template has a mistake in its fields: {detail}. Fix it in Word and send it again.").format(
            detail=esc(problem.detail)
        )
    if problem.code == "outside":
        return (
            _("I refused this template: it tries to reach beyond the document's data ({detail}). A template may only "
              "print the fields below, with simple filters such as |upper, and loop over guests.").format(
                detail=f"<code>{esc(problem.detail)}</code>" if problem.detail else "—")
            + "\n\n" + fields_text(kind)
        )  # fmt: skip
    if problem.code == "unknown_fields":
        unknown = ", ".join(f"<code>{esc(name)}</code>" for name in problem.unknown)
        return (
            _("These fields do not exist in a {document}: {fields}. Nothing was saved. Fix them and send the file "
              "again. Fields you can use:").format(document=kind_name(kind), fields=unknown)
            + "\n\n" + fields_text(kind)
        )  # fmt: skip
    return _("The template could not be filled in with a sample booking: {detail}. Fix it and send it again.").format(
        detail=esc(problem.detail or "—")
    )


def _active_content(detail: str) -> str:
    if detail.startswith("field "):
        return _("a {name} field").format(name=f"<code>{esc(detail.removeprefix('field '))}</code>")
    if detail == "external_link":
        return _("a link to a file outside the document")
    return _("macros or embedded objects")


def not_word_file() -> str:
    return _("I can only use Word .docx files as templates. Save the file as .docx and send it again.")


def other_file(name: str) -> str:
    return _("I cannot use {name}. The only files I take are document templates: Word .docx files up to {size} MB "
             "(authorization, check-in instructions or receipt). To make a document, open a booking and tap "
             "📄 Documents.").format(name=f"<code>{esc(name[:60])}</code>" if name else _("this file"),
                                    size=MAX_TEMPLATE_BYTES // (1024 * 1024))  # fmt: skip


def pdf_off_note() -> str:
    """Said once, in /settings, where LibreOffice is missing (the PDF buttons are hidden)."""
    return _("📄 PDF documents are off on this server: install LibreOffice (apt-get install libreoffice-writer-nogui) "
             "or set LUMINA_SOFFICE_PATH, then restart LUMINA. Word documents work meanwhile.")


def no_manageable_properties() -> str:
    return _("Only owners and managers of a property can work with its documents.")


def command_text(count: int) -> str:
    if not count:
        return _("No upcoming reservations. Open a booking from /today, /upcoming or /calendar and tap 📄 Documents.")
    return _("Which booking is the document for?")


def command_keyboard(entries: list[tuple[Property, Booking]], setup: DocSetupCB) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for prop, booking in entries:
        guest = display_guest(booking)
        who = f" · {guest[:20]}" if guest else ""
        rows.append([button(f"{prop.name[:20]}{who} · {short_day(booking.check_in)}", DocCB(id=booking.id))])
    rows.append([button(_("⚙️ Templates and details"), setup)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
