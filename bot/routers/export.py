"""/export: each property's secret calendar links for Airbnb, Booking.com and VRBO, and rotating them."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InaccessibleMessage, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.keyboards.callbacks import ExportCB
from bot.keyboards.export import confirm_keyboard, links_keyboard, picker_keyboard
from bot.services import Services
from bot.views.export import confirm_text, links_text, picker_text
from domain import export
from storage.models import User

# Up to this many properties get one message each; more get a picker, so /export never floods the chat.
MAX_MESSAGES = 5


async def show_all(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    overview = await export.export_overview(session, user, now=services.clock())
    if not overview.has_properties:
        await message.answer(_("You have no properties yet."))
    elif not overview.links:
        await message.answer(_("Only owners and managers can see the calendar links."))
    elif len(overview.links) > MAX_MESSAGES:
        await message.answer(picker_text(), reply_markup=picker_keyboard(overview.links))
    else:
        base, reachable = services.settings.resolved_public_url, services.settings.public_url_reachable
        for links in overview.links:
            await message.answer(
                links_text(links, base, reachable=reachable), reply_markup=links_keyboard(links.property_id)
            )


async def press(
    query: CallbackQuery, callback_data: ExportCB, user: User, session: AsyncSession, services: Services
) -> None:
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    now, pid, action = services.clock(), callback_data.id, callback_data.action
    if action == "yes":
        links = await export.rotate_export_links(session, user, pid, now=now)
    else:
        links = await export.export_links(session, user, pid, now=now)
    if links is None:  # a viewer, a cleaner, someone who lost access, or an archived property
        await query.answer(_("Only owners and managers of this property can do that."), show_alert=True)
        return
    base, reachable = services.settings.resolved_public_url, services.settings.public_url_reachable
    if action == "show":
        await message.answer(links_text(links, base, reachable=reachable), reply_markup=links_keyboard(pid))
    elif action == "rotate":
        await message.edit_text(confirm_text(links), reply_markup=confirm_keyboard(pid))
    elif action in ("yes", "no"):
        rotated = action == "yes"
        await message.edit_text(
            links_text(links, base, rotated=rotated, reachable=reachable), reply_markup=links_keyboard(pid)
        )
        await query.answer(_("Done: new links.") if rotated else None)
        return
    await query.answer()


def get_router() -> Router:
    router = Router(name="export")

    router.message.register(show_all, Command("export"))
    router.callback_query.register(press, ExportCB.filter())

    return router
