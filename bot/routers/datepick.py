"""The date picker's two buttons, shared by every dialog that picks dates (direct bookings, /free)."""

from __future__ import annotations

from datetime import date

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.keyboards.callbacks import DayCB
from bot.keyboards.datepicker import date_picker
from bot.routers.replies import expired


async def turn_month(query: CallbackQuery, picked: DayCB, state: FSMContext, *, back: bool) -> None:
    """◀️/▶️: show another month. Days before the dialog's check-in (or its first allowed day) stay unpickable."""
    if not 1 <= picked.m <= 12:
        await expired(query)
        return
    data = await state.get_data()
    earliest = date.fromisoformat(data.get("check_in") or data["earliest"])
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=date_picker(picked.y, picked.m, earliest=earliest, back=back)
        )


async def picked_day(query: CallbackQuery, picked: DayCB) -> tuple[Message, date] | None:
    """The day pressed and the picker's message, or None (answered as expired) for a forged or stale button."""
    try:
        chosen = date(picked.y, picked.m, picked.day)
    except ValueError:
        await expired(query)
        return None
    if not isinstance(query.message, Message):
        await expired(query)
        return None
    await query.answer()
    return query.message, chosen
