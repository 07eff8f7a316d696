"""E-mail texts: the mail to the building (plain text, in the building's language), and the chat's side of it
(confirmations, failures in plain words, the revision question, the property's mail settings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _, ngettext, use_locale
from bot.keyboards.callbacks import BookingCB, DocSetupCB, MailCB
from bot.keyboards.common import button
from bot.views.feeds import platform_name
from bot.views.format import day, esc, moment, money, stay_range
from domain.mail.building import BuildingMail
from jobs.delivery import Button, Rendered
from storage.models import Outbox, Property

MODE_LABELS = {
    "auto": N_("automatically (and revisions without asking)"),
    "ask": N_("when I ask (and I am asked about revisions)"),
    "never": N_("never"),
}
LANGUAGE_NAMES = {"pt_BR": "Português", "en": "English"}
REASONS = {
    "refused": N_("the server refused the address"),
    "rejected": N_("the server refused the message"),
    "auth": N_("the server did not accept the login (user name or app password)"),
    "certificate": N_("the server's certificate could not be verified"),
    "tls": N_("a secure connection to the server could not be made"),
    "unsupported": N_("the server does not offer what the settings ask for (STARTTLS or login)"),
    "gave_up": N_("the server kept failing; I gave up after several tries"),
    "interrupted": N_("LUMINA was stopped while sending it: it may or may not have arrived"),
    "missing": N_("the authorization still lacks details"),
    "error": N_("an unexpected error"),
}
FIELD_NAMES = {"dates": N_("dates"), "guests": N_("guests"), "plate": N_("vehicle plate"),
               "cancelled": N_("cancelled")}  # fmt: skip


def default_body() -> str:
    return _("Good day,\n\nPlease find attached the guest authorization for the stay below. Any question, just "
             "reply to this e-mail.\n\nThank you!")  # fmt: skip


def compose(kind: str, locale: str, facts: dict[str, Any]) -> tuple[str, str]:
    """The Composer the mail job is given: (subject, body) of a mail to the building."""
    with use_locale(locale):
        check_in, check_out = date.fromisoformat(facts["check_in"]), date.fromisoformat(facts["check_out"])
        dates = f"{day(check_in, with_year=True)} → {day(check_out, with_year=True)}"
        guest = facts.get("guest_name") or (facts.get("guests") or [""])[0]
        subjects = {
            "authorization": _("Guest authorization: {property}, {dates}, {guest}"),
            "revision": _("REVISED guest authorization: {property}, {dates}, {guest}"),
            "cancellation": _("CANCELLED stay: {property}, {dates}, {guest}"),
        }
        subject = subjects[kind].format(property=facts["property"], dates=dates, guest=guest).rstrip(", ")
        lines: list[str] = []
        if kind == "cancellation":
            lines.append(_("Good day,\n\nThe stay below was cancelled: the guest authorization sent for it is no "
                           "longer valid. Please do not let these guests in on its account."))  # fmt: skip
        else:
            lines.append(facts.get("host_body") or default_body())
            if kind == "revision":
                sent = facts.get("previous_sent_at")
                when = day(datetime.fromisoformat(sent).date(), with_year=True) if sent else "—"
                lines.append(_("This authorization REPLACES the one sent on {date}.").format(date=when))
        lines.append("")
        lines.append(_("Property: {name}").format(name=facts["property"]))
        if facts.get("address"):
            lines.append(_("Address: {address}").format(address=facts["address"]))
        lines.append(_("Check-in: {date} from {time}").format(date=day(check_in, with_year=True),
                                                              time=facts.get("checkin_time", "")))  # fmt: skip
        lines.append(_("Check-out: {date} until {time}").format(date=day(check_out, with_year=True),
                                                                time=facts.get("checkout_time", "")))  # fmt: skip
        names = facts.get("guests") or ([guest] if guest else [])
        if names:
            lines.append(_("Guests: {names}").format(names=", ".join(names)))
        if facts.get("guests_count"):
            lines.append(ngettext("{n} guest in all", "{n} guests in all", int(facts["guests_count"])).format(
                n=int(facts["guests_count"])))  # fmt: skip
        if facts.get("vehicle_plate"):
            lines.append(_("Vehicle plate: {plate}").format(plate=facts["vehicle_plate"]))
        if kind != "cancellation":
            lines += ["", _("The signed authorization is attached.")]
        return subject, "\n".join(lines) + "\n"


# --- in the chat -----------------------------------------------------------------------------------------------


def _addresses(to: Any) -> str:
    return ", ".join(esc(str(a)) for a in (to or []))


def _kind_name(kind: str) -> str:
    return {"authorization": _("guest authorization"), "revision": _("revised guest authorization"),
            "cancellation": _("cancellation notice"), "test": _("test message")}.get(kind, kind)  # fmt: skip


def _open(booking_id: Any) -> tuple[Button, ...]:
    return (Button(_("📖 Open booking"), BookingCB(id=int(booking_id)).pack()),) if booking_id else ()


def mail_sent(row: Outbox) -> Rendered:
    payload = row.payload
    at = datetime.fromisoformat(payload["at"])
    what = _kind_name(payload.get("mail_kind", ""))
    if payload.get("automatic"):
        headline = _("✉️ Sent automatically to the building: {what}").format(what=what)
    else:
        headline = _("✉️ Sent to the building: {what}").format(what=what)
    when = moment(at, payload.get("timezone"))
    lines = [f"<b>{esc(payload.get('property'))}</b>", headline,
             _("To {to} at {time}").format(to=_addresses(payload.get("to")), time=when)]  # fmt: skip
    if payload.get("attachment"):
        lines.append(_("Attached: {name}").format(name=esc(payload["attachment"])))
    for address, answer in (payload.get("refused") or {}).items():
        lines.append(_("⚠️ Refused for {address}: {answer}").format(address=esc(address), answer=esc(answer)))
    return Rendered("\n".join(lines), (_open(payload.get("booking_id")),))


def mail_failed(row: Outbox) -> Rendered:
    payload = row.payload
    reason = payload.get("reason", "error")
    lines = [f"<b>{esc(payload.get('property'))}</b>",
             _("⚠️ The {what} was NOT sent to {to}: {reason}.").format(
                 what=_kind_name(payload.get("mail_kind", "")), to=_addresses(payload.get("to")),
                 reason=_(REASONS[reason]) if reason in REASONS else esc(reason))]  # fmt: skip
    if reason == "missing":
        lines.append(_("Make it once under 📄 Documents (I ask for what is missing), then send it again."))
    elif payload.get("detail"):
        lines.append(_("The server said: {answer}").format(answer=f"<code>{esc(payload['detail'])}</code>"))
    buttons: list[Button] = []
    if payload.get("booking_id"):
        buttons.append(Button(_("✉️ Send again"), MailCB(id=int(payload["booking_id"]), action="send").pack()))
    return Rendered("\n".join(lines), (tuple(buttons), _open(payload.get("booking_id"))))


def mail_revision(row: Outbox) -> Rendered:
    payload = row.payload
    fields = payload.get("fields") or []
    booking_id = int(payload["booking_id"])
    dates = stay_range(date.fromisoformat(payload["check_in"]), date.fromisoformat(payload["check_out"]))
    sent_at = payload.get("sent_at")
    sent = moment(datetime.fromisoformat(sent_at), payload.get("timezone")) if sent_at else "—"
    to = _addresses(payload.get("to"))
    title = f"<b>{esc(payload.get('property'))}</b>"
    if "cancelled" in fields:
        text = "\n".join([title, _("❌ This stay was cancelled, and the building has its authorization (sent {sent})."
                                   ).format(sent=sent), dates,
                          _("Send a cancellation notice to {to}?").format(to=to)])  # fmt: skip
        yes = Button(_("✉️ Send the cancellation notice"), MailCB(id=booking_id, action="revise").pack())
    else:
        changed = ", ".join(_(FIELD_NAMES[f]) for f in fields if f in FIELD_NAMES)
        text = "\n".join([title, _("✏️ This stay changed ({changed}) after its authorization went to the building "
                                   "({sent}).").format(changed=changed, sent=sent), dates,
                          _("Send a revised authorization to {to}?").format(to=to)])  # fmt: skip
        yes = Button(_("✉️ Send the revised authorization"), MailCB(id=booking_id, action="revise").pack())
    no = Button(_("Not now"), MailCB(id=booking_id, action="notnow").pack())
    return Rendered(text, ((yes, no), _open(booking_id)))


# --- the property's mail settings --------------------------------------------------------------------------------


def settings_text(prop: Property, settings: BuildingMail, *, smtp_ready: bool) -> str:
    language = LANGUAGE_NAMES.get(settings.locale, settings.locale)
    lines = [f"✉️ <b>{esc(prop.name)}</b> — " + _("e-mail to the building"),
             _("Addresses: {to}").format(to=_addresses(settings.addresses) or _("none yet")),
             _("Send the authorization: {mode}").format(mode=_(MODE_LABELS[settings.mode])),
             _("Language of the mail: {language}").format(language=language),
             _("Message:"), f"<i>{esc(settings.body or default_body())}</i>"]  # fmt: skip
    if not smtp_ready:
        lines.append("\n" + not_configured())
    return "\n".join(lines)


def settings_keyboard(prop: Property, settings: BuildingMail) -> InlineKeyboardMarkup:
    rows = [[button(_("📧 Addresses"), MailCB(id=prop.id, action="addr"))],
            [button(("● " if settings.mode == m else "") + label, MailCB(id=prop.id, action="mode", arg=m))
             for m, label in (("auto", _("Automatic")), ("ask", _("On request")), ("never", _("Never")))],
            [button(("● " if settings.locale == code else "") + name, MailCB(id=prop.id, action="lang", arg=code))
             for code, name in LANGUAGE_NAMES.items()],
            [button(_("📝 Message"), MailCB(id=prop.id, action="body"))]]  # fmt: skip
    if settings.body:
        rows[-1].append(button(_("↩️ Default message"), MailCB(id=prop.id, action="body_reset")))
    rows.append([button(_("⬅️ Back"), DocSetupCB(id=prop.id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def not_configured() -> str:
    return _("Sending e-mail is not set up on this server yet: the operator sets LUMINA_SMTP_HOST and the other "
             "LUMINA_SMTP_ settings (see the README).")  # fmt: skip


def no_addresses() -> str:
    return _("This property has no building e-mail yet. Add the front desk's or the administrator's address first.")


def addresses_keyboard(property_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("📧 Addresses"), MailCB(id=property_id, action="addr"))]])


def settings_link_keyboard(property_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("✉️ E-mail to the building"), MailCB(id=property_id, action="open"))]]
    )


def sending_off() -> str:
    return _("Authorizations for this property are set to never go by e-mail. Change it in the property's e-mail "
             "settings.")  # fmt: skip


def queued_text(to: tuple[str, ...] | list[str], kind: str) -> str:
    return _("✉️ Sending the {what} to {to}… I will tell you when the server has it.").format(
        what=_kind_name(kind), to=_addresses(to))  # fmt: skip


def already_queued() -> str:
    return _("That one is already on its way.")


def addresses_question() -> str:
    return _("The building's e-mail address(es)? Several can go on one line, separated by commas (up to 5).")


def body_question() -> str:
    return _("The message the building gets with the authorization (plain text, up to 2000 characters)?")


def missing_first(need: str) -> str:
    return _("Before it can go to the building, the authorization needs a few details. Let's fill them in:")


def not_now() -> str:
    return _("OK, the building was not told. You can send it any time from the booking: ✉️ Send to the building.")


# --- the platforms' mails -----------------------------------------------------------------------------------------


def _mail_facts(payload: dict[str, Any], *, only: list[str] | None = None) -> str:
    """ "Maria Silva, 2 guests, R$ 1.240,00": what the mail says (or only the fields it filled)."""
    parts = []
    if payload.get("guest_name") and (only is None or "guest_name" in only):
        parts.append(esc(payload["guest_name"]))
    if payload.get("guests") and (only is None or "guests_count" in only):
        parts.append(ngettext("{n} guest", "{n} guests", int(payload["guests"])).format(n=int(payload["guests"])))
    if payload.get("amount") and (only is None or "price" in only):
        parts.append(money(Decimal(str(payload["amount"])), payload.get("currency")))
    if payload.get("phone") and (only is None or "guest_phone" in only):
        parts.append(esc(payload["phone"]))
    return ", ".join(parts)


def platform_mail(row: Outbox) -> Rendered:
    payload = row.payload
    platform = platform_name(str(payload.get("platform")))
    title = f"<b>{esc(payload.get('property'))}</b>" if payload.get("property") else ""
    status = payload.get("status")
    if status == "filled":
        text = _("📬 Filled from the {platform} e-mail: {facts}").format(
            platform=platform, facts=_mail_facts(payload, only=list(payload.get("filled") or [])))  # fmt: skip
        return Rendered("\n".join(p for p in (title, text) if p), (_open(payload.get("booking_id")),))
    if status == "news":
        text = _("📬 {platform} e-mail: this reservation ({code}) was CANCELLED. The calendar still shows it and "
                 "should follow within hours; nothing was cancelled here yet.").format(
            platform=platform, code=esc(payload.get("code")))  # fmt: skip
        return Rendered("\n".join(p for p in (title, text) if p), (_open(payload.get("booking_id")),))
    dates = ""
    if payload.get("check_in") and payload.get("check_out"):
        dates = stay_range(date.fromisoformat(payload["check_in"]), date.fromisoformat(payload["check_out"]))
    lines = [_("📬 A {platform} e-mail matches no stay: code {code}, listing {listing}.").format(
        platform=platform, code=esc(payload.get("code")), listing=esc(payload.get("listing") or "—"))]  # fmt: skip
    lines += [part for part in (dates, _mail_facts(payload)) if part]
    lines.append(_("Attach it to a stay (I will remember the listing) or ignore it."))
    mail_id = int(payload["mail_id"])
    return Rendered("\n".join(lines), ((
        Button(_("📎 Attach to a stay"), MailCB(id=mail_id, action="pm_pick").pack()),
        Button(_("🙈 Ignore"), MailCB(id=mail_id, action="pm_ignore").pack())),))  # fmt: skip


VIEWS = {"mail_sent": mail_sent, "mail_failed": mail_failed, "mail_revision": mail_revision,
         "platform_mail": platform_mail}  # fmt: skip


def platform_mail_ignored() -> str:
    return _("Ignored. That e-mail will not come up again.")


def platform_mail_pick() -> str:
    return _("Which stay is that e-mail about?")


def platform_mail_no_candidates() -> str:
    return _("No stay starts on that e-mail's check-in date. Ignore it, or wait for the calendar to bring the stay.")


def platform_mail_attached(filled: int) -> str:
    return ngettext("Attached: {n} detail filled in. I will recognize this listing from now on.",
                    "Attached: {n} details filled in. I will recognize this listing from now on.", filled).format(
        n=filled)  # fmt: skip
