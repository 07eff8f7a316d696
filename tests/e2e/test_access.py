"""Who may talk to LUMINA, and in which language — through real HTTP to the fake Bot API."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram.exceptions import ClientDecodeError, TelegramUnauthorizedError
from sqlalchemy import func, select

from storage.models import User
from tests.e2e.harness import Lumina, running_lumina

OWNER, STRANGER = 5001, 6002


async def users(lumina: Lumina) -> list[User]:
    async with lumina.sessions() as session:
        return list((await session.scalars(select(User).order_by(User.id))).all())


async def test_setup_code_makes_the_first_person_owner(lumina: Lumina):
    code = lumina.app.setup_code
    assert code and len(code) >= 16
    answers = await lumina.say(OWNER, f"/start {code}", first_name="Bia", language_code="pt-br")
    assert "Bem-vindo(a), Bia" in answers[0]["text"]
    assert [(u.telegram_id, u.role, u.locale) for u in await users(lumina)] == [(OWNER, "owner", "pt_BR")]


async def test_the_code_works_once(lumina: Lumina):
    code = lumina.app.setup_code
    await lumina.say(OWNER, f"/start {code}")
    answers = await lumina.say(STRANGER, f"/start {code}", language_code="en")
    assert [a["text"] for a in answers] == ["Sorry, this is a private assistant and I can't help you here."]
    assert [(u.telegram_id, u.role) for u in await users(lumina)] == [(OWNER, "owner")]


async def test_a_wrong_code_makes_nobody_owner(lumina: Lumina):
    answers = await lumina.say(STRANGER, "/start not-the-code", language_code="en")
    assert answers[0]["text"] == "Sorry, this is a private assistant and I can't help you here."
    assert await users(lumina) == []


async def test_a_stranger_gets_one_polite_refusal_and_nothing_more(lumina: Lumina):
    await lumina.say(OWNER, f"/start {lumina.app.setup_code}")
    first = await lumina.say(STRANGER, "/sync", language_code="pt-BR")
    assert [m["text"] for m in first] == ["Desculpe, esta é uma assistente particular e não posso ajudar você aqui."]
    assert "reply_markup" not in first[0]
    for text in ("/help", "oi", "/language"):
        assert await lumina.say(STRANGER, text) == []
    assert len(await users(lumina)) == 1


async def test_a_stranger_pressing_a_forwarded_button_is_refused(lumina: Lumina):
    await lumina.say(OWNER, f"/start {lumina.app.setup_code}")
    await lumina.say(OWNER, "/language")
    keyboard_message = lumina.api.sent_messages(OWNER)[-1]
    calls = await lumina.press(
        STRANGER, "lang:en", message_id=keyboard_message["message_id"], chat_id=OWNER, language_code="en"
    )
    assert calls["answerCallbackQuery"][0]["text"] == "This bot is private."
    assert "editMessageText" not in calls
    assert [u.locale for u in await users(lumina)] == ["pt_BR"]


async def test_language_is_detected_then_switched_and_stored(lumina: Lumina):
    await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code="pt-BR")
    answers = await lumina.say(OWNER, "/language")
    assert answers[0]["text"] == "Escolha o seu idioma:"
    buttons = [b["callback_data"] for row in answers[0]["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["lang:pt_BR", "lang:en"]
    message_id = lumina.api.sent_messages(OWNER)[-1]["message_id"]
    calls = await lumina.press(OWNER, "lang:en", message_id=message_id)
    assert calls["editMessageText"][0]["text"] == "Done: I will speak English with you."
    assert [u.locale for u in await users(lumina)] == ["en"]
    help_answer = await lumina.say(OWNER, "/help", language_code="pt-BR")  # the stored choice wins
    assert "/sync — check every calendar now" in help_answer[0]["text"]


async def test_preauthorized_owner_ids(database_url, tmp_path):
    async with running_lumina(database_url, tmp_path, owner_ids=[OWNER]) as lumina:
        assert lumina.app.setup_code is None
        answers = await lumina.say(OWNER, "/start", language_code="en")
        assert answers[0]["text"].startswith("I am LUMINA")
        assert [(u.telegram_id, u.role) for u in await users(lumina)] == [(OWNER, "owner")]


async def test_no_other_owner_after_restart(database_url, tmp_path):
    async with running_lumina(database_url, tmp_path) as lumina:
        await lumina.say(OWNER, f"/start {lumina.app.setup_code}")
    async with running_lumina(database_url, tmp_path) as lumina:
        assert lumina.app.setup_code is None
        await lumina.say(STRANGER, "/start anything")
        async with lumina.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_commands_are_published_in_both_languages(lumina: Lumina):
    await lumina.api.wait_idle()
    by_language = {r.params.get("language_code"): r.params["commands"] for r in lumina.api.calls("setMyCommands")}
    assert set(by_language) == {"pt", "en", None}
    assert {"command": "sync", "description": "Verificar todos os calendários agora"} in by_language["pt"]
    assert {"command": "sync", "description": "Check every calendar now"} in by_language["en"]


async def test_health_and_readiness(lumina: Lumina):
    await lumina.api.wait_idle()
    async with aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{lumina.app.port}"
        async with http.get(f"{base}/health") as response:
            assert response.status == 200
        async with http.get(f"{base}/ready") as response:
            body = await response.json()
            assert response.status == 200, body
            assert body["checks"] == {"database": True, "scheduler": True, "telegram": True}
        lumina.api.set_down(True)
        with pytest.raises(ClientDecodeError):  # a proxy's 502 page instead of Telegram
            await lumina.app.bot.get_me()
        async with http.get(f"{base}/ready") as response:
            assert response.status == 503
            assert (await response.json())["checks"]["telegram"] is False
        lumina.api.set_down(False)
        await lumina.app.bot.get_me()
        token, lumina.api.token = lumina.api.token, "7000000001:AARevokedInBotFather"  # the bot's token is refused
        with pytest.raises(TelegramUnauthorizedError):
            await lumina.app.bot.get_me()
        async with http.get(f"{base}/ready") as response:
            body = await response.json()
        assert response.status == 503 and body["checks"]["telegram"] is False
        assert body["problems"] == ["telegram: TelegramUnauthorizedError (check LUMINA_BOT_TOKEN)"]
        lumina.api.token = token
