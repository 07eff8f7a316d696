"""The main menu, /help, /cancel, and the last word on buttons nobody else understood."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from bot.filters import Is
from bot.i18n import N_, _
from bot.keyboards.callbacks import MenuCB
from bot.keyboards.common import CANCEL, NOOP, main_menu, only_menu
from bot.routers.replies import expired
from storage.models import User

COMMANDS_HELP = [
    ("/menu", N_("open the main menu")),
    ("/properties", N_("your properties, their calendars and settings")),
    ("/today", N_("arrivals, departures and guests in house today and tomorrow")),
    ("/upcoming", N_("the next reservations")),
    ("/calendar", N_("a month view of a property")),
    ("/book", N_("add a direct booking or block dates")),
    ("/sync", N_("check every calendar now")),
    ("/conflicts", N_("double bookings and other overlaps")),
    ("/free", N_("is it free? e.g. /free 12/08 15/08")),
    ("/export", N_("the calendar links that keep the platforms in step")),
    ("/document", N_("guest authorization, check-in instructions and receipts")),
    ("/stats", N_("occupancy, ADR, RevPAR and revenue, with a chart and files")),
    ("/settings", N_("alerts, quiet hours and the daily summary")),
    ("/language", N_("change the language")),
    ("/cancel", N_("leave what you are doing")),
    ("/help", N_("this list")),
]


def help_text() -> str:
    return _("What I can do:") + "\n" + "\n".join(f"{command} — {_(text)}" for command, text in COMMANDS_HELP)


async def menu(message: Message, user: User, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("What would you like to do?"), reply_markup=main_menu())


async def menu_button(query: CallbackQuery, user: User, state: FSMContext) -> None:
    await state.clear()
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        await query.message.answer(_("What would you like to do?"), reply_markup=main_menu())
    await query.answer()


async def help_command(message: Message, user: User) -> None:
    await message.answer(help_text(), reply_markup=only_menu())


async def help_button(query: CallbackQuery, user: User) -> None:
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        await query.message.answer(help_text(), reply_markup=only_menu())
    await query.answer()


async def cancel(message: Message, user: User, state: FSMContext) -> None:
    had_dialog = await state.get_state() is not None
    await state.clear()
    text = _("Cancelled. Nothing was changed.") if had_dialog else _("There was nothing to cancel.")
    await message.answer(text, reply_markup=only_menu())


async def cancel_button(query: CallbackQuery, user: User, state: FSMContext) -> None:
    await state.clear()
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        await query.message.edit_text(_("Cancelled. Nothing was changed."), reply_markup=only_menu())
    await query.answer()


def get_router() -> Router:
    router = Router(name="menu")

    router.message.register(menu, Command("menu"))
    router.callback_query.register(menu_button, MenuCB.filter(F.to == "menu"))
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, MenuCB.filter(F.to == "help"))
    router.message.register(cancel, Command("cancel"))
    router.callback_query.register(cancel_button, Is(F.data == CANCEL))

    return router


async def noop(query: CallbackQuery) -> None:
    await query.answer()


async def unknown_button(query: CallbackQuery) -> None:
    await expired(query)


async def unknown_command(message: Message) -> None:
    await message.answer(
        _("I do not know that command.") + " " + _("Send /help for the list."), reply_markup=only_menu()
    )


async def anything_else(message: Message) -> None:
    await message.answer(_("I did not understand. Choose an option below or send /help."), reply_markup=main_menu())


def get_fallback_router() -> Router:
    """Attached last: whatever reaches it was not understood by any area."""
    router = Router(name="fallback")
    router.callback_query.register(noop, Is(F.data == NOOP))
    router.callback_query.register(unknown_button)
    router.message.register(unknown_command, Is(F.text.startswith("/")))
    router.message.register(anything_else)
    return router
