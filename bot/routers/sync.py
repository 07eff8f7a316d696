"""/sync: check every calendar of the user's properties now, in one message that shows progress."""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.services import Services
from bot.views.feeds import failure_reason
from domain.feed_sync import SyncOutcome
from domain.properties import visible_property_ids
from storage.models import User


async def sync(message: Message, user: User, session: AsyncSession, services: Services) -> None:
    property_ids = await visible_property_ids(session, user)
    feed_ids = await services.syncer.feeds_of(property_ids)
    if not feed_ids:
        await message.answer(_("You have no calendars to check yet."))
        return
    progress = await message.answer(_("Checking calendars: {done}/{total}…").format(done=0, total=len(feed_ids)))

    async def step(done: int, total: int, _outcome: SyncOutcome) -> None:
        if done < total:
            # "message is not modified" when two feeds finish at once
            with contextlib.suppress(TelegramBadRequest):
                await progress.edit_text(_("Checking calendars: {done}/{total}…").format(done=done, total=total))

    outcomes = await services.syncer.sync_feeds(feed_ids, progress=step)
    await progress.edit_text(sync_report(outcomes, len(feed_ids)))


def get_router() -> Router:
    router = Router(name="sync")

    router.message.register(sync, Command("sync"))

    return router


def sync_report(outcomes: list[SyncOutcome], total: int) -> str:
    failed = [o for o in outcomes if o.outcome == "failed"]
    changed: dict[str, int] = {}
    for outcome in outcomes:
        for (kind, change), count in outcome.kind_counts.items():
            if kind in ("reservation", "tentative") and change in ("new", "changed", "cancelled", "restored"):
                changed[change] = changed.get(change, 0) + count
    lines = [_("Calendars checked: {ok}/{total}.").format(ok=total - len(failed), total=total)]
    labels = {
        "new": _("new reservations: {n}"),
        "changed": _("date changes: {n}"),
        "cancelled": _("cancellations: {n}"),
        "restored": _("restored: {n}"),
    }
    if changed:
        lines += ["• " + labels[name].format(n=count) for name, count in changed.items()]
    else:
        lines.append(_("No changes in reservations."))
    for outcome in failed:
        lines.append(
            "⚠️ " + _("Calendar #{id}: {reason}").format(id=outcome.feed_id, reason=failure_reason(outcome.reason))
        )
    return "\n".join(lines)
