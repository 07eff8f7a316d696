"""The HTTP session to the Bot API: every call as a JSON body, uploads as multipart.

aiogram's default session posts a urlencoded form in which every nested value (reply_markup above all) is a JSON
string, and the form encoder percent-quotes that string one byte at a time in Python: about a millisecond of CPU per
call for a month grid's keyboard, more than the database work of the screen (benchmarks/README.md, "Chat screens").
The Bot API accepts application/json for every method except uploads.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import BytesPayload, FormData


class JsonSession(AiohttpSession):
    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        files: dict[str, Any] = {}
        fields = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":  # what aiogram's form leaves out too
                fields[key] = prepared
        if files:  # a document to upload: multipart, as aiogram builds it
            return super().build_form_data(bot, method)
        body = BytesPayload(self.json_dumps(fields).encode(), content_type="application/json")
        return body  # type: ignore[return-value]  # make_request hands it to aiohttp's post(data=...) as it is
