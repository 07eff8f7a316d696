"""Reading the platforms' reservation mails over IMAP (aioimaplib): IDLE where the server has it, polling
otherwise, reconnecting with backoff. It only reads: nothing is deleted, moved or even marked seen (BODY.PEEK),
and the folder's UIDVALIDITY and the last UID read are remembered, so each message is read once. A message over
the size limit is skipped without being downloaded; one that is not really from a platform is ignored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable
from typing import Any

import aioimaplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.mail import inbox
from domain.mail.config import ImapConfig
from domain.mail.platforms import MAX_BYTES, NotPlatformMail, PlatformMessage, parse
from jobs.clock import Clock, utc_now
from storage.db import create_engine, session_factory
from storage.models import AppState

log = logging.getLogger("lumina.imap")
_FETCH_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapError(Exception):
    pass


async def connect(config: ImapConfig) -> aioimaplib.IMAP4:
    if config.security == "tls":
        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(host=config.host, port=config.resolved_port,
                                                         ssl_context=config.tls_context(),
                                                         timeout=config.timeout)  # fmt: skip
    else:
        client = aioimaplib.IMAP4(host=config.host, port=config.resolved_port, timeout=config.timeout)
    await client.wait_hello_from_server()
    response = await client.login(config.username, config.password)
    if response.result != "OK":
        raise ImapError(f"login refused: {_text(response.lines)}")
    return client


async def select_folder(client: aioimaplib.IMAP4, folder: str) -> tuple[int, int]:
    """(UIDVALIDITY, UIDNEXT) of the folder."""
    response = await client.select(folder)
    if response.result != "OK":
        raise ImapError(f"cannot open folder {folder!r}: {_text(response.lines)}")
    text = _text(response.lines)
    validity = re.search(r"UIDVALIDITY (\d+)", text)
    uidnext = re.search(r"UIDNEXT (\d+)", text)
    if validity is None:
        raise ImapError("the server gave no UIDVALIDITY")
    return int(validity.group(1)), int(uidnext.group(1)) if uidnext else 0


def _text(lines: list[Any]) -> str:
    return " ".join(line.decode(errors="replace") if isinstance(line, bytes | bytearray) else str(line)
                    for line in lines)  # fmt: skip


async def sizes(client: aioimaplib.IMAP4, first_uid: int) -> dict[int, int]:
    """UID → size of every message from `first_uid` on."""
    response = await client.uid("fetch", f"{first_uid}:*", "(RFC822.SIZE)")
    if response.result != "OK":
        raise ImapError(f"fetch failed: {_text(response.lines)}")
    found: dict[int, int] = {}
    for line in response.lines:
        if not isinstance(line, bytes | bytearray):
            continue
        match = _FETCH_SIZE.search(bytes(line))
        if match:
            uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
            if int(uid) >= first_uid:  # "N:*" always answers the last message, even below N
                found[int(uid)] = int(size)
    return found


async def fetch(client: aioimaplib.IMAP4, uid: int) -> bytes:
    response = await client.uid("fetch", str(uid), "(BODY.PEEK[])")
    if response.result != "OK":
        raise ImapError(f"fetch failed: {_text(response.lines)}")
    for line in response.lines:
        if isinstance(line, bytearray):
            return bytes(line)
    raise ImapError(f"message {uid} came without a body")


class ImapReader:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: ImapConfig, *, clock: Clock = utc_now,
                 on_alerts: Callable[[], None] = lambda: None, max_bytes: int = MAX_BYTES,
                 backoff_base: float = 5.0, backoff_cap: float = 600.0) -> None:  # fmt: skip
        self._sessions, self.config, self._clock = sessions, config, clock
        self._on_alerts, self._max_bytes = on_alerts, max_bytes
        self._backoff_base, self._backoff_cap = backoff_base, backoff_cap
        self.failures = 0  # connections lost or refused in a row
        self._task: asyncio.Task[None] | None = None
        self.stats = {"read": 0, "ignored": 0, "skipped": 0, "filled": 0, "unmatched": 0}

    @property
    def _state_key(self) -> str:
        return f"imap:{self.config.username}:{self.config.folder}"[:64]

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="imap-reader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            client: aioimaplib.IMAP4 | None = None
            try:
                client = await connect(self.config)
                await self.read_new(client)
                self.failures = 0
                idle = client.has_capability("IDLE")
                while True:
                    if idle:
                        await self._idle(client)
                    else:
                        await asyncio.sleep(self.config.poll)
                    await self.read_new(client)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failures += 1
                delay = min(self._backoff_cap, self._backoff_base * 2 ** min(self.failures - 1, 10))
                delay *= random.uniform(0.8, 1.2)
                log.warning("IMAP connection failed; reconnecting", extra={"error": str(error)[:300],
                                                                           "retry_in": round(delay)})  # fmt: skip
                await asyncio.sleep(delay)
            finally:
                if client is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(client.logout(), 5)

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        idle = await client.idle_start(timeout=min(self.config.poll, 29 * 60))
        with contextlib.suppress(TimeoutError):
            await client.wait_server_push(timeout=min(self.config.poll, 29 * 60))
        client.idle_done()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(idle, 10)

    async def _position(self, uidvalidity: int) -> int:
        async with self._sessions() as session:
            state = await session.get(AppState, self._state_key)
        if state is None:
            return 1
        validity, _sep, last = state.value.partition(":")
        return int(last) + 1 if validity == str(uidvalidity) else 1

    async def _remember(self, session: AsyncSession, uidvalidity: int, uid: int) -> None:
        state = await session.get(AppState, self._state_key)
        value = f"{uidvalidity}:{uid}"
        if state is None:
            session.add(AppState(key=self._state_key, value=value))
        else:
            state.value = value

    async def read_new(self, client: aioimaplib.IMAP4, *, dry_run: bool = False,
                       out: Callable[[str], None] | None = None) -> int:  # fmt: skip
        """Read every message not read yet; returns how many platform mails were recorded. A connection dropped
        midway leaves the position at the last message fully handled: nothing is lost, nothing read twice."""
        uidvalidity, _next = await select_folder(client, self.config.folder)
        first = await self._position(uidvalidity)
        recorded = 0
        for uid, size in sorted((await sizes(client, first)).items()):
            now = self._clock()
            found: PlatformMessage | None = None
            reason = ""
            if size > self._max_bytes:
                reason = "too_large"
                self.stats["skipped"] += 1
            else:
                try:
                    found = parse(await fetch(client, uid))
                except NotPlatformMail as refused:
                    reason = refused.reason
                    self.stats["ignored"] += 1
            async with self._sessions.begin() as session:
                if found is not None and not await inbox.already_read(session, self.config.folder, uidvalidity, uid,
                                                                      found.message_id):  # fmt: skip
                    outcome = await inbox.record(session, found, folder=self.config.folder, uidvalidity=uidvalidity,
                                                 uid=uid, now=now, dry_run=dry_run)  # fmt: skip
                    recorded += 1
                    self.stats["read"] += 1
                    self.stats[outcome.status] = self.stats.get(outcome.status, 0) + 1
                    if out is not None:
                        out(_describe(uid, found, outcome))
                elif out is not None:
                    out(f"UID {uid}: ignored ({reason or 'read before'})")
                if dry_run:
                    await session.rollback()
                    continue
                await self._remember(session, uidvalidity, uid)
            if found is not None and not dry_run:
                log.info("platform mail read", extra={"uid": uid, "platform": found.platform, "event": found.event})
        if recorded and not dry_run:
            self._on_alerts()
        return recorded


def _describe(uid: int, found: PlatformMessage, outcome: inbox.Outcome) -> str:
    details = ", ".join(f"{k}={v}" for k, v in found.details().items() if v is not None)
    target = f"booking {outcome.booking_id}" if outcome.booking_id else "no stay"
    fills = f"; would fill {', '.join(outcome.filled)}" if outcome.filled else ""
    return (f"UID {uid}: {found.platform} {found.event} {found.reservation_code} → {target} ({outcome.status}); "
            f"{details}{fills}")  # fmt: skip


async def check_imap(config: ImapConfig, *, say: Callable[[str], None]) -> int:
    """Log in, open the folder and count the platform mails LUMINA can read (for `lumina mail check`)."""
    client = await connect(config)
    say(f"logged in as {config.username}")
    try:
        uidvalidity, _next = await select_folder(client, config.folder)
        say(f"folder {config.folder} (UIDVALIDITY {uidvalidity})")
        count = 0
        for uid, size in (await sizes(client, 1)).items():
            if size > MAX_BYTES:
                continue
            try:
                parse(await fetch(client, uid))
                count += 1
            except NotPlatformMail:
                continue
        return count
    finally:
        with contextlib.suppress(Exception):
            await client.logout()


async def read_dry_run(url: str, config: ImapConfig, *, dry_run: bool, out: Callable[[str], None]) -> int:
    """`lumina mail read [--dry-run]`: every unread platform mail and what it fills (or would fill)."""
    engine = create_engine(url)
    try:
        reader = ImapReader(session_factory(engine), config)
        client = await connect(config)
        try:
            count = await reader.read_new(client, dry_run=dry_run, out=out)
        finally:
            with contextlib.suppress(Exception):
                await client.logout()
        out(f"{count} platform mail(s)" + (" (dry run: nothing written)" if dry_run else ""))
        return 0
    finally:
        await engine.dispose()


async def last_read(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(AppState.value).where(AppState.key.startswith("imap:")))).all())


