"""The /settings screen's text."""

from __future__ import annotations

from datetime import time

from bot.i18n import _
from bot.keyboards.settings import quiet_label, summary_label
from storage.models import User


def settings_text(user: User, *, alerts: bool, checkin_at: time, checkout_at: time) -> str:
    lines = [_("⚙️ <b>Settings</b>"), ""]
    if alerts:
        lines.append(_("🔔 Alerts: tap one to turn it on or off. Double bookings always reach you."))
    else:
        lines.append(_("🧹 You receive the turnovers (cleanings) of your properties."))
    quiet = quiet_label(user)
    if user.quiet_start is not None:
        quiet += " " + _("(only double bookings break through)")
    lines.append(_("🌙 Quiet hours: {value}").format(value=quiet))
    if alerts:
        lines.append(_("☀️ Daily summary: {value}").format(value=summary_label(user)))
        lines.append(
            _(
                "⏰ Reminders: check-in the day before at {checkin}, check-out on the day at {checkout} "
                "(each property's local time)."
            ).format(checkin=f"{checkin_at:%H:%M}", checkout=f"{checkout_at:%H:%M}")
        )
    return "\n".join(lines)


def quiet_text() -> str:
    return _("🌙 When should I keep quiet? Alerts wait until the end; only double bookings break through.")


def zone_text() -> str:
    return _(
        "🕒 Which time zone do you live in? Your /today, summary and quiet hours follow it. Automatic: the zone of "
        "your properties (the most common one), else the server's."
    )


def summary_text() -> str:
    return _("☀️ At what time do you want the daily summary (today and tomorrow, in your time zone)?")
