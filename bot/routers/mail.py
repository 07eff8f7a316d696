"""The building's e-mail in the chat: "✉️ Send to the building" (booking card, documents), the answer to the
revision question, and each property's mail settings (addresses, automatic / on request / never, language, the
message). The mail itself goes through the mail outbox (jobs/mail.py), which tells the chat when the server has it
or why it does not. Every button re-checks that the user manages the property."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import LOCALES, _
from bot.keyboards.callbacks import BookingCB, MailCB
from bot.keyboards.common import button
from bot.middlewares.lookup import loads
from bot.routers.documents import pdf_converter
from bot.routers.replies import edit_or_answer, expired
from bot.services import Services
from bot.states import DocumentDialog, MailInput
from bot.views import documents as document_views
from bot.views import mail as views
from bot.views.errors import input_error
from bot.views.feeds import source_name
from domain.bookings import GuestStay, booking_for
from domain.documents import service as documents
from domain.documents.defaults import templates_dir
from domain.inputs import InputError, parse_text
from domain.mail import building, inbox
from domain.properties import property_for
from storage.models import PlatformMail, Property, User, whole_installation


def _back(booking_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("⬅️ Booking"), BookingCB(id=booking_id))]])


async def _say(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A new message under the pressed one (the card stays as it was)."""
    await query.answer()
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        await query.message.answer(text, reply_markup=markup)


async def send(
    query: CallbackQuery, stay: GuestStay, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    booking, prop = stay.booking, stay.property
    smtp = services.settings.smtp_config()
    if smtp is None:
        await query.answer(views.not_configured(), show_alert=True)
        return
    settings = await building.building_mail(session, prop)
    if not settings.addresses:
        await _say(query, views.no_addresses(), views.addresses_keyboard(prop.id))
        return
    if settings.mode == "never":
        await _say(query, views.sending_off(), views.settings_link_keyboard(prop.id))
        return
    now = services.clock()
    if booking.status != "cancelled":
        directory = templates_dir(services.settings.templates_dir)
        outcome = await documents.prepare(
            session, booking, prop, "authorization", settings.locale, directory=directory, now=now
        )
        if isinstance(outcome, documents.Missing):
            pdf = pdf_converter(services.settings.soffice_path, services.settings.pdf_timeout).available
            await state.set_state(DocumentDialog.answer)
            await state.set_data(
                {
                    "booking_id": booking.id,
                    "kind": "authorization",
                    "lang": settings.locale,
                    "fmt": "pdf" if pdf else "docx",
                    "need": outcome.need.as_dict(),
                }
            )
            text = (
                views.missing_first(outcome.need.key) + "\n\n" + document_views.missing_text("authorization", outcome)
            )
            await _say(query, text, document_views.question_keyboard(booking.id, outcome.need))
            return
    pressed = query.message.message_id if query.message is not None else 0
    row = await building.queue_notice(
        session,
        prop,
        booking,
        settings,
        now=now,
        sender=smtp.sender,
        user=user,
        again=f"{query.from_user.id}:{pressed}",
    )
    if row is None:
        await query.answer(views.already_queued(), show_alert=True)
        return
    await session.commit()
    services.mail_wakeup()
    await _say(query, views.queued_text(list(settings.addresses), row.kind), _back(booking.id))


async def not_now(query: CallbackQuery, stay: GuestStay) -> None:
    await edit_or_answer(query, views.not_now(), _back(stay.booking.id))


# --- a platform's mail that matched no stay (owners) -------------------------------------------------------


async def platform_mail(
    query: CallbackQuery, callback_data: MailCB, user: User, session: AsyncSession, services: Services
) -> None:
    mail = await session.get(PlatformMail, callback_data.id)
    if mail is None or not whole_installation(user) or mail.status != "unmatched":
        await expired(query)
        return
    if callback_data.action == "pm_ignore":
        mail.status = "ignored"
        await edit_or_answer(query, views.platform_mail_ignored())
        return
    if callback_data.action == "pm_pick":
        stays = await inbox.candidates(session, mail)
        rows = [
            [
                button(
                    f"{p.name[:24]} · {b.check_in:%d/%m} · {source_name(b.source)}",
                    MailCB(id=mail.id, action="pm_attach", arg=str(b.id)),
                )
            ]
            for p, b in stays
        ]
        rows.append([button(_("🙈 Ignore"), MailCB(id=mail.id, action="pm_ignore"))])
        text = views.platform_mail_pick() if stays else views.platform_mail_no_candidates()
        await edit_or_answer(query, text, InlineKeyboardMarkup(inline_keyboard=rows))
        return
    stay = (
        await booking_for(session, user, int(callback_data.arg or 0), manage=True)
        if callback_data.arg.isdigit()
        else None
    )
    if stay is None:
        await expired(query)
        return
    filled = await inbox.attach(session, mail, stay, now=services.clock())
    await edit_or_answer(query, views.platform_mail_attached(len(filled)), _back(stay.id))


# --- the property's settings -----------------------------------------------------------------------------


async def open_settings(
    query: CallbackQuery, prop: Property, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    await state.clear()
    await _show(query, session, prop, services)


async def choose(
    query: CallbackQuery, callback_data: MailCB, prop: Property, user: User, session: AsyncSession, services: Services
) -> None:
    action, value = callback_data.action, callback_data.arg
    changes: dict[str, object] = (
        {"body": None} if action == "body_reset" else {"mode" if action == "mode" else "locale": value}
    )
    await building.update_settings(session, prop, user=user, now=services.clock(), **changes)
    await _show(query, session, prop, services)


async def ask(query: CallbackQuery, callback_data: MailCB, prop: Property, state: FSMContext) -> None:
    await state.set_state(MailInput.addresses if callback_data.action == "addr" else MailInput.body)
    await state.set_data({"property_id": prop.id})
    back = InlineKeyboardMarkup(inline_keyboard=[[button(_("⬅️ Back"), MailCB(id=prop.id, action="open"))]])
    question = views.addresses_question() if callback_data.action == "addr" else views.body_question()
    await edit_or_answer(query, question, back)


async def addresses_typed(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    try:
        addresses = building.parse_addresses(message.text or "")
    except InputError as error:
        await message.answer(input_error(error) + "\n\n" + views.addresses_question())
        return
    await _save(message, user, session, state, services, addresses=addresses)


async def body_typed(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    try:
        body = parse_text(message.text or "", max_length=2000)
    except InputError as error:
        await message.answer(input_error(error) + "\n\n" + views.body_question())
        return
    # parse_text folds whitespace; a message keeps its lines
    lines = [" ".join(line.split()) for line in (message.text or "").strip().splitlines()]
    await _save(message, user, session, state, services, body="\n".join(lines) if body else body)


def get_router() -> Router:
    router = Router(name="mail")
    cb = router.callback_query
    cb.register(send, MailCB.filter(F.action.in_({"send", "revise"})), flags=loads("stay", manage=True))
    cb.register(not_now, MailCB.filter(F.action == "notnow"), flags=loads("stay", manage=True))
    cb.register(platform_mail, MailCB.filter(F.action.in_({"pm_pick", "pm_attach", "pm_ignore"})))
    cb.register(open_settings, MailCB.filter(F.action == "open"), flags=loads("prop", manage=True))
    cb.register(
        choose,
        MailCB.filter(
            ((F.action == "mode") & F.arg.in_(building.MODES))
            | ((F.action == "lang") & F.arg.in_(LOCALES))
            | (F.action == "body_reset")
        ),
        flags=loads("prop", manage=True),
    )
    cb.register(ask, MailCB.filter(F.action.in_({"addr", "body"})), flags=loads("prop", manage=True))
    router.message.register(addresses_typed, StateFilter(MailInput.addresses), Is(F.text & ~F.text.startswith("/")))
    router.message.register(body_typed, StateFilter(MailInput.body), Is(F.text & ~F.text.startswith("/")))
    return router


async def _save(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services, **changes: object
) -> None:
    data = await state.get_data()
    await state.clear()
    prop = await property_for(session, user, int(data["property_id"]), manage=True)
    if prop is None:
        await message.answer(_("This property is no longer available."))
        return
    await building.update_settings(session, prop, user=user, now=services.clock(), **changes)
    await message.answer(_("Saved."))
    await _show(message, session, prop, services)


async def _show(target: Message | CallbackQuery, session: AsyncSession, prop: Property, services: Services) -> None:
    settings = await building.building_mail(session, prop)
    text = views.settings_text(prop, settings, smtp_ready=services.settings.smtp_config() is not None)
    await edit_or_answer(target, text, views.settings_keyboard(prop, settings))
