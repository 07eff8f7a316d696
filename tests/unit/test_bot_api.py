"""What LUMINA puts on the wire to the Bot API: JSON bodies, multipart only for uploads."""

from __future__ import annotations

import json

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import SendDocument, SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import BytesPayload, FormData

from bot.bot_api import JsonSession

TOKEN = "42:TEST"


async def test_a_call_is_one_json_object_with_nested_values_as_json() -> None:
    session = JsonSession()
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="12•", callback_data="b:7:open")]])
    body = session.build_form_data(bot, SendMessage(chat_id=5001, text="Olá \"42\"", reply_markup=markup))
    assert isinstance(body, BytesPayload) and body.content_type == "application/json"
    assert json.loads(body.decode()) == {
        "chat_id": 5001,
        "text": 'Olá "42"',  # a text stays a string, however it looks
        "parse_mode": "HTML",  # the bot's default, resolved
        "reply_markup": {"inline_keyboard": [[{"text": "12•", "callback_data": "b:7:open"}]]},
    }
    await session.close()


async def test_an_upload_stays_multipart() -> None:
    session = JsonSession()
    bot = Bot(TOKEN, session=session)
    method = SendDocument(chat_id=5001, document=BufferedInputFile(b"PK", filename="a.docx"), caption="x")
    form = session.build_form_data(bot, method)
    assert isinstance(form, FormData) and form.is_multipart
    await session.close()
