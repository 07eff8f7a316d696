"""Conflict texts and their action buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _
from bot.keyboards.callbacks import BookingCB, ConflictCB, MenuCB
from bot.keyboards.common import button
from bot.views.bookings import source_name
from bot.views.format import esc, stay_range
from domain.bookings import display_guest
from storage.models import Booking, Conflict, Property

CLASS_LABELS = {
    "double_booking": N_("⚠️ Double booking"),
    "same_source": N_("Calendar overlapping itself"),
    "tentative": N_("Overlap with a request (tentative)"),
    "echo": N_("Echo (a block mirroring a reservation)"),
    "window": N_("Booking-window block"),
}


def stay_line(booking: Booking) -> str:
    guest = display_guest(booking)
    who = f" · {esc(guest)}" if guest else ""
    return f"{esc(source_name(booking))}{who} · {stay_range(booking.check_in, booking.check_out)}"


def conflict_text(conflict: Conflict, prop: Property, a: Booking, b: Booking) -> str:
    lines = [
        f"{_(CLASS_LABELS.get(conflict.klass, conflict.klass))} — <b>{esc(prop.name)}</b>",
        "1. " + stay_line(a),
        "2. " + stay_line(b),
    ]
    if conflict.status == "resolved" and conflict.note:
        lines.append(_("Resolved: {note}").format(note=esc(conflict.note)))
    return "\n".join(lines)


def conflict_keyboard(conflict: Conflict) -> InlineKeyboardMarkup:
    rows = [
        [
            button(_("Open 1"), BookingCB(id=conflict.booking_a_id)),
            button(_("Open 2"), BookingCB(id=conflict.booking_b_id)),
        ],
    ]
    if conflict.status == "open":
        rows += [
            [button(_("✅ Resolved…"), ConflictCB(id=conflict.id, action="resolve")),
             button(_("🔁 It is an echo"), ConflictCB(id=conflict.id, action="echo"))],
            [button(_("🔁 This calendar only echoes"), ConflictCB(id=conflict.id, action="echo_feed")),
             button(_("⏰ Snooze 24 h"), ConflictCB(id=conflict.id, action="snooze"))],
        ]  # fmt: skip
    rows.append([button(_("☰ Menu"), MenuCB(to="menu"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)
