"""Documents in the chat: the building's guest authorization, check-in instructions and receipts, as .docx or PDF.

From a booking card (📄 Documents) or /document: choose the document, then its language and format. Whatever the
template needs and the booking lacks is asked for, one question at a time, and stored where it belongs; then the
file is sent and recorded, so "send again" re-sends the very same bytes. The property's settings screen holds the
host's details, the check-in secrets and the templates; a .docx sent to the bot becomes a property's template once
it passes the checks in domain/documents/render.py. Every button re-checks that the user manages the property.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Is
from bot.i18n import LOCALES, _
from bot.keyboards.callbacks import DocCB, DocFileCB, DocSetupCB, UploadCB
from bot.keyboards.common import yes_no
from bot.middlewares.lookup import loads
from bot.routers.replies import booking_gone, edit_or_answer, expired
from bot.services import Services
from bot.states import DocumentDetail, DocumentDialog, TemplateUpload
from bot.views import documents as views
from bot.views.errors import input_error
from domain.bookings import GuestStay, guest_stay_for, upcoming
from domain.documents import service
from domain.documents.answers import parse_answer, parse_info
from domain.documents.context import INFO_KEYS, KINDS, SKIPPABLE_INFO, TYPED_SECRETS, Need, template_file_name
from domain.documents.defaults import templates_dir
from domain.documents.package import MAX_TEMPLATE_BYTES
from domain.documents.pdf import PdfConverter, PdfError, find_soffice
from domain.documents.problem import TemplateProblem
from domain.identity import country_of
from domain.inputs import InputError
from domain.properties import property_for, visible_properties, visible_property_ids
from storage.models import Booking, Property, User

log = logging.getLogger("lumina.documents")

WORD_SUFFIXES = (".docx", ".doc", ".docm", ".dotx", ".dot", ".odt", ".rtf")
WORD_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/msword",
    "application/vnd.oasis.opendocument.text",
})  # fmt: skip
COMMAND_BOOKINGS = 8


@cache
def pdf_converter(soffice: str, timeout: float) -> PdfConverter:
    return PdfConverter(find_soffice(soffice), timeout=timeout)


def _converter(services: Services) -> PdfConverter:
    return pdf_converter(services.settings.soffice_path, services.settings.pdf_timeout)


def pdf_available(services: Services) -> bool:
    """LibreOffice is there: PDF buttons are shown (and /settings says how to turn PDF on when it is not)."""
    return _converter(services).available


def _templates(services: Services) -> Path:
    return templates_dir(services.settings.templates_dir)


# A template button names a property this person manages, a document kind and a language that exist; any other
# (old or forged) matches no handler and is answered as expired.
TEMPLATE = F.key.in_(KINDS) & F.lang.in_(LOCALES)
MANAGED_PROPERTY = loads("prop", manage=True)
STAY = loads("booking", manage=True, check=lambda booking, _user: booking.kind not in ("block", "window"))


def _is_word_file(message: Message) -> bool:
    document = message.document
    if document is None:
        return False
    name = (document.file_name or "").lower()
    return name.endswith(WORD_SUFFIXES) or (document.mime_type or "") in WORD_TYPES


def _chat_id(target: Message | CallbackQuery) -> int:
    if isinstance(target, Message):
        return target.chat.id
    if target.message is not None and not isinstance(target.message, InaccessibleMessage):
        return target.message.chat.id
    return target.from_user.id


async def _reply(target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A new message in the chat, whether the update was a message or a button press."""
    message = target if isinstance(target, Message) else target.message
    if message is None or isinstance(message, InaccessibleMessage):
        return
    await message.answer(text, reply_markup=markup)


async def document_command(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    await state.clear()
    managed = set(await visible_property_ids(session, user, manage=True))
    if not managed:
        await message.answer(views.no_manageable_properties())
        return
    today = await services.today_for(session, user)
    entries, _total = await upcoming(session, user, today=today, offset=0, limit=50)
    entries = [(p, b) for p, b in entries if p.id in managed][:COMMAND_BOOKINGS]
    setup = DocSetupCB(id=next(iter(managed))) if len(managed) == 1 else DocSetupCB(id=0, action="pick")
    await message.answer(views.command_text(len(entries)), reply_markup=views.command_keyboard(entries, setup))


async def menu(query: CallbackQuery, stay: GuestStay, session: AsyncSession, state: FSMContext) -> None:
    await state.clear()
    booking, prop = stay.booking, stay.property
    recent = await service.recent_documents(session, booking.id)
    await edit_or_answer(
        query, views.documents_menu(booking, prop, recent, tz=prop.timezone), views.documents_keyboard(booking, recent)
    )


async def choose_format(query: CallbackQuery, callback_data: DocCB, user: User, services: Services) -> None:
    await edit_or_answer(
        query,
        views.format_text(callback_data.kind),
        views.format_keyboard(callback_data.id, callback_data.kind, user.locale, pdf=pdf_available(services)),
    )


async def make(
    query: CallbackQuery,
    callback_data: DocCB,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
    bot: Bot,
) -> None:
    if callback_data.fmt == "pdf" and not _converter(services).available:
        await query.answer(views.pdf_unavailable(), show_alert=True)
        return
    await state.clear()
    await _produce(
        query,
        user,
        session,
        state,
        services,
        bot,
        booking_id=callback_data.id,
        kind=callback_data.kind,
        lang=callback_data.lang,
        fmt=callback_data.fmt,
    )


async def answer(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services, bot: Bot
) -> None:
    data = await state.get_data()
    need = Need.from_dict(data["need"])
    tz = data.get("tz")
    try:
        value = parse_answer(need, message.text or "", country=country_of(tz))
    except InputError as error:
        await message.answer(
            input_error(error) + "\n\n" + views.question(need, timezone=tz),
            reply_markup=views.question_keyboard(data["booking_id"], need),
        )
        return
    if need.key == "info" and need.info in TYPED_SECRETS:
        await message.answer(await _forget_secret(message))
    await _answer(message, user, session, state, services, bot, data, need, value)


async def skip(
    query: CallbackQuery,
    callback_data: DocCB,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
    bot: Bot,
) -> None:
    data = await state.get_data()
    need = Need.from_dict(data["need"])
    if data["booking_id"] != callback_data.id or not need.skippable:
        await expired(query)
        return
    await _answer(query, user, session, state, services, bot, data, need, "")  # _produce answers the query


async def stop(query: CallbackQuery, callback_data: DocCB, state: FSMContext) -> None:
    await state.clear()  # Stop, or Skip on a question that is no longer open
    await edit_or_answer(query, views.stopped_text(), views.after_document_keyboard(callback_data.id))


async def send_again(
    query: CallbackQuery, callback_data: DocFileCB, user: User, session: AsyncSession, bot: Bot
) -> None:
    document = await service.document_for(session, user, callback_data.id)
    if document is None:
        await expired(query)
        return
    booking = await session.get(Booking, document.booking_id)
    prop = await session.get(Property, booking.property_id) if booking else None
    await query.answer()
    info = service.DocumentInfo(document.id, document.kind, document.file_name, document.created_at)
    await bot.send_document(
        _chat_id(query),
        BufferedInputFile(document.content, filename=document.file_name),
        caption=views.sent_again_caption(info, prop.timezone if prop else "UTC"),
        reply_markup=views.after_document_keyboard(document.booking_id),
    )


async def pick_property(query: CallbackQuery, user: User, session: AsyncSession) -> None:
    managed = set(await visible_property_ids(session, user, manage=True))
    props = [p for p in await visible_properties(session, user) if p.id in managed]
    if not props:
        await expired(query)
        return
    await edit_or_answer(query, _("Which property?"), views.pick_property_keyboard(props))


async def setup(query: CallbackQuery, prop: Property, session: AsyncSession, state: FSMContext) -> None:
    await state.clear()
    await _show_setup(query, session, prop)


async def info_ask(query: CallbackQuery, prop: Property, callback_data: DocSetupCB, state: FSMContext) -> None:
    if callback_data.key not in INFO_KEYS:
        await expired(query)
        return
    await state.set_state(DocumentDetail.value)
    await state.set_data({"property_id": prop.id, "key": callback_data.key, "tz": prop.timezone})
    await edit_or_answer(
        query,
        views.question(Need("info", info=callback_data.key), timezone=prop.timezone),
        views.info_keyboard(prop.id, callback_data.key, skippable=callback_data.key in SKIPPABLE_INFO),
    )


async def info_typed(
    message: Message, user: User, session: AsyncSession, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    tz = data.get("tz")
    try:
        value = parse_info(data["key"], message.text or "", country=country_of(tz))
    except InputError as error:
        await message.answer(
            input_error(error) + "\n\n" + views.question(Need("info", info=data["key"]), timezone=tz),
            reply_markup=views.info_keyboard(data["property_id"], data["key"], skippable=data["key"] in SKIPPABLE_INFO),
        )
        return
    saved = await _forget_secret(message) if data["key"] in TYPED_SECRETS else None
    await _save_info(message, user, session, state, services, data, value, saved=saved)


async def info_skip(
    query: CallbackQuery,
    callback_data: DocSetupCB,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
) -> None:
    data = await state.get_data()
    if data["property_id"] != callback_data.id or data["key"] not in SKIPPABLE_INFO:
        await expired(query)
        return
    await query.answer()
    await _save_info(query, user, session, state, services, data, "")


async def template_screen(
    query: CallbackQuery, callback_data: DocSetupCB, prop: Property, session: AsyncSession
) -> None:
    kind, locale = callback_data.key, callback_data.lang
    upload = (await service.active_uploads(session, prop.id)).get((kind, locale))
    await edit_or_answer(
        query,
        views.template_text(prop, kind, locale, upload),
        views.template_keyboard(prop.id, kind, locale, custom=upload is not None),
    )


async def download_template(
    query: CallbackQuery, callback_data: DocSetupCB, prop: Property, session: AsyncSession, services: Services, bot: Bot
) -> None:
    kind, locale = callback_data.key, callback_data.lang
    source = await service.active_template(session, prop.id, kind, locale, _templates(services))
    await query.answer()
    name = template_file_name(kind, locale, source.version)
    await bot.send_document(
        _chat_id(query),
        BufferedInputFile(source.content, filename=name),
        caption=f"📄 {views.kind_name(kind)} ({views.LANGUAGE_NAMES[locale]})",
    )


async def revert_ask(query: CallbackQuery, callback_data: DocSetupCB, prop: Property) -> None:
    kind, locale = callback_data.key, callback_data.lang
    await edit_or_answer(
        query,
        views.revert_text(prop, kind, locale),
        yes_no(
            DocSetupCB(id=prop.id, action="revert_yes", key=kind, lang=locale),
            DocSetupCB(id=prop.id, action="tpl", key=kind, lang=locale),
        ),
    )


async def revert(
    query: CallbackQuery,
    callback_data: DocSetupCB,
    prop: Property,
    user: User,
    session: AsyncSession,
    services: Services,
) -> None:
    kind, locale = callback_data.key, callback_data.lang
    await service.revert_template(session, prop, kind, locale, user=user, now=services.clock())
    await edit_or_answer(
        query, views.reverted_text(kind, locale), views.template_keyboard(prop.id, kind, locale, custom=False)
    )


async def upload(message: Message, user: User, session: AsyncSession, state: FSMContext, bot: Bot) -> None:
    document = message.document
    assert document is not None
    if (document.file_size or 0) > MAX_TEMPLATE_BYTES:
        await message.answer(views.problem_text(TemplateProblem("too_large"), "authorization"))
        return
    if not (document.file_name or "").lower().endswith(".docx"):
        await message.answer(views.not_word_file())
        return
    managed = set(await visible_property_ids(session, user, manage=True))
    props = [p for p in await visible_properties(session, user) if p.id in managed]
    if not props:
        await message.answer(views.no_manageable_properties())
        return
    try:
        await service.check_file(await _download(bot, document.file_id))
    except TemplateProblem as problem:
        await message.answer(views.problem_text(problem, "authorization"))
        return
    await state.set_state(TemplateUpload.choose)
    await state.set_data({"file_id": document.file_id, "file_name": document.file_name})
    if len(props) == 1:
        await message.answer(views.upload_kind_text(), reply_markup=views.upload_kind_keyboard(props[0].id))
        return
    await message.answer(
        views.upload_received(document.file_name or ""), reply_markup=views.upload_property_keyboard(props)
    )


async def other_file(message: Message) -> None:
    """A file that is not a Word document: say what LUMINA takes, not "I did not understand"."""
    name = (message.document.file_name if message.document else None) or ""
    await message.answer(views.other_file(name))


async def upload_choice(
    query: CallbackQuery,
    callback_data: UploadCB,
    prop: Property,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
    bot: Bot,
) -> None:
    kind, locale = callback_data.kind, callback_data.lang
    if not kind:
        await edit_or_answer(query, views.upload_kind_text(), views.upload_kind_keyboard(prop.id))
        return
    if not locale:
        await edit_or_answer(
            query, views.upload_language_text(), views.upload_language_keyboard(prop.id, kind, user.locale)
        )
        return
    data = await state.get_data()
    await state.clear()
    await query.answer()
    content = await _download(bot, data["file_id"])
    try:
        check = await service.check_upload(content, kind, locale)
    except TemplateProblem as problem:
        log.info("template refused", extra={"property_id": prop.id, "kind": kind, "problem": problem.code})
        await _reply(query, views.problem_text(problem, kind))
        return
    template = await service.store_template(session, prop, kind, locale, content, user=user, now=services.clock())
    await _reply(query, views.template_saved(prop, kind, locale, template.version))
    sample_name = "sample-" + template_file_name(kind, locale, str(template.version))
    await bot.send_document(
        _chat_id(query),
        BufferedInputFile(check.sample, filename=sample_name),
        reply_markup=views.template_keyboard(prop.id, kind, locale, custom=True),
    )


async def upload_gone(query: CallbackQuery) -> None:
    await expired(query)  # the upload dialog is over (answered, cancelled or replaced)


def get_router() -> Router:
    router = Router(name="documents")

    # --- a booking's documents ---------------------------------------------------------------------------------

    router.message.register(document_command, Command("document", "documents"))
    router.callback_query.register(menu, DocCB.filter(F.action == "menu"), flags=loads("stay", manage=True))
    router.callback_query.register(choose_format, DocCB.filter((F.action == "kind") & F.kind.in_(KINDS)), flags=STAY)
    router.callback_query.register(
        make,
        DocCB.filter((F.action == "make") & F.kind.in_(KINDS) & F.lang.in_(LOCALES) & F.fmt.in_({"docx", "pdf"})),
    )
    router.message.register(answer, StateFilter(DocumentDialog.answer), Is(F.text & ~F.text.startswith("/")))
    router.callback_query.register(skip, StateFilter(DocumentDialog.answer), DocCB.filter(F.action == "skip"))
    router.callback_query.register(stop, DocCB.filter(F.action.in_({"skip", "stop"})))
    router.callback_query.register(send_again, DocFileCB.filter())

    # --- the property's document settings ----------------------------------------------------------------------

    router.callback_query.register(pick_property, DocSetupCB.filter(F.action == "pick"))
    router.callback_query.register(setup, DocSetupCB.filter(F.action == "open"), flags=MANAGED_PROPERTY)
    router.callback_query.register(info_ask, DocSetupCB.filter(F.action == "info"), flags=MANAGED_PROPERTY)
    router.message.register(info_typed, StateFilter(DocumentDetail.value), Is(F.text & ~F.text.startswith("/")))
    router.callback_query.register(
        info_skip,
        StateFilter(DocumentDetail.value),
        DocSetupCB.filter(F.action == "info_skip"),
    )
    templates: list[tuple[Callable[..., Awaitable[None]], str]] = [
        (template_screen, "tpl"),
        (download_template, "get"),
        (revert_ask, "revert"),
        (revert, "revert_yes"),
    ]
    for handler, action in templates:
        router.callback_query.register(
            handler, DocSetupCB.filter((F.action == action) & TEMPLATE), flags=MANAGED_PROPERTY
        )

    # --- uploading a template ----------------------------------------------------------------------------------

    router.message.register(upload, Is(F.func(_is_word_file)))
    router.message.register(other_file, Is(F.document))
    router.callback_query.register(
        upload_choice,
        StateFilter(TemplateUpload.choose),
        UploadCB.filter(F.kind.in_({"", *KINDS}) & F.lang.in_({"", *LOCALES})),
        flags=loads("prop", manage=True),
    )
    router.callback_query.register(upload_gone, UploadCB.filter())

    return router


async def _download(bot: Bot, file_id: str) -> bytes:
    buffer = io.BytesIO()
    await bot.download(file_id, destination=buffer)
    content = buffer.getvalue()
    if len(content) > MAX_TEMPLATE_BYTES:
        raise TemplateProblem("too_large")
    return content


async def _produce(
    target: Message | CallbackQuery, user: User, session: AsyncSession, state: FSMContext, services: Services,
    bot: Bot, *, booking_id: int, kind: str, lang: str, fmt: str,
) -> None:  # fmt: skip
    """Ask for the next missing thing, or make the document, record it and send it."""
    stay = await guest_stay_for(session, user, booking_id, manage=True)
    if stay is None:
        await state.clear()
        await booking_gone(target)
        return
    booking, prop = stay.booking, stay.property
    now = services.clock()
    outcome = await service.prepare(session, booking, prop, kind, lang, directory=_templates(services), now=now)
    if isinstance(outcome, service.Missing):
        await state.set_state(DocumentDialog.answer)
        await state.set_data(
            {
                "booking_id": booking.id,
                "kind": kind,
                "lang": lang,
                "fmt": fmt,
                "need": outcome.need.as_dict(),
                "tz": prop.timezone,
            }
        )
        text = views.missing_text(kind, outcome, timezone=prop.timezone)
        markup = views.question_keyboard(booking.id, outcome.need)
        if isinstance(target, CallbackQuery):
            await edit_or_answer(target, text, markup)
        else:
            await target.answer(text, reply_markup=markup)
        return
    await state.clear()
    if isinstance(target, CallbackQuery):
        await target.answer()
    content, name = outcome.docx, outcome.file_name
    chat_id = _chat_id(target)
    if fmt == "pdf":
        await session.commit()  # the conversion takes seconds: hold no database lock meanwhile
        await bot.send_chat_action(chat_id, "upload_document")
        try:
            content = await _converter(services).convert(outcome.docx)
            name = name.removesuffix(".docx") + ".pdf"
        except PdfError as error:
            log.warning(
                "pdf conversion failed",
                extra={"booking_id": booking.id, "reason": error.reason, "detail": str(error)[:300]},
            )
            await _reply(target, views.pdf_failed())
    await service.record(session, booking, outcome, content=content, name=name, user=user, now=services.clock())
    await bot.send_document(
        chat_id,
        BufferedInputFile(content, filename=name),
        caption=views.caption(kind, prop, booking),
        reply_markup=views.after_document_keyboard(booking.id, mail=kind == "authorization"),
    )


async def _answer(
    target: Message | CallbackQuery, user: User, session: AsyncSession, state: FSMContext, services: Services,
    bot: Bot, data: dict[str, object], need: Need, value: object,
) -> None:  # fmt: skip
    booking_id = int(str(data["booking_id"]))
    stay = await guest_stay_for(session, user, booking_id, manage=True)
    if stay is None:
        await state.clear()
        await booking_gone(target)
        return
    booking, prop = stay.booking, stay.property
    try:
        await service.apply_answer(session, booking, prop, need, value, user=user, now=services.clock())
    except (LookupError, ValueError):  # the guest was removed meanwhile, say: ask again from the start
        log.info("document answer no longer applies", extra={"booking_id": booking_id, "need": need.key})
    kind, lang, fmt = str(data["kind"]), str(data["lang"]), str(data["fmt"])
    await _produce(target, user, session, state, services, bot, booking_id=booking_id, kind=kind, lang=lang, fmt=fmt)


async def _forget_secret(message: Message) -> str:
    """A door code or password the host typed is kept by LUMINA, not by the chat: their message is deleted. Says
    what happened."""
    try:
        await message.delete()
    except TelegramAPIError as error:
        log.info("could not delete a secret's message", extra={"reason": str(error)[:120]})
        return _("🔒 Saved. I could not delete your message with it: please delete it yourself.")
    return _("🔒 Saved, and I deleted your message so it does not stay in this chat.")


async def _save_info(
    target: Message | CallbackQuery,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    services: Services,
    data: dict[str, object],
    value: str,
    *,
    saved: str | None = None,
) -> None:
    await state.clear()
    prop = await property_for(session, user, int(str(data["property_id"])), manage=True)
    if prop is None:
        await _reply(target, _("This property is no longer available."))
        return
    await service.set_property_info(session, prop, str(data["key"]), value, user=user, now=services.clock())
    await _reply(target, saved or _("Saved."))
    await _show_setup(target, session, prop, new_message=True)


async def _show_setup(
    target: Message | CallbackQuery, session: AsyncSession, prop: Property, *, new_message: bool = False
) -> None:
    uploads = await service.active_uploads(session, prop.id)
    text = views.setup_text(prop, service.property_info(prop), uploads)
    if new_message:
        await _reply(target, text, views.setup_keyboard(prop))
    else:
        await edit_or_answer(target, text, views.setup_keyboard(prop))
