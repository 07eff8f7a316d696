"""Property texts and keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.keyboards.callbacks import FeedCB, MenuCB, PropertyCB, TeamCB
from bot.views.feeds import platform_name
from bot.views.format import clock, esc
from storage.models import Feed, Property


def property_card(prop: Property, feeds: list[Feed]) -> str:
    lines = [
        f"🏠 <b>{esc(prop.name)}</b>",
        esc(prop.address) if prop.address else _("(no address)"),
        "",
        _("Time zone: {tz}").format(tz=esc(prop.timezone)),
        _("Check-in from {checkin} · check-out until {checkout}").format(
            checkin=clock(prop.checkin_time), checkout=clock(prop.checkout_time)
        ),
        _("Capacity: {n}").format(n=prop.capacity) if prop.capacity else _("Capacity: not set"),
        _("Currency: {code}").format(code=prop.currency),
        _("Building: {name} {email}").format(
            name=esc(prop.building_contact_name or "—"), email=esc(prop.building_email or "")
        ),
        "",
    ]
    if feeds:
        lines.append(_("Calendars:"))
        lines += [f"{'⚠️' if f.in_trouble or f.consecutive_failures else '✅'} {esc(platform_name(f.platform, f.label))}"
                  for f in feeds]  # fmt: skip
    else:
        lines.append(_("No calendars yet: tap 🔗 Calendars and paste the export link of each platform."))
    return "\n".join(lines)


def property_keyboard(prop: Property, *, can_manage: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📅 Month"), callback_data=PropertyCB(id=prop.id, action="calendar"))
    builder.button(text=_("🔗 Calendars"), callback_data=PropertyCB(id=prop.id, action="feeds"))
    if can_manage:
        builder.button(text=_("➕ Booking or block"), callback_data=PropertyCB(id=prop.id, action="book"))
        builder.button(text=_("✏️ Edit"), callback_data=PropertyCB(id=prop.id, action="edit"))
        builder.button(text=_("👥 Team"), callback_data=TeamCB(p=prop.id))
        builder.button(text=_("🗄 Archive"), callback_data=PropertyCB(id=prop.id, action="archive"))
    builder.button(text=_("☰ Menu"), callback_data=MenuCB(to="menu"))
    builder.adjust(2)
    return builder.as_markup()


def properties_keyboard(props: list[Property], *, can_add: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for prop in props:
        builder.button(text=f"🏠 {prop.name[:40]}", callback_data=PropertyCB(id=prop.id))
    if can_add:
        builder.button(text=_("➕ Add a property"), callback_data=PropertyCB(id=0, action="add"))
    builder.button(text=_("☰ Menu"), callback_data=MenuCB(to="menu"))
    builder.adjust(1)
    return builder.as_markup()


def feeds_keyboard(prop: Property, feeds: list[Feed], *, can_manage: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for feed in feeds:
        builder.button(
            text=f"🔗 {platform_name(feed.platform, feed.label)} #{feed.id}", callback_data=FeedCB(id=feed.id)
        )
    if can_manage:
        builder.button(text=_("➕ Add a calendar link"), callback_data=PropertyCB(id=prop.id, action="add_feed"))
    builder.button(text=_("⬅️ Back"), callback_data=PropertyCB(id=prop.id))
    builder.adjust(1)
    return builder.as_markup()
