"""The /settings keyboards: alert switches, quiet-hours presets, the summary hour."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.keyboards.callbacks import MenuCB, SettingsCB
from domain.alerts import PREFERENCES, QUIET_PRESETS, SUMMARY_HOURS, enabled_preferences
from storage.models import User


def preference_label(preference: str) -> str:
    labels = {
        "booking_new": _("New bookings"),
        "booking_changed": _("Date changes"),
        "booking_cancelled": _("Cancellations"),
        "conflicts": _("Other overlaps"),
        "feeds": _("Calendar problems"),
        "blocks": _("Blocked dates"),
        "checkin_reminder": _("Check-in reminders"),
        "checkout_reminder": _("Check-out reminders"),
    }
    return labels[preference]


def quiet_label(user: User) -> str:
    if user.quiet_start is None or user.quiet_end is None:
        return _("off")
    return f"{user.quiet_start:%H:%M}–{user.quiet_end:%H:%M}"


def summary_label(user: User) -> str:
    return _("off") if user.summary_hour is None else f"{user.summary_hour:02d}:00"


def zone_label(user: User, zone: ZoneInfo) -> str:
    return user.timezone or _("automatic, {zone}").format(zone=zone.key)


def settings_keyboard(user: User, *, alerts: bool, zone: ZoneInfo) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    sizes = []
    if alerts:
        enabled = enabled_preferences(user.alert_kinds)
        for preference in PREFERENCES:
            mark = "✅" if preference in enabled else "⬜"
            builder.button(
                text=f"{mark} {preference_label(preference)}", callback_data=SettingsCB(action="kind", value=preference)
            )
        sizes += [2] * (len(PREFERENCES) // 2)
    builder.button(
        text=_("🌙 Quiet hours: {value}").format(value=quiet_label(user)), callback_data=SettingsCB(action="quiet")
    )
    sizes.append(1)
    if alerts:
        builder.button(
            text=_("☀️ Daily summary: {value}").format(value=summary_label(user)),
            callback_data=SettingsCB(action="summary"),
        )
        sizes.append(1)
    builder.button(
        text=_("🕒 Time zone: {value}").format(value=zone_label(user, zone)), callback_data=SettingsCB(action="zone")
    )
    builder.button(text=_("☰ Menu"), callback_data=MenuCB(to="menu"))
    sizes += [1, 1]
    builder.adjust(*sizes)
    return builder.as_markup()


def quiet_keyboard(user: User) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    current = (user.quiet_start, user.quiet_end)
    for key, (start, end) in QUIET_PRESETS.items():
        mark = "✓ " if current == (start, end) else ""
        builder.button(text=f"{mark}{start:%H:%M}–{end:%H:%M}", callback_data=SettingsCB(action="quiet", value=key))
    off = "✓ " if user.quiet_start is None else ""
    builder.button(text=off + _("No quiet hours"), callback_data=SettingsCB(action="quiet", value="off"))
    builder.button(text=_("⬅️ Back"), callback_data=SettingsCB(action="menu"))
    builder.adjust(len(QUIET_PRESETS), 1, 1)
    return builder.as_markup()


def zone_keyboard(user: User, choices: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for name in choices:
        mark = "✓ " if user.timezone == name else ""
        builder.button(text=mark + name, callback_data=SettingsCB(action="zone", value=name))
    auto = "✓ " if user.timezone is None else ""
    builder.button(text=auto + _("Automatic"), callback_data=SettingsCB(action="zone", value="auto"))
    builder.button(text=_("⬅️ Back"), callback_data=SettingsCB(action="menu"))
    builder.adjust(2, 1, 1)
    return builder.as_markup()


def summary_keyboard(user: User) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for hour in SUMMARY_HOURS:
        mark = "✓ " if user.summary_hour == hour else ""
        builder.button(text=f"{mark}{hour:02d}:00", callback_data=SettingsCB(action="summary", value=str(hour)))
    off = "✓ " if user.summary_hour is None else ""
    builder.button(text=off + _("No summary"), callback_data=SettingsCB(action="summary", value="off"))
    builder.button(text=_("⬅️ Back"), callback_data=SettingsCB(action="menu"))
    builder.adjust(len(SUMMARY_HOURS), 1, 1)
    return builder.as_markup()
