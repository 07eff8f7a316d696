"""Bookings in the chat: today, upcoming, the month view, the booking card and filling in what iCal never has."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import _
from bot.keyboards.callbacks import BookingCB, MenuCB, MonthCB, PageCB, PropertyCB
from bot.keyboards.common import button, dialog_nav, only_menu, pager
from bot.middlewares.lookup import loads
from bot.routers.replies import booking_gone, edit_or_answer, expired
from bot.services import Services
from bot.states import AddGuest, FillDetail
from bot.views.bookings import (
    booking_card,
    booking_keyboard,
    day_buttons,
    days_text,
    month_grid,
    month_text,
    short_line,
    turnovers_text,
)
from bot.views.errors import input_error
from bot.views.format import short_day
from domain import bookings as bookings_service
from domain.booking_fields import DETAIL_FIELDS, DETAILS
from domain.identity import parse_person_document
from domain.inputs import InputError, parse_text
from domain.properties import visible_properties
from domain.time import property_today
from domain.turnovers import todays_turnovers
from storage.models import Booking, Property, User

PAGE_SIZE = 8


async def today_command(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    await _today(message, user, session, services)


async def today_button(query: CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    await _today(query, user, session, services)


async def upcoming_command(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    await _upcoming(message, user, session, services, page=0)


async def upcoming_button(query: CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    await _upcoming(query, user, session, services, page=0)


async def upcoming_page(
    query: CallbackQuery, callback_data: PageCB, user: User, session: AsyncSession, services: Services
) -> None:
    await _upcoming(query, user, session, services, page=max(callback_data.page, 0))


async def calendar_command(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    props = await visible_properties(session, user)
    if not props:
        await message.answer(_("You have no properties yet."), reply_markup=only_menu())
        return
    if len(props) == 1:
        today = property_today(props[0], services.clock())
        await _month(message, user, session, props[0].id, today.year, today.month, services)
        return
    rows = [[button(f"📅 {p.name[:40]}", PropertyCB(id=p.id, action="calendar"))] for p in props]
    await message.answer(_("Which property?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def calendar_button(
    query: CallbackQuery, prop: Property, user: User, session: AsyncSession, services: Services
) -> None:
    today = property_today(prop, services.clock())
    await _month(query, user, session, prop.id, today.year, today.month, services)


async def month_nav(
    query: CallbackQuery, callback_data: MonthCB, user: User, session: AsyncSession, services: Services
) -> None:
    if not 1 <= callback_data.m <= 12 or not 2000 <= callback_data.y <= 2100:
        await expired(query)
        return
    await _month(query, user, session, callback_data.p, callback_data.y, callback_data.m, services)


async def open_card(
    query: CallbackQuery, callback_data: BookingCB, user: User, session: AsyncSession, state: FSMContext
) -> None:
    await state.clear()
    await show_card(query, user, session, callback_data.id)


async def fill_menu(query: CallbackQuery, booking: Booking) -> None:
    rows = [[button(_(field.label), BookingCB(id=booking.id, action=f"f_{field.name}"))] for field in DETAIL_FIELDS]
    rows.insert(1, [button(_("🪪 Add a guest with document"), BookingCB(id=booking.id, action="guest"))])
    rows.append([button(_("⬅️ Back"), BookingCB(id=booking.id))])
    await edit_or_answer(query, _("What do you want to fill in?"), InlineKeyboardMarkup(inline_keyboard=rows))


async def fill_ask(query: CallbackQuery, callback_data: BookingCB, booking: Booking, state: FSMContext) -> None:
    field = callback_data.action[2:]
    await state.set_state(FillDetail.value)
    await state.set_data({"booking_id": booking.id, "field": field})
    await edit_or_answer(query, _(DETAILS[field].question), _back_to(booking.id, "fill"))


async def fill_value(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    field = DETAILS[data["field"]]
    try:
        value: Any = field.parse(message.text or "")
    except InputError as error:
        await message.answer(
            input_error(error) + "\n\n" + _(field.question), reply_markup=_back_to(data["booking_id"], "fill")
        )
        return
    booking = await bookings_service.booking_for(session, user, data["booking_id"], manage=True)
    await state.clear()
    if booking is None:
        await message.answer(_("This booking is no longer available."), reply_markup=only_menu())
        return
    await bookings_service.set_detail(session, booking, data["field"], value, user=user, now=services.clock())
    await message.answer(_("Saved."))
    await show_card(message, user, session, booking.id)


async def guest_ask(query: CallbackQuery, booking: Booking, state: FSMContext) -> None:
    await state.set_state(AddGuest.name)
    await state.set_data({"booking_id": booking.id})
    await edit_or_answer(query, _("Guest's full name?"), _back_to(booking.id, "fill"))


async def guest_name(message: Message, state: FSMContext) -> None:
    try:
        name = parse_text(message.text or "", max_length=200)
    except InputError as error:
        await message.answer(input_error(error) + "\n\n" + _("Guest's full name?"))
        return
    await state.update_data(name=name)
    await state.set_state(AddGuest.document)
    data = await state.get_data()
    await message.answer(
        _("Document type and number, e.g. CPF 123.456.789-09, RG 12.345.678-9 or Passport X1234567 (or Skip)."),
        reply_markup=dialog_nav(
            back=False, extra=[button(_("Skip"), BookingCB(id=data["booking_id"], action="guest_nodoc"))]
        ),
    )


async def guest_document(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    try:
        kind, number = parse_person_document(message.text or "")
    except InputError as error:
        await message.answer(input_error(error))
        return
    await _save_guest(message, user, session, state, services, kind, number)


async def guest_no_document(
    query: CallbackQuery, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await _save_guest(query.message, user, session, state, services, None, None)


def get_router() -> Router:
    router = Router(name="bookings")

    # --- today / upcoming ----------------------------------------------------------------------------------

    router.message.register(today_command, Command("today"))
    router.callback_query.register(today_button, MenuCB.filter(F.to == "today"))
    router.message.register(upcoming_command, Command("upcoming", "bookings"))
    router.callback_query.register(upcoming_button, MenuCB.filter(F.to == "upcoming"))
    router.callback_query.register(upcoming_page, PageCB.filter(F.list == "upcoming"))

    # --- month view ----------------------------------------------------------------------------------------

    router.message.register(calendar_command, Command("calendar"))
    router.callback_query.register(calendar_button, PropertyCB.filter(F.action == "calendar"), flags=loads("prop"))
    router.callback_query.register(month_nav, MonthCB.filter())

    # --- the card and its details --------------------------------------------------------------------------

    router.callback_query.register(open_card, BookingCB.filter(F.action == "open"))
    router.callback_query.register(fill_menu, BookingCB.filter(F.action == "fill"), flags=loads("booking", manage=True))
    router.callback_query.register(
        fill_ask, BookingCB.filter(F.action.in_({f"f_{name}" for name in DETAILS})), flags=loads("booking", manage=True)
    )
    router.message.register(fill_value, StateFilter(FillDetail.value), Is(F.text))
    router.callback_query.register(
        guest_ask,
        BookingCB.filter(F.action == "guest"),
        flags=loads("booking", manage=True),
    )
    router.message.register(guest_name, StateFilter(AddGuest.name), Is(F.text))
    router.message.register(guest_document, StateFilter(AddGuest.document), Is(F.text))
    router.callback_query.register(
        guest_no_document,
        StateFilter(AddGuest.document),
        BookingCB.filter(F.action == "guest_nodoc"),
    )

    return router


async def _save_guest(
    message: Message,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
    document_type: str | None,
    number: str | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    booking = await bookings_service.booking_for(session, user, data["booking_id"], manage=True)
    if booking is None:
        await message.answer(_("This booking is no longer available."), reply_markup=only_menu())
        return
    await bookings_service.add_guest(
        session,
        booking,
        full_name=data["name"],
        document_type=document_type,
        document_number=number,
        user=user,
        now=services.clock(),
    )
    await message.answer(_("Guest added."))
    await show_card(message, user, session, booking.id)


def _back_to(booking_id: int, action: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("⬅️ Back"), BookingCB(id=booking_id, action=action)), button(_("✖️ Cancel"), "cancel")]
        ]
    )


async def show_card(target: Message | CallbackQuery, user: User, session: AsyncSession, booking_id: int) -> None:
    card = await bookings_service.card(session, user, booking_id)
    if card is None:
        await booking_gone(target)
        return
    text = booking_card(card.booking, card.property, card.feed, card.guests)
    await edit_or_answer(target, text, booking_keyboard(card.booking, can_manage=card.can_manage))


async def _today(target: Message | CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    today = await services.today_for(session, user)
    views = await bookings_service.day_views(session, user, today, days=2)
    # a cleaning follows a departure: no departure today, no query for today's cleanings
    cleanings = await todays_turnovers(session, user, today) if views[0].departures else []
    text = days_text(views) + turnovers_text(cleanings)
    rows = day_buttons(views) + [[button(_("☰ Menu"), MenuCB(to="menu"))]]
    await edit_or_answer(target, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def _upcoming(
    target: Message | CallbackQuery, user: User, session: AsyncSession, services: Services, *, page: int
) -> None:
    rows_data, total = await bookings_service.upcoming(
        session, user, today=await services.today_for(session, user), offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if not rows_data:
        await edit_or_answer(target, _("No upcoming reservations."), only_menu())
        return
    text = (
        _("Upcoming reservations ({total}):").format(total=total)
        + "\n\n"
        + "\n".join(f"• {short_line(prop, booking)}" for prop, booking in rows_data)
    )
    rows = [
        [button(f"{prop.name[:24]} · {short_day(booking.check_in)}", BookingCB(id=booking.id))]
        for prop, booking in rows_data
    ]
    nav = pager("upcoming", page, pages)
    if nav:
        rows.append(nav)
    rows.append([button(_("☰ Menu"), MenuCB(to="menu"))])
    await edit_or_answer(target, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def _month(
    target: Message | CallbackQuery,
    user: User,
    session: AsyncSession,
    property_id: int,
    year: int,
    month: int,
    services: Services,
) -> None:
    found = await bookings_service.month_view(session, user, property_id, date(year, month, 1))
    if found is None:
        if isinstance(target, CallbackQuery):
            await expired(target)
        return
    prop, stays = found
    await edit_or_answer(
        target,
        month_text(prop, stays, year, month),
        month_grid(prop, year, month, stays, today=property_today(prop, services.clock())),
    )
