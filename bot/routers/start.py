from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, set_locale
from bot.keyboards.common import main_menu
from bot.services import Services
from bot.views import team as team_views
from bot.views.format import esc
from domain import access, team
from storage.models import User


async def start_with_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User | None,
    services: Services,
    locale: str | None = None,
) -> None:
    tg = message.from_user
    assert tg is not None
    code = (command.args or "").strip()
    joined = await team.redeem(
        session,
        code,
        telegram_id=tg.id,
        first_name=tg.first_name,
        username=tg.username,
        locale=user.locale if user else locale or services.settings.default_locale,
        now=services.clock(),
    )
    if isinstance(joined, team.Joined):
        await session.commit()
        services.outbox_wakeup()  # the owners hear who joined
        set_locale(joined.user.locale)
        await message.answer(team_views.joined_text(joined.role, joined.prop))
        await welcome(message, joined.user)
        return
    if joined in team_views.INVITE_PROBLEMS:
        await message.answer(_(team_views.INVITE_PROBLEMS[joined]), reply_markup=main_menu() if user else None)
        return
    if user is not None:
        await welcome(message, user)
        return
    owner = await access.claim_ownership(
        session,
        code,
        telegram_id=tg.id,
        first_name=tg.first_name,
        username=tg.username,
        locale=locale or services.settings.default_locale,
        now=services.clock(),
    )
    if owner is None:
        await message.answer(_("Sorry, this is a private assistant and I can't help you here."))
        return
    set_locale(owner.locale)
    welcome_owner = _("Welcome, {name}! You are now the owner of this LUMINA.")
    await message.answer(welcome_owner.format(name=esc(tg.first_name)))
    await welcome(message, owner)


async def start(message: Message, user: User) -> None:
    await welcome(message, user)


def get_router() -> Router:
    router = Router(name="start")

    router.message.register(start_with_code, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())

    return router


async def welcome(message: Message, user: User) -> None:
    await message.answer(
        _(
            "I am LUMINA, your rental assistant. I watch your Airbnb, Booking.com and VRBO calendars, tell you "
            "about every real change and stop double bookings."
        )
        + "\n\n"
        + _("What would you like to do?"),
        reply_markup=main_menu(),
    )
