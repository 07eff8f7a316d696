"""Direct bookings and blocks made in LUMINA: pick the dates on an inline calendar (or type them), then the guest.
Conflicts are checked at once; a double booking pages everyone who should know."""

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
from bot.keyboards.callbacks import BookingCB, DayCB, KindCB, PropertyCB
from bot.keyboards.common import BACK, button, dialog_nav, only_menu, yes_no
from bot.keyboards.datepicker import date_picker
from bot.middlewares.lookup import loads
from bot.routers.bookings import show_card
from bot.routers.datepick import picked_day, turn_month
from bot.routers.replies import edit_or_answer
from bot.services import Services
from bot.states import MoveStay, NewStay
from bot.views.bookings import OVERLAP_DATES, OVERLAP_SAVE, overlap_keyboard, overlap_question
from bot.views.errors import input_error
from bot.views.format import day, esc, stay_range
from domain import bookings as bookings_service
from domain.conflict_check import ConflictEvent
from domain.inputs import InputError, parse_date, parse_text, validate_stay
from domain.properties import property_for, visible_property_ids
from domain.time import property_today
from storage.models import Booking, Property, User

LIVE_DIRECT = loads("booking", manage=True, check=lambda booking, _user: booking.source == "direct"
                    and booking.status == "active")  # fmt: skip  # only a live direct booking moves or cancels
DATE_STEPS = (NewStay.check_in, NewStay.check_out, MoveStay.check_in, MoveStay.check_out)  # the shared date picker


async def book_command(message: Message, user: User, session: AsyncSession, state: FSMContext) -> None:
    ids = await visible_property_ids(session, user, manage=True)
    if not ids:
        await message.answer(_("You have no properties you can change."), reply_markup=only_menu())
        return
    props = [p for p in [await property_for(session, user, i, manage=True) for i in ids] if p is not None]
    if len(props) == 1:  # nothing to choose
        await state.clear()
        await _ask_kind(message, props[0])
        return
    rows = [[button(f"🏠 {prop.name[:40]}", PropertyCB(id=prop.id, action="book"))] for prop in props]
    await message.answer(_("For which property?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def choose_kind(query: CallbackQuery, prop: Property, state: FSMContext) -> None:
    await state.clear()
    await _ask_kind(query, prop)


async def ask_check_in(
    query: CallbackQuery, prop: Property, callback_data: KindCB, state: FSMContext, services: Services
) -> None:
    today = property_today(prop, services.clock())
    await state.set_state(NewStay.check_in)
    data = {"property_id": prop.id, "kind": callback_data.action, "earliest": today.isoformat()}
    await state.set_data(data)
    await edit_or_answer(query, _first_day_question(data), date_picker(today.year, today.month, earliest=today))


async def move_start(
    query: CallbackQuery, booking: Booking, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    prop = await session.get(Property, booking.property_id)
    assert prop is not None
    today = property_today(prop, services.clock())
    await state.set_state(MoveStay.check_in)
    await state.set_data({"booking_id": booking.id, "property_id": prop.id, "earliest": today.isoformat()})
    start = max(booking.check_in, today)
    await edit_or_answer(query, _("New check-in day?"), date_picker(start.year, start.month, earliest=today))


async def turn(query: CallbackQuery, callback_data: DayCB, state: FSMContext) -> None:
    await turn_month(query, callback_data, state, back=True)


async def picked(
    query: CallbackQuery, callback_data: DayCB, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    if found := await picked_day(query, callback_data):
        await _date_chosen(found[0], found[1], user, session, state, services, edit=True)


async def typed_date(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    reference = date.fromisoformat(data.get("check_in") or data["earliest"])
    try:
        chosen = parse_date(message.text or "", today=reference)
    except InputError as error:
        await message.answer(input_error(error))
        return
    await _date_chosen(message, chosen, user, session, state, services, edit=False)


async def back_to_check_in(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    data.pop("check_in", None)
    await state.set_data(data)
    await state.set_state(NewStay.check_in if "kind" in data else MoveStay.check_in)
    earliest = date.fromisoformat(data["earliest"])
    await edit_or_answer(
        query, _first_day_question(data), date_picker(earliest.year, earliest.month, earliest=earliest)
    )


async def back_to_start(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    await state.clear()
    target = (
        PropertyCB(id=data.get("property_id", 0), action="book")
        if "kind" in data
        else BookingCB(id=data.get("booking_id", 0))
    )
    await edit_or_answer(query, _("Go back?"), InlineKeyboardMarkup(inline_keyboard=[[button(_("⬅️ Back"), target)]]))


async def overlap_save(
    query: CallbackQuery, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await query.message.edit_reply_markup(reply_markup=None)
    await _dates_accepted(query.message, user, session, state, services)


async def overlap_other_dates(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    data.pop("check_in", None)
    data.pop("check_out", None)
    await state.set_data(data)
    await state.set_state(NewStay.check_in if "kind" in data else MoveStay.check_in)
    earliest = date.fromisoformat(data["earliest"])
    await edit_or_answer(
        query, _first_day_question(data), date_picker(earliest.year, earliest.month, earliest=earliest)
    )


async def overlap_typed(message: Message) -> None:
    await message.answer(_("Please choose one of the buttons above: save anyway, change the dates, or cancel."))


async def guest_typed(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    try:
        name = parse_text(message.text or "", max_length=200)
    except InputError as error:
        await message.answer(input_error(error) + "\n\n" + _("Guest's name? (or Skip)"))
        return
    await _create(message, user, session, state, services, guest=name)


async def guest_skipped(
    query: CallbackQuery, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await _create(query.message, user, session, state, services, guest=None)


async def cancel_ask(query: CallbackQuery, booking: Booking) -> None:
    await edit_or_answer(
        query,
        _("Cancel this booking? {dates}").format(dates=stay_range(booking.check_in, booking.check_out)),
        yes_no(BookingCB(id=booking.id, action="cancel_yes"), BookingCB(id=booking.id)),
    )


async def cancel(query: CallbackQuery, booking: Booking, user: User, session: AsyncSession, services: Services) -> None:
    await bookings_service.cancel_direct(session, booking, user=user, now=services.clock())
    await edit_or_answer(query, _("Booking cancelled. Its nights are free again."), only_menu())


def get_router() -> Router:
    router = Router(name="direct")

    router.message.register(book_command, Command("book"))
    router.callback_query.register(choose_kind, PropertyCB.filter(F.action == "book"), flags=loads("prop", manage=True))
    router.callback_query.register(
        ask_check_in,
        KindCB.filter(F.action.in_({"reservation", "block"})),
        flags=loads("prop", manage=True),
    )
    router.callback_query.register(move_start, BookingCB.filter(F.action == "move"), flags=LIVE_DIRECT)

    # --- the date picker, shared by both dialogs -------------------------------------------------------------

    router.callback_query.register(turn, StateFilter(*DATE_STEPS), DayCB.filter(F.day == 0))
    router.callback_query.register(picked, StateFilter(*DATE_STEPS), DayCB.filter(F.day > 0))
    router.message.register(typed_date, StateFilter(*DATE_STEPS), Is(F.text))
    router.callback_query.register(
        back_to_check_in,
        StateFilter(NewStay.check_out, MoveStay.check_out),
        Is(F.data == BACK),
    )
    router.callback_query.register(
        back_to_start,
        StateFilter(NewStay.check_in, NewStay.guest, MoveStay.check_in),
        Is(F.data == BACK),
    )

    # --- the dates are taken: asked before saving ------------------------------------------------------------

    router.callback_query.register(
        overlap_save,
        StateFilter(NewStay.confirm, MoveStay.confirm),
        Is(F.data == OVERLAP_SAVE),
    )
    router.callback_query.register(
        overlap_other_dates,
        StateFilter(NewStay.confirm, MoveStay.confirm),
        Is(F.data == OVERLAP_DATES),
    )
    router.message.register(overlap_typed, StateFilter(NewStay.confirm, MoveStay.confirm), Is(F.text))
    router.message.register(guest_typed, StateFilter(NewStay.guest), Is(F.text))
    router.callback_query.register(guest_skipped, StateFilter(NewStay.guest), Is(F.data == "skip_guest"))

    # --- cancelling a direct booking ------------------------------------------------------------------------

    router.callback_query.register(cancel_ask, BookingCB.filter(F.action == "cancel"), flags=LIVE_DIRECT)
    router.callback_query.register(cancel, BookingCB.filter(F.action == "cancel_yes"), flags=LIVE_DIRECT)

    return router


async def _ask_kind(target: Message | CallbackQuery, prop: Property) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("🛏 Direct booking"), KindCB(id=prop.id, action="reservation")),
                button(_("⛔ Block dates"), KindCB(id=prop.id, action="block")),
            ],
            [button(_("✖️ Cancel"), "cancel")],
        ]
    )
    text = _("{property}: a direct booking (a guest) or blocked dates (you, maintenance)?").format(
        property=f"<b>{esc(prop.name)}</b>"
    )
    await edit_or_answer(target, text, markup)


def _first_day_question(data: dict[str, Any]) -> str:
    """A block has no check-in: its dialog asks for the first blocked day."""
    if data.get("kind") == "block":
        return _("First blocked day? Pick it or type it (e.g. 12/08).")
    return _("Check-in day? Pick it or type it (e.g. 12/08).")


async def _date_chosen(
    message: Message,
    chosen: date,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
    *,
    edit: bool,
) -> None:
    current = await state.get_state()
    data = await state.get_data()
    earliest = date.fromisoformat(data["earliest"])
    if current in (NewStay.check_in.state, MoveStay.check_in.state):
        if chosen < earliest:
            await message.answer(input_error(InputError("date_past", day=chosen)))
            return
        await state.update_data(check_in=chosen.isoformat())
        await state.set_state(NewStay.check_out if current == NewStay.check_in.state else MoveStay.check_out)
        if data.get("kind") == "block":
            text = _("Blocked from {day}. Until which day? (the first day that is free again)").format(day=day(chosen))
        else:
            text = _("Check-in {day}. Check-out day?").format(day=day(chosen))
        markup = date_picker(chosen.year, chosen.month, earliest=chosen)
        if edit:
            await message.edit_text(text, reply_markup=markup)
        else:
            await message.answer(text, reply_markup=markup)
        return
    check_in = date.fromisoformat(data["check_in"])
    try:
        validate_stay(check_in, chosen, today=earliest)
    except InputError as error:
        await message.answer(input_error(error))
        return
    await state.update_data(check_out=chosen.isoformat())
    moving = current == MoveStay.check_out.state
    prop = await property_for(session, user, data["property_id"], manage=True)
    if prop is not None:
        taken = await bookings_service.taken_by(session, prop, check_in, chosen, exclude=data.get("booking_id"))
        if taken:  # asked before anything is saved over a guest's stay
            kind = await _kind(session, data)
            await state.set_state(MoveStay.confirm if moving else NewStay.confirm)
            await message.answer(overlap_question(kind, taken), reply_markup=overlap_keyboard(kind))
            return
    await _dates_accepted(message, user, session, state, services)


async def _kind(session: AsyncSession, data: dict[str, Any]) -> str:
    if "kind" in data:
        return str(data["kind"])
    booking = await session.get(Booking, data.get("booking_id", 0))
    return booking.kind if booking is not None else "reservation"


async def _dates_accepted(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    """Dates chosen (and, if taken, confirmed): move the booking, ask the guest's name, or block them."""
    data = await state.get_data()
    if "booking_id" in data:
        await _move(message, user, session, state, services)
    elif data["kind"] == "reservation":
        await state.set_state(NewStay.guest)
        dates = stay_range(date.fromisoformat(data["check_in"]), date.fromisoformat(data["check_out"]))
        await message.answer(
            dates + "\n" + _("Guest's name? (or Skip)"),
            reply_markup=dialog_nav(extra=[button(_("Skip"), "skip_guest")]),
        )
    else:
        await _create(message, user, session, state, services, guest=None)


async def _create(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services, *, guest: str | None
) -> None:
    data = await state.get_data()
    await state.clear()
    prop = await property_for(session, user, data["property_id"], manage=True)
    if prop is None:
        await message.answer(_("This property is no longer available."), reply_markup=only_menu())
        return
    result = await bookings_service.create_direct(
        session,
        prop,
        kind=data["kind"],
        check_in=date.fromisoformat(data["check_in"]),
        check_out=date.fromisoformat(data["check_out"]),
        user=user,
        now=services.clock(),
        guest_name=guest,
    )
    await message.answer(
        ("✅ " + _("Booking saved.") if data["kind"] == "reservation" else "✅ " + _("Dates blocked."))
        + _conflict_note(result.conflicts)
    )
    await show_card(message, user, session, result.booking.id)


async def _move(message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services) -> None:
    data = await state.get_data()
    await state.clear()
    booking = await bookings_service.booking_for(session, user, data["booking_id"], manage=True)
    if booking is None or booking.source != "direct":
        await message.answer(_("This booking is no longer available."), reply_markup=only_menu())
        return
    result = await bookings_service.move_direct(
        session,
        booking,
        check_in=date.fromisoformat(data["check_in"]),
        check_out=date.fromisoformat(data["check_out"]),
        user=user,
        now=services.clock(),
    )
    await message.answer("✅ " + _("Dates changed.") + _conflict_note(result.conflicts))
    await show_card(message, user, session, booking.id)


def _conflict_note(events: list[ConflictEvent]) -> str:
    doubles = [e for e in events if e.event == "opened" and e.klass == "double_booking"]
    if not doubles:
        return ""
    return "\n\n⚠️ " + _("This overlaps another reservation: a double booking. See /conflicts.")
