"""The command menu Telegram shows, per language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand

from bot.i18n import LOCALES, N_, _, use_locale

# (command, description) — descriptions are msgids, translated per language when the menu is set.
COMMANDS = [
    ("menu", N_("Main menu")),
    ("today", N_("Today and tomorrow")),
    ("upcoming", N_("Next reservations")),
    ("properties", N_("Properties and calendars")),
    ("calendar", N_("Month view")),
    ("book", N_("New direct booking or block")),
    ("conflicts", N_("Double bookings")),
    ("free", N_("Is it free?")),
    ("sync", N_("Check every calendar now")),
    ("export", N_("Calendar links for the platforms")),
    ("document", N_("Authorization, check-in, receipt")),
    ("stats", N_("Numbers and charts")),
    ("team", N_("Who has access; invite someone")),
    ("settings", N_("Alerts and quiet hours")),
    ("language", N_("Change the language")),
    ("audit", N_("Who changed what (owners)")),
    ("backup", N_("Newest backup (owners)")),
    ("help", N_("What I can do")),
    ("cancel", N_("Leave the current step")),
]

TELEGRAM_LANGUAGE = {"pt_BR": "pt", "en": "en"}


def commands_for(locale: str) -> list[BotCommand]:
    with use_locale(locale):
        return [BotCommand(command=name, description=_(text)) for name, text in COMMANDS]


async def publish_commands(bot: Bot, default_locale: str) -> None:
    """One menu per language Telegram clients report, and the default locale's for everyone else."""
    for locale in LOCALES:
        await bot.set_my_commands(commands_for(locale), language_code=TELEGRAM_LANGUAGE[locale])
    await bot.set_my_commands(commands_for(default_locale))
