"""A cleaner's turnover message: "✅ Done", then an optional photo; the owners and managers are told
(domain.turnovers.mark_done). Only the cleaner the message is for, while they clean that property, may press it."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import _
from bot.keyboards.callbacks import TurnoverCB
from bot.keyboards.common import button, only_menu
from bot.middlewares.lookup import loads
from bot.services import Services
from bot.states import TurnoverPhoto
from bot.views.format import moment
from domain.turnovers import mark_done, turnover_for
from storage.models import Property, TurnoverMessage, User


async def done(
    query: CallbackQuery,
    turnover: TurnoverMessage,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
) -> None:
    if turnover.done_at is not None:
        await query.answer(_("Already marked done."))
        return
    now = services.clock()
    await mark_done(session, turnover, user, now=now)
    await session.commit()
    services.outbox_wakeup()
    await query.answer(_("Thank you!"))
    message = query.message
    if message is not None and not isinstance(message, InaccessibleMessage):
        prop = await session.get(Property, turnover.property_id)
        stamp = _("✅ Done at {time}").format(time=moment(now, prop.timezone if prop else None))
        await message.edit_text(f"{message.html_text}\n{stamp}", reply_markup=None)
        skip = InlineKeyboardMarkup(inline_keyboard=[[button(_("Skip"), TurnoverCB(id=turnover.id, action="skip"))]])
        await message.answer(_("If you like, send a photo of the finished cleaning."), reply_markup=skip)
    await state.set_state(TurnoverPhoto.photo)
    await state.set_data({"turnover_id": turnover.id})


async def photo(message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services) -> None:
    data = await state.get_data()
    await state.clear()
    turnover = await turnover_for(session, user, int(data.get("turnover_id", 0)))
    if turnover is None or not message.photo:
        await message.answer(_("This turnover is no longer yours."), reply_markup=only_menu())
        return
    await mark_done(session, turnover, user, now=services.clock(), photo=message.photo[-1].file_id)
    await session.commit()
    services.outbox_wakeup()
    await message.answer(_("Photo sent. Thank you!"))


async def skip(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("OK, no photo."))
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        await query.message.edit_reply_markup(reply_markup=None)


def get_router() -> Router:
    router = Router(name="turnovers")
    router.callback_query.register(done, TurnoverCB.filter(F.action == "done"), flags=loads("turnover"))
    router.callback_query.register(skip, TurnoverCB.filter(F.action == "skip"), flags=loads("turnover"))
    router.message.register(photo, StateFilter(TurnoverPhoto.photo), Is(F.photo))
    return router
