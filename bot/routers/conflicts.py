"""/conflicts and the actions on a conflict: open both stays, resolve with a note, echo, snooze."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import _
from bot.keyboards.callbacks import ConflictCB, MenuCB
from bot.keyboards.common import button, dialog_nav, only_menu
from bot.middlewares.lookup import loads
from bot.routers.replies import edit_or_answer
from bot.services import Services
from bot.states import ResolveConflict
from bot.views.conflicts import conflict_keyboard, conflict_text
from bot.views.errors import input_error
from domain import conflict_actions
from domain.inputs import InputError, parse_text
from storage.models import Conflict, Property, User

LIST_LIMIT = 15
OPEN_TO_MANAGE = loads("conflict", manage=True, check=lambda conflict, _user: conflict.status == "open")


async def list_command(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    await _list(message, user, session, services)


async def list_button(query: CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    await _list(query, user, session, services)


async def open_conflict(query: CallbackQuery, conflict: Conflict, session: AsyncSession) -> None:
    await _show(query, session, conflict)


async def act(
    query: CallbackQuery,
    callback_data: ConflictCB,
    conflict: Conflict,
    user: User,
    session: AsyncSession,
    services: Services,
) -> None:
    now = services.clock()
    if callback_data.action == "echo":
        await conflict_actions.mark_echo(session, conflict, user=user, now=now)
        done = _("Marked as an echo: it will not page again for these dates.")
    elif callback_data.action == "echo_feed":
        feed = await conflict_actions.mark_feed_echo(session, conflict, user=user, now=now)
        if feed is not None:
            done = _("This calendar's blocks are now treated as echoes.")
        else:
            await conflict_actions.mark_echo(session, conflict, user=user, now=now)
            done = _("Neither stay is a block from a calendar; marked this pair as an echo instead.")
    else:
        await conflict_actions.snooze(session, conflict, user=user, now=now)
        done = _("Snoozed for 24 hours. I will remind you if it is still open.")
    await _show(query, session, conflict, notice=done)


async def resolve_ask(query: CallbackQuery, conflict: Conflict, state: FSMContext) -> None:
    await state.set_state(ResolveConflict.note)
    await state.set_data({"conflict_id": conflict.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("How was it resolved? Write a short note (e.g. guest moved to Apto 202)."),
            reply_markup=dialog_nav(back=False),
        )


async def resolve(message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services) -> None:
    try:
        note = parse_text(message.text or "", max_length=conflict_actions.NOTE_MAX)
    except InputError as error:
        await message.answer(input_error(error))
        return
    conflict = await conflict_actions.conflict_for(session, user, (await state.get_data())["conflict_id"], manage=True)
    await state.clear()
    if conflict is None or conflict.status != "open":
        await message.answer(_("This conflict is no longer open."), reply_markup=only_menu())
        return
    await conflict_actions.resolve(session, conflict, note, user=user, now=services.clock())
    done = _("Resolved. It comes back only if more nights become contested.")
    await message.answer(done, reply_markup=only_menu())


def get_router() -> Router:
    router = Router(name="conflicts")

    router.message.register(list_command, Command("conflicts"))
    router.callback_query.register(list_button, MenuCB.filter(F.to == "conflicts"))
    router.callback_query.register(open_conflict, ConflictCB.filter(F.action == "open"), flags=loads("conflict"))
    router.callback_query.register(
        act,
        ConflictCB.filter(F.action.in_({"echo", "echo_feed", "snooze"})),
        flags=OPEN_TO_MANAGE,
    )
    router.callback_query.register(resolve_ask, ConflictCB.filter(F.action == "resolve"), flags=OPEN_TO_MANAGE)
    router.message.register(resolve, StateFilter(ResolveConflict.note), Is(F.text))

    return router


async def _list(target: Message | CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    conflicts = await conflict_actions.open_conflicts(session, user, now=services.clock())
    if not conflicts:
        await edit_or_answer(target, "✅ " + _("No open conflicts."), only_menu())
        return
    lines = [_("Open conflicts, worst first ({n}):").format(n=len(conflicts))]
    rows = []
    for index, conflict in enumerate(conflicts[:LIST_LIMIT], start=1):
        prop = await session.get(Property, conflict.property_id)
        assert prop is not None
        a, b = await conflict_actions.stays_of(session, conflict)
        lines.append(f"\n{index}. " + conflict_text(conflict, prop, a, b))
        rows.append([button(f"{index}. {prop.name[:30]}", ConflictCB(id=conflict.id))])
    rows.append([button(_("☰ Menu"), MenuCB(to="menu"))])
    await edit_or_answer(target, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def _show(query: CallbackQuery, session: AsyncSession, conflict: Conflict, *, notice: str | None = None) -> None:
    prop = await session.get(Property, conflict.property_id)
    assert prop is not None
    a, b = await conflict_actions.stays_of(session, conflict)
    settler = await session.get(User, conflict.resolved_by) if conflict.resolved_by else None
    text = conflict_text(conflict, prop, a, b, settled_by=(settler.first_name or None) if settler else None)
    await edit_or_answer(query, text, conflict_keyboard(conflict, a, b), notice=notice)
