"""A fake Telegram Bot API server for end-to-end tests.

The real aiogram ``Bot`` talks to it over loopback HTTP, so tests exercise aiogram's request encoding,
response decoding and error mapping exactly as in production, while the test controls what users send
and what Telegram answers (including rate limits, outages and slow replies).
"""

from __future__ import annotations

import asyncio
import copy
import html
import inspect
import json
import mimetypes
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.backoff import BackoffConfig
from aiohttp import web
from aiohttp.web_request import FileField

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# Bot API parameters typed String: aiogram sends them raw, so JSON-decoding them would turn a text of
# "42" into an int. Everything else arrives JSON-encoded (ints, bools, reply_markup, lists).
STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url", "action",
        "language_code", "description", "short_description", "name", "title", "secret_token", "file_id",
        "business_connection_id", "message_effect_id", "ip_address", "emoji", "document", "photo",
    }
)  # fmt: skip
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
HTML_TAG_RE = re.compile(r"<[^>]+>")
# Update types Telegram withholds unless allowed_updates names them explicitly.
EXCLUDED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
PROXY_ERROR_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
# aiogram's default polling backoff starts at 1 s; tests recover from injected failures much faster.
FAST_BACKOFF = BackoffConfig(min_delay=0.01, max_delay=0.05, factor=1.5, jitter=0.0)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it."""

    field: str
    filename: str
    content: bytes
    content_type: str


@dataclass
class RecordedRequest:
    """One call the bot made; ``status`` is None while the answer is still pending."""

    seq: int
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    time: float
    status: int | None = None
    tag: str = ""  # the path prefix the caller used (base_url_for): which of several bot processes made it


@dataclass(frozen=True)
class SentFile:
    """A document or photo the bot sent, resolved from its ``attach://`` reference."""

    kind: str
    chat_id: int
    message_id: int
    filename: str
    content: bytes
    caption: str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    content: bytes


@dataclass
class _StoredMessage:
    data: dict[str, Any]
    from_bot: bool
    parse_mode: str | None = None


@dataclass
class _Fault:
    status: int = 0  # 0: answer normally (possibly late)
    retry_after: int = 1
    description: str | None = None
    delay: float = 0.0


class _ApiError(Exception):
    """Raised by method handlers to answer with a Telegram JSON error."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


class _LoopbackSession(AiohttpSession):
    """AiohttpSession without the 250 ms sleep in ``close()``.

    aiogram sleeps so TLS connections can shut down gracefully; loopback HTTP has none, and the sleep
    would add a quarter second to every test.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _now() -> int:
    return int(time.time())


def _mime_type(file_name: str) -> str:
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def _visible_length(text: str, parse_mode: str | None) -> int:
    """Length after entity parsing, which is what Telegram's limits apply to (HTML only; others raw)."""
    if parse_mode is not None and parse_mode.lower() == "html":
        return len(html.unescape(HTML_TAG_RE.sub("", text)))
    return len(text)


def _command_entities(text: str) -> list[dict[str, Any]]:
    """A ``bot_command`` entity for a leading ``/cmd`` or ``/cmd@botname``, as Telegram adds it."""
    match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": match.end()}]


class FakeBotAPI:
    """In-process Telegram Bot API on 127.0.0.1 that records calls and simulates users and faults."""

    def __init__(
        self,
        *,
        bot_id: int = 7000000001,
        first_name: str = "LUMINA Test",
        username: str = "lumina_test_bot",
        token: str | None = None,
    ) -> None:
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        # aiogram derives bot.id from the token prefix, so keep them consistent.
        self.token = token or f"{bot_id}:AAFakeTokenForLuminaE2ETests"
        self.requests: list[RecordedRequest] = []
        self.downloads: list[str] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.webhook_url = ""
        self._seq = 0
        self._next_update_id = 100_000_001
        self._updates: deque[dict[str, Any]] = deque()
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: list[tuple[int, int]] = []
        self._sent_files: list[SentFile] = []
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._pending_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._holds: dict[str, deque[float]] = {}
        self._down = False
        self._closing = False
        self._in_flight = 0
        self._last_activity = 0.0
        self._changed = asyncio.Event()
        self._sessions: list[AiohttpSession] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, tuple[str, Callable[[RecordedRequest], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "getFile": self._get_file,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "deleteMessage": self._delete_message,
                "sendChatAction": self._true,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free loopback port; the OS picks it so parallel test runs never collide."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("*", "/{tag}/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Cancel handlers whose client went away (e.g. an aborted long poll) instead of finishing them.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Release pending long polls, close bots made by ``make_bot`` and shut the server down."""
        self._closing = True
        self._notify()
        for session in self._sessions:
            await session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://127.0.0.1:{self._port}"

    def base_url_for(self, tag: str) -> str:
        """A base URL whose calls are recorded with `tag`: for telling several bot processes apart."""
        return f"{self.base_url}/{tag}"

    # -- simulating users ------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (its update_id is assigned here) for the bot's next getUpdates."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({**update, "update_id": update_id})
        self._notify()
        return update_id

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Ana",
        language_code: str = "pt-BR",
        username: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        """A user types ``text``; a leading ``/command`` gets its bot_command entity like in Telegram."""
        message = self._user_message(user_id, first_name, language_code, username, chat_id, text=text)
        if entities := _command_entities(text):
            message["entities"] = entities
        return self.push_update({"message": message})

    def push_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        *,
        first_name: str = "Ana",
        language_code: str = "pt-BR",
        username: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        """A user sends a file; the bot can fetch it via getFile and the file download URL."""
        stored = self._store_file("documents", file_name, content)
        document = {
            "file_name": file_name,
            "mime_type": _mime_type(file_name),
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(content),
        }
        message = self._user_message(
            user_id, first_name, language_code, username, chat_id, document=document, caption=caption
        )
        return self.push_update({"message": message})

    def push_photo(self, user_id: int, content: bytes, *, language_code: str = "pt-BR") -> int:
        """A user sends a photo (Telegram keeps it; the bot can send it on by its file_id)."""
        stored = self._store_file("photos", "photo.jpg", content)
        size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 640, "height": 480}
        message = self._user_message(user_id, "Ana", language_code, None, None, photo=[size])
        return self.push_update({"message": message})

    def push_callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        first_name: str = "Ana",
        language_code: str = "pt-BR",
        username: str | None = None,
    ) -> int:
        """A user presses an inline button under a stored message, which handlers can then edit."""
        chat_id = user_id if chat_id is None else chat_id
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"no message {message_id} in chat {chat_id} to attach the button press to")
        query_id = str(secrets.randbits(63))
        self._pending_callbacks.add(query_id)
        callback = {
            "id": query_id,
            "from": self._user(user_id, first_name, language_code, username),
            "message": copy.deepcopy(stored.data),
            "chat_instance": str(-(abs(chat_id) * 1_000_003)),  # stable per chat
            "data": data,
        }
        return self.push_update({"callback_query": callback})

    def take_updates(self) -> list[dict[str, Any]]:
        """Hand the queued updates to the test instead of a poller: it posts them to a webhook of its choice."""
        updates = list(self._updates)
        self._updates.clear()
        return updates

    # -- recorded calls --------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the call log; pass it as ``after=`` to only look at later calls."""
        return self._seq

    def calls(self, method: str, *, after: int = 0) -> list[RecordedRequest]:
        return [r for r in self.requests if r.seq > after and r.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (text, documents, photos) in their current, possibly edited, state."""
        return [
            self._messages[key].data
            for key in self._sent
            if key in self._messages and (chat_id is None or key[0] == chat_id)
        ]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        messages = self.sent_messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}; calls: {self._describe_calls()}")
        return messages[-1]

    def documents(self, chat_id: int | None = None) -> list[SentFile]:
        return [f for f in self._sent_files if f.kind == "document" and chat_id in (None, f.chat_id)]

    def photos(self, chat_id: int | None = None) -> list[SentFile]:
        return [f for f in self._sent_files if f.kind == "photo" and chat_id in (None, f.chat_id)]

    def my_commands(self, *, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(scope, language_code), [])

    def clear(self) -> None:
        """Forget what the bot did so far; Telegram's state (messages, files, commands) stays."""
        self.requests.clear()
        self.downloads.clear()
        self._sent.clear()
        self._sent_files.clear()

    # -- waiting ---------------------------------------------------------------------------------

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        chat_id: int | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        after: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the assertion, reported on failure
    ) -> list[RecordedRequest]:
        """Wait until ``count`` matching calls exist; their effects are already applied when it returns."""

        def matching() -> list[RecordedRequest]:
            return [
                r
                for r in self.calls(method, after=after)
                if (chat_id is None or r.params.get("chat_id") == chat_id) and (predicate is None or predicate(r))
            ]

        if not await self._wait_until(lambda: len(matching()) >= count, timeout):
            raise AssertionError(
                f"expected {count} {method} call(s)"
                + (f" to chat {chat_id}" if chat_id is not None else "")
                + f" within {timeout}s, got {len(matching())}; calls: {self._describe_calls(after)}"
            )
        return matching()

    async def wait_idle(self, *, quiet: float = 0.1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every pushed update was confirmed and the bot made no call for ``quiet`` seconds.

        A heuristic: a handler busy for longer than ``quiet`` before its first call looks idle. Prefer
        ``wait_for`` on the call you expect; use this to assert that nothing (else) happens.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            settled = not self._updates and self._in_flight == 0
            if settled and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise AssertionError(
                    f"bot not idle after {timeout}s: {len(self._updates)} unconfirmed update(s), "
                    f"{self._in_flight} call(s) in flight; calls: {self._describe_calls()}"
                )
            wait = quiet - (now - self._last_activity) if settled else deadline - now
            await self._wait_change(min(wait, deadline - now))

    # -- fault injection -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail.

        429 carries ``parameters.retry_after``; 5xx comes as a proxy's HTML page (what a Telegram outage
        looks like) unless ``description`` is given, then as Telegram's own JSON error.
        """
        for _ in range(count):
            self._faults.setdefault(method.lower(), deque()).append(
                _Fault(status=status, retry_after=retry_after, description=description)
            )

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Answer the next ``count`` calls late; the call takes effect at once, like a slow Telegram."""
        for _ in range(count):
            self._faults.setdefault(method.lower(), deque()).append(_Fault(delay=seconds))

    def hold_next(self, method: str, seconds: float) -> None:
        """Hold the next call this long before it takes effect. If its sender goes away meanwhile (a killed
        process), it never takes effect: Telegram never got the whole request."""
        self._holds.setdefault(method.lower(), deque()).append(seconds)

    def set_down(self, down: bool) -> None:
        """Simulate an outage: every call and file download answers a proxy 502 while down."""
        self._down = down
        self._notify()

    # -- HTTP handlers ---------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        try:
            params, files = await self._read_params(request)
        except _ApiError as error:
            return _json_error(error.status, error.description)
        name, handler = self._handlers.get(request.match_info["method"].lower(), (request.match_info["method"], None))
        self._seq += 1
        record = RecordedRequest(
            seq=self._seq,
            method=name,
            params=params,
            files=files,
            time=time.time(),
            tag=request.match_info.get("tag", ""),
        )
        self.requests.append(record)
        # Long polls are not "in flight" work, but their arrival confirms updates whose handlers are
        # only starting, so it counts as activity for wait_idle's quiet period.
        is_poll = name == "getUpdates"
        if not is_poll:
            self._in_flight += 1
        self._last_activity = asyncio.get_running_loop().time()
        try:
            if holds := self._holds.get(name.lower()):
                self._notify()
                await asyncio.sleep(holds.popleft())  # cancelled if the sender hangs up (handler_cancellation)
            response, delay = await self._respond(record, request.match_info["token"], handler)
            record.status = response.status
            self._notify()
            if delay:
                await asyncio.sleep(delay)
            return response
        finally:
            if not is_poll:
                self._in_flight -= 1
            self._last_activity = asyncio.get_running_loop().time()
            self._notify()

    async def _respond(
        self, record: RecordedRequest, token: str, handler: Callable[[RecordedRequest], Any] | None
    ) -> tuple[web.Response, float]:
        if token != self.token:
            return _json_error(401, "Unauthorized"), 0.0
        if self._down:
            return _proxy_error(502), 0.0
        fault = self._pop_fault(record.method)
        if fault.status:
            return _fault_response(fault), fault.delay
        if handler is None:
            return _json_error(404, "Not Found: method not found"), fault.delay
        try:
            result = handler(record)
            if inspect.isawaitable(result):
                result = await result
        except _ApiError as error:
            return _json_error(error.status, error.description), fault.delay
        if self._down:  # the outage began while a long poll was waiting
            return _proxy_error(502), 0.0
        return web.json_response({"ok": True, "result": result}), fault.delay

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _json_error(401, "Unauthorized")
        if self._down:
            return _proxy_error(502)
        self._last_activity = asyncio.get_running_loop().time()
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json_error(404, "Not Found")
        self.downloads.append(stored.file_path)
        self._notify()
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        """Decode a JSON body, or form/query fields the way Telegram does: JSON for non-String parameters."""
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: can't parse JSON object")
            params.update(body)
        form = await request.post() if request.can_read_body and request.content_type != "application/json" else {}
        for key, value in [*request.query.items(), *form.items()]:
            if isinstance(value, FileField):
                files[key] = UploadedFile(key, value.filename, value.file.read(), value.content_type)
            elif key in STRING_PARAMS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params, files

    def _pop_fault(self, method: str) -> _Fault:
        queue = self._faults.get(method.lower())
        return queue.popleft() if queue else _Fault()

    # -- Bot API methods -------------------------------------------------------------------------

    def _true(self, record: RecordedRequest) -> bool:
        return True

    def _get_me(self, record: RecordedRequest) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, record: RecordedRequest) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = record.params
        offset = int(params.get("offset", 0))
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"]) or None
        self._notify()
        self._poll_generation += 1
        generation = self._poll_generation
        await self._wait_until(
            lambda: (
                self._has_deliverable_updates() or self._closing or self._down or generation != self._poll_generation
            ),
            float(params.get("timeout", 0)),
        )
        if generation != self._poll_generation:
            raise _ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            )
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        return list(self._updates)[:limit]

    def _has_deliverable_updates(self) -> bool:
        """Drop queued updates of types the bot did not ask for (Telegram never sends those)."""
        allowed = self._allowed_updates
        for update in list(self._updates):
            kind = _update_type(update)
            if (kind in EXCLUDED_BY_DEFAULT) if allowed is None else (kind not in allowed):
                self._updates.remove(update)
                self.dropped_updates.append(update)
        return bool(self._updates)

    def _send_message(self, record: RecordedRequest) -> dict[str, Any]:
        params = record.params
        text = params.get("text", "")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if _visible_length(text, params.get("parse_mode")) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        extra: dict[str, Any] = {"text": text}
        if "entities" in params:
            extra["entities"] = params["entities"]
        return self._store_bot_message(params, extra).data

    def _send_document(self, record: RecordedRequest) -> dict[str, Any]:
        stored = self._resolve_upload(record, "document", "documents")
        document = {
            "file_name": stored.file_name,
            "mime_type": _mime_type(stored.file_name),
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        return self._store_bot_file_message(record, "document", document, stored)

    def _send_photo(self, record: RecordedRequest) -> dict[str, Any]:
        stored = self._resolve_upload(record, "photo", "photos")
        # Telegram returns several resized copies; one size is enough to satisfy PhotoSize consumers.
        photo = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
                "width": 1280,
                "height": 960,
            }
        ]
        return self._store_bot_file_message(record, "photo", photo, stored)

    def _edit_message_text(self, record: RecordedRequest) -> dict[str, Any] | bool:
        params = record.params
        if "inline_message_id" in params:
            return True
        stored = self._editable(params)
        text = params.get("text", "")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if "text" not in stored.data:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if _visible_length(text, params.get("parse_mode")) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        new_markup = _inline_markup(params)
        before = (
            stored.data["text"],
            stored.data.get("entities"),
            stored.parse_mode,
            stored.data.get("reply_markup"),
        )
        if before == (text, params.get("entities"), params.get("parse_mode"), new_markup):
            raise _ApiError(400, NOT_MODIFIED)
        stored.data["text"] = text
        stored.parse_mode = params.get("parse_mode")
        _set_optional(stored.data, "entities", params.get("entities"))
        # Telegram drops the inline keyboard when an edit does not resend it.
        _set_optional(stored.data, "reply_markup", new_markup)
        stored.data["edit_date"] = _now()
        return stored.data

    def _edit_message_reply_markup(self, record: RecordedRequest) -> dict[str, Any] | bool:
        params = record.params
        if "inline_message_id" in params:
            return True
        stored = self._editable(params)
        new_markup = _inline_markup(params)
        if stored.data.get("reply_markup") == new_markup:
            raise _ApiError(400, NOT_MODIFIED)
        _set_optional(stored.data, "reply_markup", new_markup)
        stored.data["edit_date"] = _now()
        return stored.data

    def _delete_message(self, record: RecordedRequest) -> bool:
        key = (record.params.get("chat_id"), record.params.get("message_id"))
        if self._messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, record: RecordedRequest) -> bool:
        query_id = record.params.get("callback_query_id")
        if query_id not in self._pending_callbacks:
            raise _ApiError(400, QUERY_TOO_OLD)
        self._pending_callbacks.discard(query_id)
        return True

    def _get_file(self, record: RecordedRequest) -> dict[str, Any]:
        stored = self._files.get(record.params.get("file_id", ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _set_my_commands(self, record: RecordedRequest) -> bool:
        commands = record.params.get("commands", [])
        if any(not COMMAND_RE.match(c.get("command", "")) for c in commands):
            raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        key = self._commands_key(record.params.get("scope"), record.params.get("language_code", ""))
        self._commands[key] = commands
        return True

    def _delete_my_commands(self, record: RecordedRequest) -> bool:
        self._commands.pop(self._commands_key(record.params.get("scope"), record.params.get("language_code", "")), None)
        return True

    def _get_my_commands(self, record: RecordedRequest) -> list[dict[str, Any]]:
        return self.my_commands(scope=record.params.get("scope"), language_code=record.params.get("language_code", ""))

    def _set_webhook(self, record: RecordedRequest) -> bool:
        self.webhook_url = record.params.get("url", "")
        if record.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, record: RecordedRequest) -> bool:
        self.webhook_url = ""
        if record.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    # -- state helpers ---------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake every waiter; each re-checks its own condition (a broadcast a sync push can trigger)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._changed.wait()

    async def _wait_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not condition():
                    await self._changed.wait()
        return condition()

    def _describe_calls(self, after: int = 0) -> str:
        lines = [
            f"{r.method}({', '.join(f'{k}={str(v)[:60]!r}' for k, v in r.params.items())}) -> {r.status}"
            for r in self.requests
            if r.seq > after and r.method != "getUpdates"
        ]
        return "\n  " + "\n  ".join(lines) if lines else "none"

    def _user(self, user_id: int, first_name: str, language_code: str, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        """Private chat ids equal the user id; negative ids are groups, as in Telegram."""
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Test group"}
        user = self._users.get(chat_id, {"first_name": "Test"})
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        """Message ids grow per chat and are shared by the user's and the bot's messages."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _user_message(
        self,
        user_id: int,
        first_name: str,
        language_code: str,
        username: str | None,
        chat_id: int | None,
        **content: Any,
    ) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        sender = self._user(user_id, first_name, language_code, username)
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": sender,
            "chat": self._chat(chat_id),
            "date": _now(),
            **{k: v for k, v in content.items() if v is not None},
        }
        self._messages[(chat_id, message["message_id"])] = _StoredMessage(message, from_bot=False)
        return message

    def _store_bot_message(self, params: dict[str, Any], content: dict[str, Any]) -> _StoredMessage:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": _now(),
            **content,
        }
        _set_optional(message, "reply_markup", _inline_markup(params))
        stored = _StoredMessage(message, from_bot=True, parse_mode=params.get("parse_mode"))
        self._messages[(chat_id, message["message_id"])] = stored
        self._sent.append((chat_id, message["message_id"]))
        return stored

    def _store_bot_file_message(
        self, record: RecordedRequest, kind: str, media: Any, stored_file: _StoredFile
    ) -> dict[str, Any]:
        caption = record.params.get("caption")
        if caption and _visible_length(caption, record.params.get("parse_mode")) > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        content: dict[str, Any] = {kind: media}
        if caption:
            content["caption"] = caption
        if "caption_entities" in record.params:
            content["caption_entities"] = record.params["caption_entities"]
        message = self._store_bot_message(record.params, content).data
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        self._sent_files.append(
            SentFile(kind, chat_id, message_id, stored_file.file_name, stored_file.content, caption)
        )
        return message

    def _resolve_upload(self, record: RecordedRequest, param: str, folder: str) -> _StoredFile:
        """The uploaded part (sent as the field itself or via ``attach://``), or a known file_id."""
        upload = record.files.get(param)
        reference = record.params.get(param)
        if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
            upload = record.files.get(reference.removeprefix("attach://"))
        if upload is not None:
            return self._store_file(folder, upload.filename, upload.content)
        if isinstance(reference, str) and reference in self._files:
            return self._files[reference]
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _store_file(self, folder: str, file_name: str, content: bytes) -> _StoredFile:
        index = len(self._files) + 1
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = _StoredFile(
            file_id=f"BQACAgEAAxkBAAI{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{secrets.token_urlsafe(8)}",
            file_path=f"{folder}/file_{index}{suffix}",
            file_name=file_name,
            content=content,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _editable(self, params: dict[str, Any]) -> _StoredMessage:
        stored = self._messages.get((params.get("chat_id"), params.get("message_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return stored

    @staticmethod
    def _commands_key(scope: dict[str, Any] | None, language_code: str) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """Only inline keyboards are part of a Message; reply keyboards are not echoed by Telegram."""
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _set_optional(data: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value


def _json_error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _proxy_error(status: int) -> web.Response:
    page = PROXY_ERROR_PAGE.format(code=status, phrase=HTTPStatus(status).phrase)
    return web.Response(status=status, text=page, content_type="text/html")


def _fault_response(fault: _Fault) -> web.Response:
    if fault.status == 429:
        description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
        return _json_error(429, description, {"retry_after": fault.retry_after})
    if fault.status >= 500 and fault.description is None:
        return _proxy_error(fault.status)
    default = "Forbidden: bot was blocked by the user" if fault.status == 403 else None
    return _json_error(fault.status, fault.description or default or HTTPStatus(fault.status).phrase)


def make_bot(api: FakeBotAPI, **bot_kwargs: Any) -> Bot:
    """A real aiogram Bot talking to ``api``; its session is closed when ``api`` stops."""
    session = _LoopbackSession(api=TelegramAPIServer.from_base(api.base_url))
    api._sessions.append(session)
    return Bot(api.token, session=session, **bot_kwargs)


@asynccontextmanager
async def polling(api: FakeBotAPI, dp: Dispatcher, bot: Bot, **polling_kwargs: Any) -> AsyncIterator[None]:
    """Run ``dp.start_polling`` in a task until the block ends, then stop it cleanly.

    Returns once the bot is fetching updates. Uses a fast retry backoff so injected getUpdates faults
    cost milliseconds, not aiogram's default second.
    """
    mark = api.mark()
    polling_kwargs.setdefault("backoff_config", FAST_BACKOFF)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, **polling_kwargs))
    try:
        await api.wait_for("getUpdates", after=mark)
        yield
    finally:
        if not task.done():
            await dp.stop_polling()
        await task


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started FakeBotAPI, stopped (with the bots made for it) after the test."""
    async with FakeBotAPI() as api:
        yield api
