"""/free: is it free? Every calendar is fetched fresh first; a calendar that could not be is named, and "free" is
never said on stale data without saying so."""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import _
from bot.keyboards.callbacks import DayCB, MenuCB
from bot.keyboards.common import only_menu
from bot.keyboards.datepicker import date_picker
from bot.routers.datepick import picked_day, turn_month
from bot.routers.replies import edit_or_answer
from bot.services import Services
from bot.states import FreeDates
from bot.views.errors import input_error
from bot.views.feeds import platform_name, source_name
from bot.views.format import day, esc, short_day, stay_range
from domain.availability import PropertyAvailability, availability
from domain.inputs import InputError, StayDates, parse_date, parse_date_pair, validate_stay
from domain.properties import visible_property_ids
from storage.models import User


async def free_command(
    message: Message, command: CommandObject, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    today = await services.today_for(session, user)
    if not command.args:
        await state.set_state(FreeDates.check_in)
        await state.set_data({"earliest": today.isoformat()})
        await message.answer(
            _("From which night? Pick it or type both dates (e.g. 12/08 15/08)."),
            reply_markup=date_picker(today.year, today.month, earliest=today, back=False),
        )
        return
    try:
        stay = parse_date_pair(command.args, today=today)
    except InputError as error:
        await message.answer(input_error(error) + "\n" + _("For example: /free 12/08 15/08"))
        return
    await answer_free(message, user, session, services, stay)


async def free_button(
    query: CallbackQuery, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    today = await services.today_for(session, user)
    await state.set_state(FreeDates.check_in)
    await state.set_data({"earliest": today.isoformat()})
    await edit_or_answer(
        query,
        _("From which night? Pick it or type both dates (e.g. 12/08 15/08)."),
        date_picker(today.year, today.month, earliest=today, back=False),
    )


async def turn(query: CallbackQuery, callback_data: DayCB, state: FSMContext) -> None:
    await turn_month(query, callback_data, state, back=False)


async def picked(
    query: CallbackQuery, callback_data: DayCB, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    if found := await picked_day(query, callback_data):
        await _chosen(found[0], found[1], user, session, state, services)


async def typed(message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services) -> None:
    data = await state.get_data()
    reference = date.fromisoformat(data.get("check_in") or data["earliest"])
    if await state.get_state() == FreeDates.check_in.state and len((message.text or "").split()) > 1:
        try:
            stay = parse_date_pair(message.text or "", today=reference)
        except InputError as error:
            await message.answer(input_error(error))
            return
        await state.clear()
        await answer_free(message, user, session, services, stay)
        return
    try:
        chosen = parse_date(message.text or "", today=reference)
    except InputError as error:
        await message.answer(input_error(error))
        return
    await _chosen(message, chosen, user, session, state, services)


def get_router() -> Router:
    router = Router(name="free")

    router.message.register(free_command, Command("free"))
    router.callback_query.register(free_button, MenuCB.filter(F.to == "free"))
    router.callback_query.register(turn, StateFilter(FreeDates), DayCB.filter(F.day == 0))
    router.callback_query.register(picked, StateFilter(FreeDates), DayCB.filter(F.day > 0))
    router.message.register(typed, StateFilter(FreeDates), Is(F.text))

    return router


async def _chosen(
    message: Message, chosen: date, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    earliest = date.fromisoformat(data["earliest"])
    if "check_in" not in data:
        if chosen < earliest:
            await message.answer(input_error(InputError("date_past", day=chosen)))
            return
        await state.update_data(check_in=chosen.isoformat())
        await state.set_state(FreeDates.check_out)
        await message.answer(
            _("From {day}. Until which day (check-out)?").format(day=day(chosen)),
            reply_markup=date_picker(chosen.year, chosen.month, earliest=chosen, back=False),
        )
        return
    try:
        stay = validate_stay(date.fromisoformat(data["check_in"]), chosen, today=earliest)
    except InputError as error:
        await message.answer(input_error(error))
        return
    await state.clear()
    await answer_free(message, user, session, services, stay)


async def answer_free(message: Message, user: User, session: AsyncSession, services: Services, stay: StayDates) -> None:
    property_ids = await visible_property_ids(session, user)
    if not property_ids:
        await message.answer(_("You have no properties yet."), reply_markup=only_menu())
        return
    progress = await message.answer(_("Checking every calendar now…"))
    feed_ids = await services.syncer.feeds_of(property_ids)
    outcomes = await services.syncer.sync_feeds(feed_ids)
    failed = [o.feed_id for o in outcomes if o.outcome == "failed"]
    failed += [f for f in feed_ids if f not in {o.feed_id for o in outcomes}]
    results = await availability(session, user, stay.check_in, stay.check_out, failed_feed_ids=failed)
    lines = [f"🔎 {stay_range(stay.check_in, stay.check_out)}", ""]
    lines += [_property_line(entry) for entry in results]
    await progress.edit_text("\n".join(lines), reply_markup=only_menu())


def _property_line(entry: PropertyAvailability) -> str:
    name = f"<b>{esc(entry.prop.name)}</b>"
    stale = ""
    if entry.stale_feeds:
        names = ", ".join(esc(platform_name(f.platform, f.label)) for f in entry.stale_feeds)
        stale = "\n   " + _("⚠️ Could not check {names} just now: this may be out of date.").format(names=names)
    if entry.free:
        head = ("✅ " + _("{name}: free") if entry.certain else "❔ " + _("{name}: looks free")).format(name=name)
        return head + stale
    blocked = " (" + _("blocked") + ")"
    blockers = "; ".join(
        f"{esc(source_name(b.source))} {short_day(b.check_in)}→{short_day(b.check_out)}"
        + (blocked if b.kind == "block" else "")
        for b in entry.blockers[:5]
    )
    return "⛔ " + _("{name}: taken — {what}").format(name=name, what=blockers) + stale
