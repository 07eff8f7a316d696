"""Booking texts: day views, lists, the card, the month grid."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import N_, _
from bot.keyboards.callbacks import BookingCB, DocCB, MailCB, MenuCB, MonthCB, PropertyCB
from bot.keyboards.common import NOOP, button
from bot.keyboards.datepicker import shift_month
from bot.views.feeds import platform_name, source_name
from bot.views.format import day, esc, moment, money, month_title, short_day, stay_range, weekday_letters
from domain.booking_fields import DETAIL_FIELDS, display_guest, shown_value
from domain.bookings import DayView
from storage.models import LIVE_STATUSES, Booking, Feed, Guest, Property

KIND_LABELS = {
    "reservation": N_("Reservation"),
    "block": N_("Blocked"),
    "tentative": N_("Request (tentative)"),
    "window": N_("Outside the booking window"),
}
STATUS_LABELS = {
    "active": N_("confirmed"),
    "missing": N_("missing from the last calendar download (checking)"),
    "cancelled": N_("cancelled"),
    "ended": N_("ended"),
}


def short_line(prop: Property, booking: Booking) -> str:
    guest = display_guest(booking)
    who = f" · {esc(guest)}" if guest else ""
    dates = f"{short_day(booking.check_in)}→{short_day(booking.check_out)}"
    return f"<b>{esc(prop.name)}</b> · {esc(source_name(booking.source))}{who} · {dates}"


def day_text(view: DayView, *, title: str) -> str:
    """A day's arrivals, departures and guests in house; only the sections that have someone."""
    lines = [f"<b>{title}</b> — {day(view.day)}"]
    for label, entries in (
        (_("Arrivals"), view.arrivals),
        (_("Departures"), view.departures),
        (_("In house"), view.in_house),
    ):
        if entries:
            lines.append(f"\n{label} ({len(entries)})")
            lines += [f"• {short_line(prop, booking)}" for prop, booking in entries]
    if len(lines) == 1:
        lines.append(_("No arrivals, departures or guests in house."))
    return "\n".join(lines)


def days_text(views: list[DayView]) -> str:
    """/today: today and tomorrow, or one line when both are empty."""
    if not any(v.arrivals or v.departures or v.in_house for v in views):
        return "📅 " + _("Nothing today or tomorrow: no arrivals, departures or guests in house.")
    return day_text(views[0], title=_("Today")) + "\n\n" + day_text(views[1], title=_("Tomorrow"))


def turnovers_text(items: list[tuple[Property, str, datetime | None]]) -> str:
    """/today for whoever looks after the properties: today's cleanings, done or still to do."""
    if not items:
        return ""
    lines = ["", "🧹 " + _("Cleanings today:")]
    for prop, cleaner, done in items:
        state = _("✅ done at {time}").format(time=moment(done, prop.timezone)) if done else _("⏳ to do")
        lines.append(f"• <b>{esc(prop.name)}</b> · {esc(cleaner)} · {state}")
    return "\n".join(lines)


def day_buttons(views: list[DayView]) -> list[list[InlineKeyboardButton]]:
    seen: set[int] = set()
    rows = []
    for view in views:
        for prop, booking in view.arrivals + view.departures + view.in_house:
            if booking.id in seen:
                continue
            seen.add(booking.id)
            rows.append([button(f"{prop.name[:20]} · {short_day(booking.check_in)}", BookingCB(id=booking.id))])
    return rows[:20]


def booking_card(booking: Booking, prop: Property, feed: Feed | None, guests: list[Guest]) -> str:
    what = [_(KIND_LABELS.get(booking.kind, booking.kind)), esc(source_name(booking.source))]
    if booking.kind != "block" or booking.status != "active":  # a block is not "confirmed"; it is just there
        what.append(_(STATUS_LABELS.get(booking.status, booking.status)))
    lines = [f"🏠 <b>{esc(prop.name)}</b>", " · ".join(what), stay_range(booking.check_in, booking.check_out)]
    is_block = booking.kind == "block"
    for field in DETAIL_FIELDS:
        if is_block and not field.on_blocks:
            continue
        value = shown_value(booking, field)
        if value is None or value == "":
            if field.unset is not None:
                lines.append(_(field.line).format(value=_(field.unset)))
        else:
            text = money(value, booking.currency or prop.currency) if field.money else esc(str(value))
            lines.append(_(field.line).format(value=text))
    if not is_block:
        for extra in guests:
            document = f" — {esc(extra.document_type or '')} {esc(extra.document_number or '')}".rstrip(" —")
            lines.append(f"  • {esc(extra.full_name)}{document}")
        if booking.reservation_code:
            lines.append(_("Reservation code: {code}").format(code=f"<code>{esc(booking.reservation_code)}</code>"))
        if booking.phone_last4:
            lines.append(_("Phone (last digits): {digits}").format(digits=esc(booking.phone_last4)))
    if feed is not None:
        lines.append(_("From: {feed}").format(feed=esc(platform_name(feed.platform, feed.label))))
    return "\n".join(lines)


OVERLAP_SAVE, OVERLAP_DATES = "ov_save", "ov_dates"  # callback data of the overlap question's buttons


def taken_line(booking: Booking) -> str:
    """One stay in the way of new dates: who holds the nights, with the reservation code where there is one."""
    what = _(KIND_LABELS.get(booking.kind, booking.kind))
    parts = [stay_range(booking.check_in, booking.check_out), f"{what} · {esc(source_name(booking.source))}"]
    guest = display_guest(booking)
    if guest:
        parts.append(esc(guest))
    if booking.reservation_code:
        parts.append(_("code {code}").format(code=f"<code>{esc(booking.reservation_code)}</code>"))
    return "• " + " · ".join(parts)


def overlap_question(kind: str, taken: list[Booking]) -> str:
    """Asked before a direct booking, a block or a move is saved over guests' stays."""
    lines = ["⚠️ " + _("These dates are taken:"), *[taken_line(b) for b in taken], ""]
    if kind == "block":
        lines.append(_("Block them anyway (the guest keeps the reservation), change the dates, or cancel?"))
    else:
        lines.append(_("Save anyway as a double booking, change the dates, or cancel?"))
    return "\n".join(lines)


def overlap_keyboard(kind: str) -> InlineKeyboardMarkup:
    save = _("⛔ Block anyway") if kind == "block" else _("⚠️ Save anyway as a double booking")
    return InlineKeyboardMarkup(inline_keyboard=[
        [button(save, OVERLAP_SAVE)],
        [button(_("📆 Change the dates"), OVERLAP_DATES), button(_("✖️ Cancel"), "cancel")],
    ])  # fmt: skip


def booking_keyboard(booking: Booking, *, can_manage: bool) -> InlineKeyboardMarkup:
    rows = []
    if can_manage and booking.status in LIVE_STATUSES:
        if booking.kind != "block":
            rows.append([button(_("✏️ Fill in details"), BookingCB(id=booking.id, action="fill"))])
        if booking.source == "direct":
            rows.append([
                button(_("📆 Change dates"), BookingCB(id=booking.id, action="move")),
                button(_("🗑 Cancel"), BookingCB(id=booking.id, action="cancel")),
            ])  # fmt: skip
    if can_manage and booking.kind in ("reservation", "tentative") and booking.status != "cancelled":
        rows.append([button(_("📄 Documents"), DocCB(id=booking.id)),
                     button(_("✉️ Send to the building"), MailCB(id=booking.id))])  # fmt: skip
    rows.append([button(_("🏠 Property"), PropertyCB(id=booking.property_id)), button(_("☰ Menu"), MenuCB(to="menu"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def month_grid(prop: Property, year: int, month: int, stays: list[Booking], *, today: date) -> InlineKeyboardMarkup:
    """One button per day: `12` free, `12•` a guest sleeps there, `12×` blocked. A busy day opens its stay."""
    by_night: dict[date, Booking] = {}
    for stay in stays:
        current = stay.check_in
        while current < stay.check_out:
            if current.month == month and (current not in by_night or by_night[current].kind == "block"):
                by_night[current] = stay
            current = date.fromordinal(current.toordinal() + 1)
    prev_y, prev_m = shift_month(year, month, -1)
    next_y, next_m = shift_month(year, month, 1)
    rows = [[
        button("◀️", MonthCB(p=prop.id, y=prev_y, m=prev_m)),
        button(month_title(year, month), NOOP),
        button("▶️", MonthCB(p=prop.id, y=next_y, m=next_m)),
    ], [button(letter, NOOP) for letter in weekday_letters()]]  # fmt: skip
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        row = []
        for number in week:
            if number == 0:
                row.append(button(" ", NOOP))
                continue
            night = date(year, month, number)
            busy = by_night.get(night)
            mark = "" if busy is None else ("×" if busy.kind == "block" else "•")
            text = f"{number}{mark}" if night != today else f"[{number}{mark}]"
            row.append(button(text, BookingCB(id=busy.id) if busy else NOOP))
        rows.append(row)
    rows.append([button(_("🏠 Property"), PropertyCB(id=prop.id)), button(_("☰ Menu"), MenuCB(to="menu"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def month_text(prop: Property, stays: list[Booking], year: int, month: int) -> str:
    booked = {d for s in stays if s.kind != "block" for d in _nights_in(s, year, month)}
    days = calendar.monthrange(year, month)[1]
    lines = [
        f"📅 <b>{esc(prop.name)}</b> — {month_title(year, month)}",
        _("{booked} of {days} nights booked. • guest · × blocked · [ ] today").format(booked=len(booked), days=days),
    ]
    return "\n".join(lines)


def _nights_in(stay: Booking, year: int, month: int) -> list[date]:
    return [
        date.fromordinal(o)
        for o in range(stay.check_in.toordinal(), stay.check_out.toordinal())
        if date.fromordinal(o).month == month and date.fromordinal(o).year == year
    ]
