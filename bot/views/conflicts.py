"""Conflict texts and their action buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _
from bot.keyboards.callbacks import BookingCB, ConflictCB, MenuCB
from bot.keyboards.common import button
from bot.views.bookings import STATUS_LABELS
from bot.views.feeds import source_name
from bot.views.format import esc, moment, stay_range
from domain.booking_fields import display_guest
from storage.models import Booking, Conflict, Property

CLASS_LABELS = {
    "double_booking": N_("⚠️ Double booking"),
    "same_source": N_("Calendar overlapping itself"),
    "tentative": N_("Overlap with a request (tentative)"),
    "echo": N_("Echo (a block mirroring a reservation)"),
    "window": N_("Booking-window block"),
}


KLASS_NAMES = {
    "double_booking": N_("double booking"),
    "tentative": N_("overlap with a request"),
    "same_source": N_("calendar overlapping itself"),
    "echo": N_("echo"),
    "window": N_("booking-window block"),
}


def klass_name(klass: str) -> str:
    return _(KLASS_NAMES[klass]) if klass in KLASS_NAMES else klass


def own_side_line(number: int) -> str:
    """Which side of a double booking the host made in LUMINA: theirs to move or cancel."""
    return _("{n} is your own direct booking: move it to other dates or cancel it below.").format(n=number)


def stay_line(booking: Booking, *, with_status: bool = False) -> str:
    guest = display_guest(booking)
    who = f" · {esc(guest)}" if guest else ""
    line = f"{esc(source_name(booking.source))}{who} · {stay_range(booking.check_in, booking.check_out)}"
    if with_status and booking.status != "active":
        line += f" · <i>{_(STATUS_LABELS.get(booking.status, booking.status))}</i>"
    return line


def own_stay(conflict: Conflict, a: Booking, b: Booking) -> tuple[int, Booking] | None:
    """The side of an open double booking the host made in LUMINA (and can still move or cancel), numbered."""
    if conflict.status != "open" or conflict.klass != "double_booking":
        return None
    for number, stay in ((1, a), (2, b)):
        if stay.source == "direct" and stay.status == "active":
            return number, stay
    return None


def conflict_text(
    conflict: Conflict, prop: Property, a: Booking, b: Booking, *, settled_by: str | None = None
) -> str:
    """The conflict as it stands now: an open one says what to do; a settled one says when, how and by whom it
    was settled, and shows the stays as they are now (dates, cancelled or not)."""
    label = _(CLASS_LABELS.get(conflict.klass, conflict.klass))
    title = f"<b>{esc(prop.name)}</b>"
    if conflict.status == "open":
        lines = [f"{label} — {title}"]
    elif conflict.status == "resolved":
        lines = ["✅ " + _("Resolved") + f" — {title}", _("It was a {what}.").format(what=klass_name(conflict.klass))]
    elif conflict.status == "echo":
        lines = ["🔁 " + _("Marked as an echo") + f" — {title}"]
    else:
        lines = ["✅ " + _("No longer a conflict") + f" — {title}"]
        lines.append(_("It was a {what}.").format(what=klass_name(conflict.klass)))
    lines += ["1. " + stay_line(a, with_status=True), "2. " + stay_line(b, with_status=True)]
    when = moment(conflict.closed_at, prop.timezone) if conflict.closed_at else None
    who = esc(settled_by) if settled_by else _("someone")
    if conflict.status == "resolved":
        lines.append(_("Resolved by {who} on {when}.").format(who=who, when=when or "—"))
        if conflict.note:
            lines.append(_("Note: {note}").format(note=esc(conflict.note)))
    elif conflict.status == "echo":
        lines.append(_("Marked as an echo by {who} on {when}: it does not page for these dates.").format(
            who=who, when=when or "—"))  # fmt: skip
    elif conflict.status == "closed":
        cancelled = "cancelled" in (a.status, b.status)
        how = _("a reservation was cancelled") if cancelled else _("the dates changed")
        lines.append(_("Closed by itself on {when}: {how}, and the stays no longer share a night.").format(
            when=when or "—", how=how))  # fmt: skip
    else:
        own = own_stay(conflict, a, b)
        if own is not None:
            lines.append(own_side_line(own[0]))
    return "\n".join(lines)


def conflict_keyboard(conflict: Conflict, a: Booking | None = None, b: Booking | None = None) -> InlineKeyboardMarkup:
    rows = [
        [
            button(_("Open 1"), BookingCB(id=conflict.booking_a_id)),
            button(_("Open 2"), BookingCB(id=conflict.booking_b_id)),
        ],
    ]
    own = own_stay(conflict, a, b) if a is not None and b is not None else None
    if own is not None:
        rows.append([button(_("📆 Move my booking"), BookingCB(id=own[1].id, action="move")),
                     button(_("🗑 Cancel my booking"), BookingCB(id=own[1].id, action="cancel"))])  # fmt: skip
    if conflict.status == "open":
        rows += [
            [button(_("✅ Resolved…"), ConflictCB(id=conflict.id, action="resolve")),
             button(_("🔁 It is an echo"), ConflictCB(id=conflict.id, action="echo"))],
            [button(_("🔁 This calendar only echoes"), ConflictCB(id=conflict.id, action="echo_feed")),
             button(_("⏰ Snooze 24 h"), ConflictCB(id=conflict.id, action="snooze"))],
        ]  # fmt: skip
    rows.append([button(_("☰ Menu"), MenuCB(to="menu"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)
