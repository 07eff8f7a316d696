"""The fake Bot API speaks the real aiogram client's HTTP dialect, so E2E tests can trust what it records."""

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.support.fake_bot_api import FakeBotAPI, make_bot, polling

HOST = 1987654321  # private chat: chat id == user id
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Confirmar", callback_data="confirm")]]
)


@pytest.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    """A bot polling the fake API through a real Dispatcher, with a router built per test."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Olá {message.from_user.first_name}! code={command.args}")

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        await message.answer("Reserva 12-15 ago", reply_markup=KEYBOARD)

    @router.callback_query(F.data == "confirm")
    async def confirm(callback: CallbackQuery) -> None:
        await callback.message.edit_text("Reserva confirmada")
        await callback.answer("OK")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        content = await bot.download(message.document)
        await message.answer(f"{message.document.file_name}: {content.read().decode()}")

    dp = Dispatcher()
    dp.include_router(router)
    polling_bot = make_bot(fake_api)
    async with polling(fake_api, dp, polling_bot):
        yield polling_bot


async def test_get_me_returns_configured_identity(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)

    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (bot.id, "lumina_test_bot", True)
    assert [r.method for r in fake_api.requests] == ["getMe"]


@pytest.mark.parametrize("text", ["/start abc123", "/start@lumina_test_bot abc123"])
async def test_deep_link_start_reaches_handler(fake_api: FakeBotAPI, bot: Bot, text: str) -> None:
    fake_api.push_message(HOST, text, first_name="Ana")

    [call] = await fake_api.wait_for("sendMessage", chat_id=HOST)

    assert call.params["text"] == "Olá Ana! code=abc123"
    sent = fake_api.last_message(HOST)
    assert sent["message_id"] == 2  # the user's /start was message 1 in this chat
    assert sent["chat"] == {"id": HOST, "type": "private", "first_name": "Ana"}
    assert sent["from"]["username"] == "lumina_test_bot"
    assert abs(sent["date"] - time.time()) < 5


async def test_callback_press_edits_the_message(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.push_message(HOST, "/menu")
    [sent] = await fake_api.wait_for("sendMessage", chat_id=HOST)
    assert sent.params["reply_markup"] == KEYBOARD.model_dump(exclude_none=True)
    message_id = fake_api.last_message(HOST)["message_id"]

    mark = fake_api.mark()
    fake_api.push_callback(HOST, "confirm", message_id=message_id)
    [edit] = await fake_api.wait_for("editMessageText", after=mark)
    [answer] = await fake_api.wait_for("answerCallbackQuery", after=mark)

    assert edit.params["message_id"] == message_id
    assert answer.params["text"] == "OK" and answer.status == 200
    edited = fake_api.last_message(HOST)
    assert edited["text"] == "Reserva confirmada"
    assert "reply_markup" not in edited  # an edit without reply_markup drops the keyboard, as in Telegram


async def test_pushed_document_is_downloaded_by_handler(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.push_document(HOST, "hospedes.csv", b"nome;noites\nJoao;3\n", caption="lista")

    [reply] = await fake_api.wait_for("sendMessage", chat_id=HOST)

    assert reply.params["text"] == "hospedes.csv: nome;noites\nJoao;3\n"
    assert [r.method for r in fake_api.requests if r.method != "getUpdates"] == [
        "getMe",
        "getFile",
        "sendMessage",
    ]
    assert fake_api.downloads == ["documents/file_1.csv"]


async def test_wait_idle_and_dropped_update_types(fake_api: FakeBotAPI, bot: Bot) -> None:
    edited = fake_api.push_update(
        {"edited_message": {"message_id": 1, "date": 0, "chat": {"id": HOST, "type": "private"}}}
    )
    fake_api.push_message(HOST, "/start")

    await fake_api.wait_idle()

    assert fake_api.last_message(HOST)["text"] == "Olá Ana! code=None"
    # The dispatcher asked only for message and callback_query updates, so Telegram never sends this one.
    assert [u["update_id"] for u in fake_api.dropped_updates] == [edited]


async def test_polling_survives_an_outage(fake_api: FakeBotAPI, bot: Bot) -> None:
    mark = fake_api.mark()
    fake_api.set_down(True)
    fake_api.push_message(HOST, "/start")
    await fake_api.wait_for("getUpdates", count=2, after=mark, predicate=lambda r: r.status == 502)

    fake_api.set_down(False)

    [call] = await fake_api.wait_for("sendMessage", after=mark)
    assert call.status == 200


async def test_send_document_and_photo_upload_bytes(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    pdf = b"%PDF-1.4 contrato"

    message = await bot.send_document(HOST, BufferedInputFile(pdf, "contrato.pdf"), caption="Contrato")
    photo = await bot.send_photo(HOST, BufferedInputFile(b"\xff\xd8jpeg", "sala.jpg"))
    resent = await bot.send_document(HOST + 1, message.document.file_id)

    assert message.document.file_name == "contrato.pdf" and message.caption == "Contrato"
    assert message.document.mime_type == "application/pdf" and message.document.file_size == len(pdf)
    [doc, again] = fake_api.documents()
    assert (doc.chat_id, doc.filename, doc.content, doc.caption) == (HOST, "contrato.pdf", pdf, "Contrato")
    assert (again.chat_id, again.content) == (HOST + 1, pdf)
    assert resent.document.file_id == message.document.file_id
    assert fake_api.photos(HOST)[0].content == b"\xff\xd8jpeg"
    assert photo.photo[-1].file_id
    [upload] = fake_api.calls("sendDocument")[0].files.values()
    assert fake_api.calls("sendDocument")[0].params["document"] == f"attach://{upload.field}"


async def test_file_attached_directly_as_form_field(fake_api: FakeBotAPI) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(HOST))
    form.add_field("document", b"raw", filename="direct.txt")

    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake_api.base_url}/bot{fake_api.token}/sendDocument", data=form) as resp,
    ):
        body = await resp.json()

    assert body["ok"] and body["result"]["document"]["file_name"] == "direct.txt"
    assert fake_api.documents(HOST)[0].content == b"raw"


async def test_a_json_body_is_read_like_telegram_and_a_broken_one_refused(fake_api: FakeBotAPI) -> None:
    url = f"{fake_api.base_url}/bot{fake_api.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": HOST, "text": "42", "reply_markup": markup}) as resp:
            sent = await resp.json()
        async with http.post(url, data=b"{not json", headers={"Content-Type": "application/json"}) as resp:
            broken = (resp.status, await resp.json())

    assert sent["ok"] and sent["result"]["text"] == "42"  # a text stays a string
    assert fake_api.calls("sendMessage")[0].params["reply_markup"] == markup
    assert broken[0] == 400 and not broken[1]["ok"]


async def test_rate_limit_raises_retry_after(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    fake_api.fail_next("sendMessage", retry_after=7)

    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(HOST, "1")
    await bot.send_message(HOST, "2")

    assert error.value.retry_after == 7
    assert [r.status for r in fake_api.calls("sendMessage")] == [429, 200]
    assert [m["text"] for m in fake_api.sent_messages(HOST)] == ["2"]


async def test_server_errors_map_to_aiogram_exceptions(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    fake_api.fail_next("sendMessage", status=502)
    fake_api.fail_next("sendMessage", status=500, description="Internal Server Error")
    fake_api.fail_next("sendMessage", status=403)

    # A proxy's HTML 502 is not JSON: aiogram raises ClientDecodeError, which is NOT a TelegramAPIError.
    with pytest.raises(ClientDecodeError):
        await bot.send_message(HOST, "a")
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(HOST, "b")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(HOST, "c")
    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot.send_dice(HOST)

    assert fake_api.calls("sendDice")[0].status == 404
    await fake_api.stop()
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()


async def test_set_down_answers_every_method_with_502(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    fake_api.set_down(True)

    with pytest.raises(ClientDecodeError):
        await bot.get_me()
    fake_api.set_down(False)

    assert (await bot.get_me()).username == "lumina_test_bot"


async def test_delays_are_observed(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    fake_api.delay_next("sendMessage", 0.15)
    fake_api.delay_next("sendMessage", 0.6)

    started = time.monotonic()
    await bot.send_message(HOST, "slow")
    assert time.monotonic() - started >= 0.15

    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        # aiogram annotates request_timeout as int, but aiohttp takes fractions of a second.
        await bot.send_message(HOST, "too slow", request_timeout=0.2)  # type: ignore[arg-type]
    # Telegram acted on the timed-out call: a blind retry would send the message twice.
    assert [m["text"] for m in fake_api.sent_messages(HOST)] == ["slow", "too slow"]


async def test_edit_errors_match_telegram(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    message = await bot.send_message(HOST, "Reserva", reply_markup=KEYBOARD)
    assert message.reply_markup.model_dump() == KEYBOARD.model_dump()

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await message.edit_text("Reserva", reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await message.edit_reply_markup(reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=HOST, message_id=999)
    edited = await message.edit_reply_markup(reply_markup=None)

    assert isinstance(edited, Message) and edited.reply_markup is None
    assert fake_api.last_message(HOST)["edit_date"] >= message.date.timestamp()


async def test_get_updates_long_polls_and_confirms_with_offset(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    first = fake_api.push_message(HOST, "oi")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first]  # not confirmed yet

    asyncio.get_running_loop().call_later(0.05, fake_api.push_message, HOST, "tudo bem?")
    started = time.monotonic()
    updates = await bot.get_updates(offset=first + 1, timeout=5)

    assert time.monotonic() - started < 1
    assert [u.message.text for u in updates] == ["tudo bem?"]
    assert updates[0].message.from_user.language_code == "pt-BR"
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []


async def test_concurrent_get_updates_conflict(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_api.wait_for("getUpdates")

    newer = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older
    fake_api.push_message(HOST, "oi")

    assert len(await newer) == 1


async def test_commands_are_stored_per_scope_and_language(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    scope = BotCommandScopeAllPrivateChats()
    commands = [BotCommand(command="reservas", description="Ver reservas")]

    await bot.set_my_commands(commands, scope=scope, language_code="pt")

    [stored] = await bot.get_my_commands(scope=scope, language_code="pt")
    assert (stored.command, stored.description) == ("reservas", "Ver reservas")
    assert await bot.get_my_commands() == []
    assert fake_api.my_commands(scope={"type": "all_private_chats"}, language_code="pt") == [
        {"command": "reservas", "description": "Ver reservas"}
    ]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Reservas", description="x")])
    await bot.delete_my_commands(scope=scope, language_code="pt")
    assert fake_api.my_commands(scope={"type": "all_private_chats"}, language_code="pt") == []


async def test_wait_for_timeout_lists_recorded_calls(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    await bot.send_message(HOST, "olá")

    with pytest.raises(AssertionError, match=r"expected 1 editMessageText(.|\n)*sendMessage"):
        await fake_api.wait_for("editMessageText", timeout=0.05)


async def test_get_file_rejects_files_over_20_mb(fake_api: FakeBotAPI) -> None:
    bot = make_bot(fake_api)
    fake_api.push_document(HOST, "video.mp4", b"\0" * (20 * 1024 * 1024 + 1))
    [update] = await bot.get_updates()

    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.download(update.message.document)
