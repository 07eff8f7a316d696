from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, set_locale
from bot.keyboards.common import main_menu
from bot.services import Services
from bot.views.format import esc
from domain import access
from storage.models import User


async def start_with_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User | None,
    services: Services,
    locale: str | None = None,
) -> None:
    if user is not None:
        await welcome(message, user)
        return
    tg = message.from_user
    assert tg is not None
    owner = await access.claim_ownership(
        session,
        (command.args or "").strip(),
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
