"""aiogram imported with its models built on first use (issue 14 item 11): every kind of update and method LUMINA
meets still validates, and a type nobody used yet builds when it is first needed."""

from __future__ import annotations

from bot.aiogram_import import CHECKED_WITH, import_aiogram, state


def test_models_are_built_on_first_use_and_work():
    import_aiogram()  # the tests' conftest did it already: a second call changes nothing
    from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument
    from aiogram.methods.base import Response
    from aiogram.types import BufferedInputFile, Message, Sticker, Update

    assert state["lazy"] is True, f"aiogram/pydantic are not {CHECKED_WITH}: imported eagerly"
    update = Update.model_validate({
        "update_id": 7,
        "callback_query": {"id": "q", "chat_instance": "c", "data": "b:1:open",
                           "from": {"id": 5, "is_bot": False, "first_name": "Ana"},
                           "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"},
                                       "text": "card", "reply_markup": {"inline_keyboard": [[
                                           {"text": "Open", "callback_data": "b:1:open"}]]}}},
    })  # fmt: skip
    assert update.callback_query is not None and update.callback_query.data == "b:1:open"
    document = Message.model_validate({"message_id": 4, "date": 1, "chat": {"id": 5, "type": "private"},
                                       "document": {"file_id": "f", "file_unique_id": "u", "file_name": "a.docx"}})
    assert document.document is not None and document.document.file_name == "a.docx"
    sticker = Sticker.model_validate({"file_id": "s", "file_unique_id": "u", "type": "regular", "width": 1,
                                      "height": 1, "is_animated": False, "is_video": False})  # fmt: skip
    assert sticker.width == 1
    AnswerCallbackQuery(callback_query_id="q", text="x", show_alert=True)
    EditMessageText(chat_id=5, message_id=3, text="y")
    SendDocument(chat_id=5, document=BufferedInputFile(b"x", filename="a.docx"))
    reply = Response[Message].model_validate({"ok": True, "result": {"message_id": 9, "date": 1,
                                                                     "chat": {"id": 5, "type": "private"}}})
    assert reply.result is not None and reply.result.message_id == 9
