"""The `lumina` command as an operator runs it: a real process, real HTTP, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.support.fake_bot_api import FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    return {**clean, "LUMINA_DATA_DIR": str(tmp_path), **extra}


async def lumina(*args: str, environ: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_run_answers_health_and_start_then_stops_cleanly(tmp_path: Path):
    port = free_port()
    async with FakeBotAPI() as api:
        settings = {
            "LUMINA_BOT_TOKEN": api.token,
            "LUMINA_TELEGRAM_API_BASE": api.base_url,
            "LUMINA_HTTP_PORT": str(port),
        }
        process = await lumina("run", environ=env(tmp_path, **settings))
        try:
            async with aiohttp.ClientSession() as http:
                async with asyncio.timeout(20):  # generous: a loaded machine; start-up time is a benchmark's job
                    while True:
                        try:
                            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                                if response.status == 200:
                                    break
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.05)
            assert process.stdout is not None
            banner = b""
            async with asyncio.timeout(30):  # the bot itself starts after /health answers: aiogram loads slowly
                while b"?start=" not in banner:
                    banner += await process.stdout.readline()
            code = banner.split(b"?start=")[1].split()[0].decode()
            mark = api.mark()
            api.push_message(4242, f"/start {code}", language_code="en")
            [reply] = await api.wait_for("sendMessage", after=mark, chat_id=4242, timeout=10)
            assert "owner" in reply.params["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                returncode = await process.wait()
        assert returncode == 0


async def test_run_without_a_token_explains_and_exits_2(tmp_path: Path):
    process = await lumina("run", environ=env(tmp_path))
    out, err = await process.communicate()
    assert process.returncode == 2
    assert b"@BotFather" in err and b"Traceback" not in err


async def test_a_bad_setting_is_one_clear_line(tmp_path: Path):
    process = await lumina("migrate", environ=env(tmp_path, LUMINA_HTTP_PORT="eighty"))
    _out, err = await process.communicate()
    assert process.returncode == 2
    assert err.decode().strip().splitlines() == [
        "Invalid setting LUMINA_HTTP_PORT: Input should be a valid integer, unable to parse string as an integer"
    ]


async def test_help_lists_every_command(tmp_path: Path):
    process = await lumina("--help", environ=env(tmp_path))
    out, _err = await process.communicate()
    for command in (b"run", b"migrate", b"sync", b"replay"):
        assert command in out


async def test_migrate_on_an_empty_sqlite_file(tmp_path: Path):
    process = await lumina("migrate", environ=env(tmp_path))
    out, err = await process.communicate()
    assert process.returncode == 0, err
    assert b"database at revision" in out
    process = await lumina("migrate", "--downgrade", "--revision", "base", environ=env(tmp_path))
    out, _err = await process.communicate()
    assert b"base (empty)" in out


async def test_a_second_run_on_the_same_sqlite_file_is_refused(tmp_path: Path):
    async with FakeBotAPI() as api:
        settings = {"LUMINA_BOT_TOKEN": api.token, "LUMINA_TELEGRAM_API_BASE": api.base_url}
        first = await lumina("run", environ=env(tmp_path, LUMINA_HTTP_PORT=str(free_port()), **settings))
        try:
            assert first.stdout is not None
            async with asyncio.timeout(20):
                while b"/start" not in await first.stdout.readline():  # the first one is up
                    pass
            second = await lumina("run", environ=env(tmp_path, LUMINA_HTTP_PORT=str(free_port()), **settings))
            async with asyncio.timeout(20):
                _out, err = await second.communicate()
            assert second.returncode == 2
            assert b"another LUMINA already runs on this SQLite database" in err and b"PostgreSQL" in err
        finally:
            first.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                await first.wait()
