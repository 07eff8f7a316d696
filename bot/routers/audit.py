"""/audit for owners and co-owners: the newest events first, by property and by person, ten to a page, and a CSV
of a period. The log itself is written by domain.audit."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import WholeInstallation
from bot.i18n import _
from bot.keyboards.callbacks import AuditCB
from bot.routers.replies import edit_or_answer
from bot.services import Services
from bot.views import audit as views
from domain import audit
from domain.properties import visible_properties
from domain.time import person_zone
from storage.models import Property, User, whole_installation


async def audit_command(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    if not whole_installation(user):
        await message.answer(_("Only owners read the audit trail."))
        return
    await _show(message, AuditCB(), user, session, services)


async def show(
    query: CallbackQuery, callback_data: AuditCB, user: User, session: AsyncSession, services: Services
) -> None:
    await _show(query, callback_data, user, session, services)


async def _show(
    target: Message | CallbackQuery, data: AuditCB, user: User, session: AsyncSession, services: Services
) -> None:
    events, total = await audit.events(
        session, property_id=data.p, user_id=data.u, offset=data.page * views.PAGE_SIZE, limit=views.PAGE_SIZE
    )
    tz = (await person_zone(session, user, services.default_zone)).key
    text = views.events_text(events, total=total, page=data.page, tz=tz, scope=await _scope(session, data))
    await edit_or_answer(target, text, views.events_keyboard(data, total=total))


async def _scope(session: AsyncSession, data: AuditCB) -> str:
    parts = []
    if data.p:
        prop = await session.get(Property, data.p)
        parts.append(prop.name if prop else f"#{data.p}")
    if data.u:
        person = await session.get(User, data.u)
        parts.append(person.first_name if person else f"#{data.u}")
    return " · ".join(parts) or _("everything")


async def pick_property(query: CallbackQuery, callback_data: AuditCB, user: User, session: AsyncSession) -> None:
    options = [(_("🏠 All properties"), AuditCB(u=callback_data.u))]
    options += [(f"🏠 {p.name}", AuditCB(p=p.id, u=callback_data.u)) for p in await visible_properties(session, user)]
    await edit_or_answer(query, _("Which property?"), views.choice_keyboard(options))


async def pick_person(query: CallbackQuery, callback_data: AuditCB, session: AsyncSession) -> None:
    options = [(_("👤 Everyone"), AuditCB(p=callback_data.p))]
    options += [(f"👤 {name}", AuditCB(p=callback_data.p, u=uid)) for uid, name in await audit.people_in_log(session)]
    await edit_or_answer(query, _("Whose events?"), views.choice_keyboard(options))


async def csv_period(query: CallbackQuery, callback_data: AuditCB) -> None:
    await edit_or_answer(query, _("The events of which period, as CSV?"), views.csv_period_keyboard(callback_data))


async def csv_file(
    query: CallbackQuery, callback_data: AuditCB, user: User, session: AsyncSession, services: Services, bot: Bot
) -> None:
    now = services.clock()
    since = now - timedelta(days=callback_data.d)
    events, _total = await audit.events(session, property_id=callback_data.p, user_id=callback_data.u, since=since)
    tz = (await person_zone(session, user, services.default_zone)).key
    await query.answer()
    if query.message is not None:
        name = f"audit-{since:%Y-%m-%d}-{now:%Y-%m-%d}.csv"
        await bot.send_document(query.message.chat.id, BufferedInputFile(views.events_csv(events, tz=tz), name))


def get_router() -> Router:
    router = Router(name="audit")
    router.message.register(audit_command, Command("audit"))
    cb = router.callback_query
    for handler, action in ((show, "show"), (pick_property, "props"), (pick_person, "people"), (csv_period, "csv")):
        cb.register(handler, WholeInstallation(), AuditCB.filter(F.action == action))
    cb.register(csv_file, WholeInstallation(), AuditCB.filter((F.action == "file") & F.d.in_(views.CSV_DAYS)))
    return router
