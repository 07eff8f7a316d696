"""/stats: pick the property (or all) and the period; one message with the figures, the chart as a photo, and the
stays of the period as CSV or XLSX. Owners see every property, managers theirs, viewers and cleaners nothing."""

from __future__ import annotations

import asyncio

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.keyboards.callbacks import MenuCB, StatsCB
from bot.keyboards.common import dialog_nav, only_menu
from bot.keyboards.stats import figures_keyboard, picker_keyboard
from bot.middlewares.lookup import loads
from bot.routers.replies import clip, edit_or_answer, expired
from bot.services import Services
from bot.states import DefaultRate
from bot.views import stats as views
from bot.views.errors import input_error
from bot.views.stats_chart import chart_spec, draw
from domain.inputs import InputError, parse_money
from domain.properties import property_for
from domain.stats import Period, standard_periods
from domain.stats_service import (
    export_stays,
    load_report,
    set_default_rate,
    set_monthly_stats,
    stats_properties,
)
from storage.models import Property, User, whole_installation


async def _today_period(session: AsyncSession, user: User, services: Services, name: str) -> Period:
    return standard_periods(await services.today_for(session, user))[name]


async def stats_command(message: Message, user: User, session: AsyncSession) -> None:
    await _picker(message, user, session, chosen=0)


async def stats_button(query: CallbackQuery, user: User, session: AsyncSession) -> None:
    await _picker(query, user, session, chosen=0)


async def pick(query: CallbackQuery, callback_data: StatsCB, user: User, session: AsyncSession) -> None:
    await _picker(query, user, session, chosen=callback_data.p)


async def monthly(
    query: CallbackQuery, callback_data: StatsCB, user: User, session: AsyncSession, services: Services
) -> None:
    if not whole_installation(user):
        await expired(query)
        return
    await set_monthly_stats(session, user, not user.monthly_stats, now=services.clock())
    await _picker(query, user, session, chosen=callback_data.p)


async def rate_ask(query: CallbackQuery, prop: Property, state: FSMContext) -> None:
    await state.set_state(DefaultRate.value)
    await state.update_data(property_id=prop.id)
    await edit_or_answer(query, views.rate_question(prop), dialog_nav(back=False))


async def rate_typed(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    prop = await property_for(session, user, (await state.get_data()).get("property_id", 0), manage=True)
    if prop is None:
        await state.clear()
        await message.answer(_("This property is no longer available."), reply_markup=only_menu())
        return
    try:
        rate = parse_money(message.text or "")
    except InputError as error:
        await message.answer(input_error(error), reply_markup=dialog_nav(back=False))
        return
    await set_default_rate(session, prop, rate or None, user=user, now=services.clock())
    await state.clear()
    await message.answer(views.rate_saved(prop))
    await _picker(message, user, session, chosen=prop.id)


async def show(
    query: CallbackQuery, callback_data: StatsCB, user: User, session: AsyncSession, services: Services, bot: Bot
) -> None:
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        await expired(query)
        return
    chosen = await _chosen(session, user, callback_data.p)
    if chosen is None:
        await expired(query)
        return
    properties, scope = chosen
    period = await _today_period(session, user, services, callback_data.per)
    if callback_data.action == "show":
        await query.answer()
        report = await load_report(session, properties, period)
        await message.answer(
            clip(views.stats_text(report, scope=scope)),
            reply_markup=figures_keyboard(callback_data.p, callback_data.per),
        )
        spec = chart_spec(report, title=f"{scope} · {views.period_title(period)}")
        png = await asyncio.to_thread(draw, spec)
        await bot.send_photo(message.chat.id, BufferedInputFile(png, filename="lumina-stats.png"))
        return
    await query.answer(_("Preparing the file…"))
    stays = await export_stays(session, properties, period)
    slug = "all" if callback_data.p == 0 else f"property-{callback_data.p}"
    if callback_data.action == "csv":
        content, name = views.stays_csv(stays), views.file_name(slug, period, "csv")
    else:
        report = await load_report(session, properties, period, chart=False)
        content = await asyncio.to_thread(views.stays_xlsx, stays, report, scope=scope)
        name = views.file_name(slug, period, "xlsx")
    caption = views.files_caption(len(stays), scope, period)
    await bot.send_document(message.chat.id, BufferedInputFile(content, filename=name), caption=caption)


def get_router() -> Router:
    router = Router(name="stats")

    router.message.register(stats_command, Command("stats"))
    router.callback_query.register(stats_button, MenuCB.filter(F.to == "stats"))
    router.callback_query.register(pick, StatsCB.filter(F.action == "pick"))
    router.callback_query.register(monthly, StatsCB.filter(F.action == "monthly"))
    router.callback_query.register(
        rate_ask,
        StatsCB.filter(F.action == "rate"),
        flags=loads("prop", manage=True, field="p"),
    )
    router.message.register(rate_typed, StateFilter(DefaultRate.value))
    router.callback_query.register(show, StatsCB.filter(F.action.in_({"show", "csv", "xlsx"})))

    return router


async def _chosen(session: AsyncSession, user: User, property_id: int) -> tuple[list[Property], str] | None:
    """The properties behind a press (re-checked now) and how to name them; None when they are not this user's."""
    properties = await stats_properties(session, user)
    if property_id == 0:
        return (properties, _("All properties")) if properties else None
    found = [p for p in properties if p.id == property_id]
    return (found, found[0].name) if found else None


async def _picker(target: Message | CallbackQuery, user: User, session: AsyncSession, *, chosen: int) -> None:
    properties = await stats_properties(session, user)
    if not properties:
        text = _("You have no properties yet.") if whole_installation(user) else views.no_numbers_text()
        await edit_or_answer(target, text, only_menu())
        return
    if len(properties) == 1:
        chosen = properties[0].id
    elif chosen and chosen not in {p.id for p in properties}:
        chosen = 0
    keyboard = picker_keyboard(properties, chosen, monthly=user.monthly_stats if whole_installation(user) else None)
    if isinstance(target, CallbackQuery) and isinstance(target.data, str) and target.data.startswith("st:"):
        await edit_or_answer(target, views.picker_text(), keyboard)
        return
    if isinstance(target, CallbackQuery):
        await target.answer()
        if target.message is not None and not isinstance(target.message, InaccessibleMessage):
            await target.message.answer(views.picker_text(), reply_markup=keyboard)
        return
    await target.answer(views.picker_text(), reply_markup=keyboard)
