"""LUMINA's real application (dispatcher, middlewares, database, scheduler, web app) against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.settings import load_settings
from jobs.clock import Clock
from storage.models import PropertyAccess, User
from tests.support.clock import E2E_START, FakeClock
from tests.support.fake_bot_api import FakeBotAPI


class Lumina:
    def __init__(self, api: FakeBotAPI, app: Application) -> None:
        self.api = api
        self.app = app
        self.clock = app.services.clock  # the app's: tests take their "now" and "today" from it
        self.sessions = app.services.sessions
        self._handled: set[int] = set()
        self._changed = asyncio.Event()
        self._track_updates()

    def _track_updates(self) -> None:
        """Know when the dispatcher has finished an update (handler and unit of work), not just gone quiet."""
        dispatcher = self.app.dispatcher
        feed_update = dispatcher.feed_update

        async def tracked(bot: Any, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed_update(bot, update, **kwargs)
            finally:
                self._handled.add(update.update_id)
                self._changed.set()

        dispatcher.feed_update = tracked  # type: ignore[method-assign]

    async def handled(self, update_id: int) -> None:
        # A ceiling, not a speed check: most updates take milliseconds, a first PDF (LibreOffice's cold start) seconds.
        async with asyncio.timeout(60):
            while update_id not in self._handled:
                self._changed.clear()
                await self._changed.wait()

    async def say(self, user_id: int, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        """A user sends a message; returns what the bot sent to that chat in answer."""
        mark = self.api.mark()
        await self.handled(self.api.push_message(user_id, text, **kwargs))
        return [r.params for r in self.api.calls("sendMessage", after=mark) if r.params.get("chat_id") == user_id]

    async def press(self, user_id: int, data: str, *, message_id: int, **kwargs: Any) -> dict[str, list[Any]]:
        """A user presses a button; returns the bot's calls by method."""
        mark = self.api.mark()
        await self.handled(self.api.push_callback(user_id, data, message_id=message_id, **kwargs))
        calls: dict[str, list[Any]] = {}
        for record in self.api.requests[mark:]:
            calls.setdefault(record.method, []).append(record.params)
        return calls

    # -- reading what the user sees ---------------------------------------------------------------------------

    def screen(self, user_id: int) -> dict[str, Any]:
        """The newest message in the chat, as it looks now (edits applied)."""
        return self.api.last_message(user_id)

    def keyboard(self, user_id: int) -> dict[str, Any]:
        """The newest message in the chat that has buttons."""
        for message in reversed(self.api.sent_messages(user_id)):
            if self.buttons(message):
                return message
        raise AssertionError(f"no message with buttons in chat {user_id}")

    def text(self, user_id: int) -> str:
        return str(self.screen(user_id).get("text", ""))

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    async def tap(self, user_id: int, label: str, **kwargs: Any) -> dict[str, list[Any]]:
        """Press the button whose text contains `label` on the newest message that has one."""
        for message in reversed(self.api.sent_messages(user_id)):
            for text, data in self.buttons(message):
                if label in text:
                    return await self.press(user_id, data, message_id=message["message_id"], **kwargs)
        raise AssertionError(f"no button {label!r}; last screen: {self.screen(user_id)}")

    async def add_member(self, telegram_id: int, property_id: int, role: str) -> None:
        """A manager, viewer or cleaner of one property, who reads English."""
        async with self.sessions.begin() as session:
            user = User(telegram_id=telegram_id, first_name=role.title(), role=role, locale="en")
            session.add(user)
            await session.flush()
            session.add(PropertyAccess(user_id=user.id, property_id=property_id, role=role))


@asynccontextmanager
async def running_lumina(
    database_url: str, data_dir: Path, *, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Lumina]:
    """`clock`: by default one that starts at E2E_START and runs on."""
    async with FakeBotAPI() as api:
        config = load_settings(
            bot_token=api.token,
            telegram_api_base=api.base_url,
            database_url=database_url,
            http_port=0,
            data_dir=data_dir,
            **settings,
        )
        app = Application(config, clock=clock or FakeClock(E2E_START, ticking=True))
        await app.start()
        try:
            yield Lumina(api, app)
        finally:
            await app.stop()
