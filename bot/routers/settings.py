"""/settings: which alerts to get, quiet hours, the daily summary hour. Stored on the user, applied by the jobs."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keyboards.callbacks import MenuCB, SettingsCB
from bot.keyboards.settings import quiet_keyboard, settings_keyboard, summary_keyboard, zone_keyboard
from bot.routers.documents import pdf_available
from bot.routers.replies import edit_or_answer, expired
from bot.services import Services
from bot.views.documents import pdf_off_note
from bot.views.settings import quiet_text, settings_text, summary_text, zone_text
from domain import alerts
from domain.time import person_zone, zone_choices
from storage.models import User


async def _main_screen(session: AsyncSession, user: User, services: Services) -> tuple[str, InlineKeyboardMarkup]:
    gets_alerts = await alerts.receives_alerts(session, user)
    text = settings_text(
        user,
        alerts=gets_alerts,
        checkin_at=services.settings.checkin_reminder_time,
        checkout_at=services.settings.checkout_reminder_time,
    )
    if not pdf_available(services):
        text += "\n\n" + pdf_off_note()
    zone = await person_zone(session, user, services.default_zone)
    return text, settings_keyboard(user, alerts=gets_alerts, zone=zone)


async def show(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    await edit_or_answer(message, *await _main_screen(session, user, services))


async def show_button(query: CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    await edit_or_answer(query, *await _main_screen(session, user, services))


async def change(
    query: CallbackQuery, callback_data: SettingsCB, user: User, session: AsyncSession, services: Services
) -> None:
    action, value, now = callback_data.action, callback_data.value, services.clock()
    if action == "quiet" and not value:
        await edit_or_answer(query, quiet_text(), quiet_keyboard(user))
        return
    if action == "summary" and not value:
        await edit_or_answer(query, summary_text(), summary_keyboard(user))
        return
    if action == "zone":
        choices = await zone_choices(session, user, services.default_zone)
        if not value:
            await edit_or_answer(query, zone_text(), zone_keyboard(user, choices))
            return
        if value != "auto" and value not in choices:
            await expired(query)
            return
        await alerts.set_own_zone(session, user, None if value == "auto" else value, now=now)
    elif action == "kind" and value in alerts.PREFERENCES:
        await alerts.toggle_preference(session, user, value, now=now)
    elif action == "quiet" and (value == "off" or value in alerts.QUIET_PRESETS):
        await alerts.set_quiet_hours(session, user, None if value == "off" else value, now=now)
        services.outbox_wakeup()  # alerts held by the old quiet hours may go now
    elif action == "summary" and (value == "off" or value.isdigit() and int(value) in alerts.SUMMARY_HOURS):
        await alerts.set_summary_hour(session, user, None if value == "off" else int(value), now=now)
    elif action != "menu":
        await expired(query)  # callback data is never trusted: an unknown value is an old or forged button
        return
    await edit_or_answer(query, *await _main_screen(session, user, services))


def get_router() -> Router:
    router = Router(name="settings")

    router.message.register(show, Command("settings"))
    router.callback_query.register(show_button, MenuCB.filter(F.to == "settings"))
    router.callback_query.register(change, SettingsCB.filter())

    return router
