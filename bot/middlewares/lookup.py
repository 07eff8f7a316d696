"""One access lookup for every button that names a property, booking, conflict or calendar.

A handler says what its callback data names with `flags=loads("booking", manage=True)`; this middleware loads it
through the domain's access check (the pressing person's right to it), hands it to the handler as a keyword
argument of the same name (`booking`), or answers "this button has expired" and never calls the handler. Ids in
callback data are never trusted: a forged id, an archived property or a stranger's booking all end here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.routers.replies import expired
from domain.bookings import booking_for, guest_stay_for
from domain.conflict_actions import conflict_for
from domain.feeds import feed_for
from domain.properties import property_for
from domain.team import place_for
from domain.turnovers import turnover_for
from storage.models import User

Loader = Callable[..., Awaitable[Any]]
Check = Callable[[Any, User], bool]  # (the object found, the person pressing)
LOADERS: dict[str, Loader] = {  # the handler's argument name -> the domain lookup with its access check
    "prop": property_for,
    "booking": booking_for,
    "stay": guest_stay_for,  # a guest's booking with its property (documents, the building's e-mail)
    "conflict": conflict_for,
    "feed": feed_for,
    "turnover": turnover_for,  # a cleaner's own turnover message
    "place": place_for,  # a team member where the presser looks after them (TeamCB.place_and_person)
}


@dataclass(frozen=True)
class Loads:
    what: str  # a key of LOADERS
    manage: bool = False  # the right to change it, not only to see it
    field: str = "id"  # the callback data's field holding the id
    check: Check | None = None  # a further condition (e.g. still open); False: expired


def loads(what: str, *, manage: bool = False, field: str = "id", check: Check | None = None) -> dict[str, Loads]:
    """The handler flags: `@router.callback_query(BookingCB.filter(...), flags=loads("booking"))`."""
    if what not in LOADERS:
        raise ValueError(f"nothing loads {what!r}")
    return {"loads": Loads(what, manage, field, check)}


class LookupMiddleware(BaseMiddleware):
    """An inner middleware on callback queries: it runs once a handler was chosen, so it reads its flags."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        spec: Loads | None = get_flag(data, "loads")
        if spec is None or not isinstance(event, CallbackQuery):
            return await handler(event, data)
        session: AsyncSession = data["session"]
        user: User = data["user"]
        found = await LOADERS[spec.what](session, user, getattr(data["callback_data"], spec.field), manage=spec.manage)
        if found is None or (spec.check is not None and not spec.check(found, user)):
            await expired(event)
            return None
        data[spec.what] = found
        return await handler(event, data)
