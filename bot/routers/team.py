"""/team: who has access to what, invitations (a t.me link and its QR code), changing a role, removing someone.

Every button re-checks the pressing person's right to manage the property (the access lookup) and to change that
member (domain.team); the rules are in domain/team.py."""

from __future__ import annotations

import asyncio
import io

import segno
from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.keyboards.callbacks import MenuCB, TeamCB
from bot.keyboards.common import only_menu
from bot.middlewares.lookup import loads
from bot.routers.replies import edit_or_answer, expired
from bot.services import Services
from bot.views import team as views
from domain import team
from domain.properties import visible_properties
from domain.time import person_zone
from storage.models import Property, User, whole_installation


async def team_command(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    await _overview(message, user, session, services)


async def team_button(query: CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    await _overview(query, user, session, services)


async def _overview(target: Message | CallbackQuery, user: User, session: AsyncSession, services: Services) -> None:
    props = await visible_properties(session, user, manage=True)
    owner = user.role == "owner"
    if not props and not owner:
        await edit_or_answer(target, _("Only owners and managers look after the team."), only_menu())
        return
    co_owners = await team.co_owners(session) if whole_installation(user) else []
    invites = await team.pending_invites(session, user, None, now=services.clock()) if owner else []
    tz = (await person_zone(session, user, services.default_zone)).key
    text = views.overview_text(co_owners, invites, owner=owner, tz=tz)
    await edit_or_answer(target, text, views.overview_keyboard(props, co_owners, invites, owner=owner))


async def open_team(
    query: CallbackQuery, prop: Property, user: User, session: AsyncSession, services: Services
) -> None:
    await _show(query, prop, user, session, services)


async def _show(
    target: Message | CallbackQuery, prop: Property, user: User, session: AsyncSession, services: Services
) -> None:
    people = await team.members(session, prop)
    invites = await team.pending_invites(session, user, prop, now=services.clock())
    changeable = [m for m in people if team.may_change(user, m.user, m.role)]
    await edit_or_answer(
        target, views.team_text(prop, people, invites, tz=prop.timezone), views.team_keyboard(prop, changeable, invites)
    )


async def choose_role(query: CallbackQuery, prop: Property, user: User) -> None:
    await edit_or_answer(query, views.roles_text(prop), views.roles_keyboard(prop, team.invitable_roles(user, prop)))


async def choose_hours(query: CallbackQuery, callback_data: TeamCB, user: User, session: AsyncSession) -> None:
    allowed, prop = await team.looks_after(session, user, callback_data.p)
    if not allowed or callback_data.role not in team.invitable_roles(user, prop):
        await expired(query)
        return
    await edit_or_answer(
        query, views.hours_text(callback_data.role), views.hours_keyboard(callback_data.p, callback_data.role)
    )


async def make_invite(
    query: CallbackQuery, callback_data: TeamCB, user: User, session: AsyncSession, services: Services, bot: Bot
) -> None:
    allowed, prop = await team.looks_after(session, user, callback_data.p)
    if not allowed:
        await expired(query)
        return
    try:
        invite, code = await team.create_invite(
            session, user, callback_data.role, prop, now=services.clock(), hours=callback_data.h
        )
    except PermissionError:
        await expired(query)
        return
    await session.commit()  # the link must work the moment it is shown
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={code}"
    tz = prop.timezone if prop is not None else services.settings.default_timezone
    text = views.invite_text(link, invite.role, prop, invite.expires_at, tz)
    await edit_or_answer(query, text)
    png = await asyncio.to_thread(_qr_png, link)
    if query.message is not None:
        await bot.send_photo(query.message.chat.id, BufferedInputFile(png, filename="invite.png"))


def _qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


async def revoke(
    query: CallbackQuery, callback_data: TeamCB, prop: Property, user: User, session: AsyncSession, services: Services
) -> None:
    if await team.revoke_invite(session, user, callback_data.m, prop.id, now=services.clock()) is None:
        await expired(query)
        return
    await _show(query, prop, user, session, services)


async def revoke_co_owner(
    query: CallbackQuery, callback_data: TeamCB, user: User, session: AsyncSession, services: Services
) -> None:
    if await team.revoke_invite(session, user, callback_data.m, 0, now=services.clock()) is None:
        await expired(query)
        return
    await _overview(query, user, session, services)


async def member(query: CallbackQuery, place: team.Place, user: User) -> None:
    roles = team.invitable_roles(user, place.prop) if place.prop is not None else ()
    text = views.member_text(place.member, place.prop)
    await edit_or_answer(query, text, views.member_keyboard(place.member, place.prop, roles))


async def set_role(
    query: CallbackQuery,
    callback_data: TeamCB,
    place: team.Place,
    user: User,
    session: AsyncSession,
    services: Services,
) -> None:
    prop = place.prop
    if prop is None or not await team.change_role(
        session, user, prop, place.member, callback_data.role, now=services.clock()
    ):
        await expired(query)
        return
    await _show(query, prop, user, session, services)


async def remove_ask(query: CallbackQuery, place: team.Place) -> None:
    text = views.remove_question(place.member, place.prop)
    await edit_or_answer(query, text, views.remove_keyboard(place.member, place.prop))


async def remove(
    query: CallbackQuery, place: team.Place, user: User, session: AsyncSession, services: Services
) -> None:
    if not await team.remove(session, user, place.prop, place.member, now=services.clock()):
        await expired(query)
        return
    if place.prop is None:
        await _overview(query, user, session, services)
    else:
        await _show(query, place.prop, user, session, services)


def get_router() -> Router:
    router = Router(name="team")
    cb = router.callback_query
    router.message.register(team_command, Command("team"))
    cb.register(team_button, MenuCB.filter(F.to == "team"))
    cb.register(open_team, TeamCB.filter(F.action == "open"), flags=loads("prop", manage=True, field="p"))
    cb.register(choose_role, TeamCB.filter(F.action == "invite"), flags=loads("prop", manage=True, field="p"))
    cb.register(choose_hours, TeamCB.filter(F.action == "hours"))
    cb.register(make_invite, TeamCB.filter(F.action == "make"))
    cb.register(revoke_co_owner, TeamCB.filter((F.action == "revoke") & (F.p == 0)))
    cb.register(revoke, TeamCB.filter(F.action == "revoke"), flags=loads("prop", manage=True, field="p"))
    person = loads("place", manage=True, field="place_and_person")
    cb.register(member, TeamCB.filter(F.action == "member"), flags=person)
    cb.register(set_role, TeamCB.filter(F.action == "set"), flags=person)
    cb.register(remove_ask, TeamCB.filter(F.action == "remove"), flags=person)
    cb.register(remove, TeamCB.filter(F.action == "remove_yes"), flags=person)
    return router
