"""A property's calendar links: add one (fetched at once), see its health, remove it."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import N_, _
from bot.keyboards.callbacks import FeedCB, PropertyCB
from bot.keyboards.common import button, dialog_nav, yes_no
from bot.middlewares.lookup import loads
from bot.routers.replies import edit_or_answer
from bot.services import Services
from bot.states import AddFeed
from bot.views.feeds import failure_reason, feed_summary, platform_name
from bot.views.format import esc, moment, short_day
from bot.views.properties import feeds_keyboard
from domain import feeds as feeds_service
from domain.properties import property_for
from domain.time import property_today
from jobs.fetch import redact_url
from storage.models import Feed, Property, User

FEED_ERRORS = {
    "invalid_url": N_("this is not a valid http(s) link."),
    "duplicate": N_("this link is already connected to this property."),
    "too_many": N_("this property already has the maximum number of calendars."),
}


async def list_feeds(query: CallbackQuery, prop: Property, user: User, session: AsyncSession) -> None:
    feeds = await feeds_service.feeds_of(session, prop.id)
    can_manage = await property_for(session, user, prop.id, manage=True) is not None
    lines = [f"🔗 <b>{esc(prop.name)}</b>"]
    lines += [_health_line(feed, prop.timezone) for feed in feeds] or [_("No calendars yet.")]
    await edit_or_answer(query, "\n".join(lines), feeds_keyboard(prop, feeds, can_manage=can_manage))


async def ask_url(query: CallbackQuery, prop: Property, state: FSMContext) -> None:
    await state.set_state(AddFeed.url)
    await state.set_data({"property_id": prop.id})
    await edit_or_answer(
        query,
        _("Paste the calendar export link (iCal, ends in .ics) from Airbnb, Booking.com, VRBO or another platform."),
        dialog_nav(back=False),
    )


async def add(message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services) -> None:
    prop = await property_for(session, user, (await state.get_data())["property_id"], manage=True)
    if prop is None:
        await state.clear()
        await message.answer(_("This property is no longer available."))
        return
    try:
        feed = await feeds_service.add_feed(session, prop, message.text or "", user=user, now=services.clock())
    except feeds_service.FeedError as error:
        await message.answer(
            _("I could not add it: {reason}").format(reason=_(FEED_ERRORS[error.code]))
            + "\n"
            + _("Paste the link again, or /cancel."),
            reply_markup=dialog_nav(back=False),
        )
        return
    await session.commit()  # the sync below runs in its own transaction and must see the feed
    progress = await message.answer(_("Reading the calendar…"))
    outcome = await services.syncer.sync_feed(feed.id)
    if outcome is None or outcome.outcome == "failed":
        await session.refresh(feed)
        await feeds_service.remove_feed(session, feed, user=user, now=services.clock())
        reason = failure_reason(outcome.reason if outcome else None, retrying=False)  # it is not kept
        # still in the dialog: the next link pasted is tried at once
        await progress.edit_text(
            _("I could not read that calendar: {reason}").format(reason=reason)
            + "\n"
            + _(
                "Nothing was added: check the link and send it again, or try again in a "
                "few minutes if the platform is down."
            ),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(_("🔁 Try another link"), PropertyCB(id=prop.id, action="add_feed")),
                        button(_("⬅️ Back"), PropertyCB(id=prop.id, action="feeds")),
                    ]
                ]
            ),
        )
        return
    await state.clear()
    await session.refresh(feed)
    contents = await feeds_service.feed_contents(session, feed.id, today=property_today(prop, services.clock()))
    summary = feed_summary(
        feed.platform,
        feed.label,
        contents.reservations,
        contents.blocks,
        short_day(contents.next_check_in) if contents.next_check_in else None,
    )
    await progress.edit_text("✅ " + esc(summary), reply_markup=feeds_keyboard(prop, [feed], can_manage=True))


async def open_feed(query: CallbackQuery, feed: Feed, user: User, session: AsyncSession, services: Services) -> None:
    prop = await property_for(session, user, feed.property_id)
    assert prop is not None
    contents = await feeds_service.feed_contents(session, feed.id, today=property_today(prop, services.clock()))
    lines = [
        "🔗 "
        + esc(
            feed_summary(
                feed.platform,
                feed.label,
                contents.reservations,
                contents.blocks,
                short_day(contents.next_check_in) if contents.next_check_in else None,
            )
        ),
        esc(redact_url(feed.url)),
        _health_line(feed, prop.timezone),
    ]
    rows = []
    if await property_for(session, user, feed.property_id, manage=True) is not None:
        rows.append([button(_("🗑 Remove"), FeedCB(id=feed.id, action="remove"))])
    rows.append([button(_("⬅️ Back"), PropertyCB(id=feed.property_id, action="feeds"))])
    await edit_or_answer(query, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def remove_ask(query: CallbackQuery, feed: Feed) -> None:
    await edit_or_answer(
        query,
        _("Remove this calendar? Its imported stays are removed with it."),
        yes_no(FeedCB(id=feed.id, action="remove_yes"), FeedCB(id=feed.id)),
    )


async def remove(query: CallbackQuery, feed: Feed, user: User, session: AsyncSession, services: Services) -> None:
    property_id = feed.property_id
    await feeds_service.remove_feed(session, feed, user=user, now=services.clock())
    await edit_or_answer(
        query,
        _("Calendar removed."),
        InlineKeyboardMarkup(inline_keyboard=[[button(_("⬅️ Back"), PropertyCB(id=property_id, action="feeds"))]]),
    )


def get_router() -> Router:
    router = Router(name="feeds")

    router.callback_query.register(list_feeds, PropertyCB.filter(F.action == "feeds"), flags=loads("prop"))
    router.callback_query.register(ask_url, PropertyCB.filter(F.action == "add_feed"), flags=loads("prop", manage=True))
    router.message.register(add, StateFilter(AddFeed.url), Is(F.text))
    router.callback_query.register(open_feed, FeedCB.filter(F.action == "open"), flags=loads("feed"))
    router.callback_query.register(remove_ask, FeedCB.filter(F.action == "remove"), flags=loads("feed", manage=True))
    router.callback_query.register(remove, FeedCB.filter(F.action == "remove_yes"), flags=loads("feed", manage=True))

    return router


def _health_line(feed: Feed, tz: str) -> str:
    name = esc(platform_name(feed.platform, feed.label))
    if feed.last_error:
        return (
            "⚠️ "
            + _("{name}: failing since {failures} checks — {reason}").format(
                name=name, failures=feed.consecutive_failures, reason=failure_reason(feed.last_error)
            )
            + " "
            + _("(last success {when})").format(when=moment(feed.last_success_at, tz))
        )
    if feed.last_success_at is None:
        return "⏳ " + _("{name}: not read yet").format(name=name)
    return "✅ " + _("{name}: last read {when}").format(name=name, when=moment(feed.last_success_at, tz))
