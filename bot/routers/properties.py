"""/properties: list, card, the add dialog, editing a field, archiving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import N_, _
from bot.keyboards.callbacks import MenuCB, OptCB, PropertyCB
from bot.keyboards.common import BACK, dialog_nav, only_menu, yes_no
from bot.middlewares.lookup import loads
from bot.routers.replies import edit_or_answer, expired
from bot.services import Services
from bot.states import AddProperty, EditProperty
from bot.views.errors import input_error
from bot.views.format import esc
from bot.views.properties import properties_keyboard, property_card, property_keyboard
from domain import properties as props_service
from domain.feeds import feeds_of
from domain.inputs import InputError, parse_count, parse_currency, parse_email, parse_text, parse_time
from domain.timezones import find_timezone
from storage.models import Property, User


@dataclass(frozen=True)
class Step:
    state: State
    field: str
    question: str  # msgid
    parse: Callable[[str], Any]
    options: tuple[str, ...] = ()  # shown as buttons; the default time zone is put first at run time
    optional: bool = False


STEPS = [
    Step(AddProperty.name, "name", N_("What is the property called? (e.g. Apto 101 Copacabana)"),
         lambda t: parse_text(t, max_length=120)),
    Step(AddProperty.address, "address", N_("What is the address?"), lambda t: parse_text(t, max_length=300),
         optional=True),
    Step(AddProperty.timezone, "timezone", N_("Which time zone is it in? Choose or type one (e.g. Europe/Lisbon)."),
         find_timezone, ("America/Sao_Paulo", "America/Fortaleza", "America/Manaus", "Europe/Lisbon")),
    Step(AddProperty.checkin_time, "checkin_time", N_("Check-in from what time?"), parse_time,
         ("14:00", "15:00", "16:00")),
    Step(AddProperty.checkout_time, "checkout_time", N_("Check-out until what time?"), parse_time,
         ("10:00", "11:00", "12:00")),
    Step(AddProperty.capacity, "capacity", N_("How many guests can stay?"), lambda t: parse_count(t, high=100),
         ("2", "4", "6"), optional=True),
    Step(AddProperty.currency, "currency", N_("Which currency do you charge in?"), parse_currency,
         ("BRL", "USD", "EUR")),
    Step(AddProperty.building_contact_name, "building_contact_name",
         N_("Who receives the guest authorization at the building (concierge, management)?"),
         lambda t: parse_text(t, max_length=120), optional=True),
    Step(AddProperty.building_email, "building_email", N_("And their e-mail?"), parse_email, optional=True),
]  # fmt: skip
BY_STATE = {step.state.state: step for step in STEPS}
BY_FIELD = {step.field: step for step in STEPS}
FIELD_LABELS = {
    "name": N_("Name"), "address": N_("Address"), "timezone": N_("Time zone"), "checkin_time": N_("Check-in time"),
    "checkout_time": N_("Check-out time"), "capacity": N_("Capacity"), "currency": N_("Currency"),
    "building_contact_name": N_("Building contact"), "building_email": N_("Building e-mail"),
}  # fmt: skip


def _options(step: Step, default_zone: str) -> tuple[str, ...]:
    if step.field == "timezone":
        return (default_zone, *[zone for zone in step.options if zone != default_zone])[:4]
    return step.options


def _keyboard(step: Step, default_zone: str, *, back: bool) -> Any:
    extra = [
        InlineKeyboardButton(text=option, callback_data=OptCB(i=i).pack())
        for i, option in enumerate(_options(step, default_zone))
    ]
    if step.optional:
        extra.append(InlineKeyboardButton(text=_("Skip"), callback_data=OptCB(i=-1).pack()))
    return dialog_nav(back=back, extra=extra)


async def list_command(message: Message, user: User, session: AsyncSession) -> None:
    await _list(message, user, session)


async def list_button(query: CallbackQuery, user: User, session: AsyncSession) -> None:
    await _list(query, user, session)


async def open_card(query: CallbackQuery, prop: Property, user: User, session: AsyncSession) -> None:
    can_manage = await props_service.property_for(session, user, prop.id, manage=True) is not None
    await edit_or_answer(
        query, property_card(prop, await feeds_of(session, prop.id)), property_keyboard(prop, can_manage=can_manage)
    )


async def add_start(query: CallbackQuery, user: User, state: FSMContext, services: Services) -> None:
    if not props_service.can_add_properties(user):
        await expired(query)
        return
    await state.set_state(AddProperty.name)
    await state.set_data({})
    await edit_or_answer(
        query, _(STEPS[0].question), _keyboard(STEPS[0], services.settings.default_timezone, back=False)
    )


async def add_typed(message: Message, user: User, state: FSMContext, session: AsyncSession, services: Services) -> None:
    step = BY_STATE[await state.get_state() or ""]
    try:
        value = step.parse(message.text or "")
    except InputError as error:
        await message.answer(
            input_error(error) + "\n\n" + _(step.question),
            reply_markup=_keyboard(step, services.settings.default_timezone, back=step is not STEPS[0]),
        )
        return
    await _advance(message, step, value, user, state, session, services)


async def add_option(
    query: CallbackQuery, callback_data: OptCB, user: User, state: FSMContext, session: AsyncSession, services: Services
) -> None:
    current = await state.get_state()
    step = BY_STATE.get(current or "")
    editing = current == EditProperty.value.state
    if editing:
        step = BY_FIELD.get((await state.get_data()).get("field", ""))
    if step is None:
        await expired(query)
        return
    if callback_data.i == -1 and step.optional:
        value: Any = None
    else:
        options = _options(step, services.settings.default_timezone)
        if not 0 <= callback_data.i < len(options):
            await expired(query)
            return
        value = step.parse(options[callback_data.i])
    await query.answer()
    assert query.message is not None
    if editing:
        await _save_edit(query.message, value, user, state, session, services)  # type: ignore[arg-type]
    else:
        await _advance(query.message, step, value, user, state, session, services)  # type: ignore[arg-type]


async def add_back(query: CallbackQuery, state: FSMContext, services: Services) -> None:
    step = BY_STATE[await state.get_state() or ""]
    index = max(STEPS.index(step) - 1, 0)
    await state.set_state(STEPS[index].state)
    await edit_or_answer(
        query, _(STEPS[index].question), _keyboard(STEPS[index], services.settings.default_timezone, back=index > 0)
    )


async def edit_menu(query: CallbackQuery, prop: Property) -> None:
    rows = [
        [InlineKeyboardButton(text=_(FIELD_LABELS[f]), callback_data=PropertyCB(id=prop.id, action=f"e_{f}").pack())]
        for f in props_service.EDITABLE_FIELDS
    ]
    rows.append([InlineKeyboardButton(text=_("⬅️ Back"), callback_data=PropertyCB(id=prop.id).pack())])
    await edit_or_answer(query, _("Which field do you want to change?"), InlineKeyboardMarkup(inline_keyboard=rows))


async def edit_field(
    query: CallbackQuery, callback_data: PropertyCB, prop: Property, state: FSMContext, services: Services
) -> None:
    step = BY_FIELD.get(callback_data.action[2:])
    if step is None:
        await expired(query)
        return
    await state.set_state(EditProperty.value)
    await state.set_data({"property_id": prop.id, "field": step.field})
    await edit_or_answer(query, _(step.question), _keyboard(step, services.settings.default_timezone, back=False))


async def edit_typed(
    message: Message, user: User, state: FSMContext, session: AsyncSession, services: Services
) -> None:
    step = BY_FIELD[(await state.get_data())["field"]]
    try:
        value = step.parse(message.text or "")
    except InputError as error:
        await message.answer(
            input_error(error) + "\n\n" + _(step.question),
            reply_markup=_keyboard(step, services.settings.default_timezone, back=False),
        )
        return
    await _save_edit(message, value, user, state, session, services)


async def archive_ask(query: CallbackQuery, prop: Property) -> None:
    await edit_or_answer(
        query,
        _("Archive {name}? It stops syncing and leaves every list; its bookings and history are kept.").format(
            name=f"<b>{esc(prop.name)}</b>"
        ),
        yes_no(PropertyCB(id=prop.id, action="archive_yes"), PropertyCB(id=prop.id)),
    )


async def archive(query: CallbackQuery, prop: Property, user: User, session: AsyncSession, services: Services) -> None:
    await props_service.archive_property(session, prop, user=user, now=services.clock())
    await edit_or_answer(query, _("Archived. Its data is kept."), only_menu())


def get_router() -> Router:
    router = Router(name="properties")

    router.message.register(list_command, Command("properties"))
    router.callback_query.register(list_button, MenuCB.filter(F.to == "properties"))
    router.callback_query.register(open_card, PropertyCB.filter(F.action == "open"), flags=loads("prop"))

    # --- adding ---------------------------------------------------------------------------------------------

    router.callback_query.register(add_start, PropertyCB.filter(F.action == "add"))
    router.message.register(add_typed, StateFilter(AddProperty), Is(F.text))
    router.callback_query.register(add_option, OptCB.filter(), Is(F.message))
    router.callback_query.register(add_back, StateFilter(AddProperty), Is((F.data == BACK) & F.message))

    # --- editing and archiving -----------------------------------------------------------------------------

    router.callback_query.register(edit_menu, PropertyCB.filter(F.action == "edit"), flags=loads("prop", manage=True))
    router.callback_query.register(
        edit_field,
        PropertyCB.filter(F.action.startswith("e_")),
        flags=loads("prop", manage=True),
    )
    router.message.register(edit_typed, StateFilter(EditProperty.value), Is(F.text))
    router.callback_query.register(
        archive_ask,
        PropertyCB.filter(F.action == "archive"),
        flags=loads("prop", manage=True),
    )
    router.callback_query.register(
        archive,
        PropertyCB.filter(F.action == "archive_yes"),
        flags=loads("prop", manage=True),
    )

    return router


async def _list(target: Message | CallbackQuery, user: User, session: AsyncSession) -> None:
    props = await props_service.visible_properties(session, user)
    text = _("Your properties:") if props else _("You have no properties yet.")
    await edit_or_answer(target, text, properties_keyboard(props, can_add=props_service.can_add_properties(user)))


async def _advance(
    message: Message, step: Step, value: Any, user: User, state: FSMContext, session: AsyncSession, services: Services
) -> None:
    await state.update_data({step.field: value.isoformat() if hasattr(value, "isoformat") else value})
    index = STEPS.index(step)
    if index + 1 < len(STEPS):
        following = STEPS[index + 1]
        await state.set_state(following.state)
        await message.answer(
            _(following.question), reply_markup=_keyboard(following, services.settings.default_timezone, back=True)
        )
        return
    data = await state.get_data()
    await state.clear()
    draft = props_service.PropertyDraft(
        name=data["name"],
        address=data.get("address") or "",
        timezone=data["timezone"],
        checkin_time=time.fromisoformat(data["checkin_time"]),
        checkout_time=time.fromisoformat(data["checkout_time"]),
        capacity=data.get("capacity"),
        currency=data["currency"],
        building_contact_name=data.get("building_contact_name"),
        building_email=data.get("building_email"),
    )
    prop = await props_service.create_property(session, draft, user=user, now=services.clock())
    await message.answer(  # the card says what comes next (the calendars' export links), once
        _("Property saved.") + "\n\n" + property_card(prop, []), reply_markup=property_keyboard(prop, can_manage=True)
    )


async def _save_edit(
    message: Message, value: Any, user: User, state: FSMContext, session: AsyncSession, services: Services
) -> None:
    data = await state.get_data()
    prop = await props_service.property_for(session, user, data["property_id"], manage=True)
    await state.clear()
    if prop is None:
        await message.answer(_("This property is no longer available."), reply_markup=only_menu())
        return
    await props_service.update_property(session, prop, data["field"], value, user=user, now=services.clock())
    await message.answer(
        _("Saved.") + "\n\n" + property_card(prop, await feeds_of(session, prop.id)),
        reply_markup=property_keyboard(prop, can_manage=True),
    )
