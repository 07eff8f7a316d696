"""Start-up: how long `lumina run` takes to answer /health, /ready and a person's first message, and where the time
goes (issue 14 item 11).

Each run starts a real `lumina run` process (fresh SQLite database in a temporary directory) against the fake Bot API
on loopback. A person (an owner by LUMINA_OWNER_IDS) has sent "/today" before the process starts: the time to their
answer is the time a host waits after a restart. The breakdown is the process's own "started in" log line (each step
of start-up) plus what happens after it (polling starts, the first update is handled).

    .venv/bin/python benchmarks/startup_bench.py            # 5 runs
    .venv/bin/python benchmarks/startup_bench.py --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fake_bot_api import FakeBotAPI  # noqa: E402

OWNER = 4242


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until_200(http: aiohttp.ClientSession, url: str, started: float) -> float:
    while True:
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.02)


async def one_run() -> dict[str, float]:
    port = _free_port()
    async with FakeBotAPI() as api:
        with tempfile.TemporaryDirectory() as data_dir:
            environ = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
            environ.update(
                LUMINA_DATA_DIR=data_dir, LUMINA_BOT_TOKEN=api.token, LUMINA_TELEGRAM_API_BASE=api.base_url,
                LUMINA_HTTP_PORT=str(port), LUMINA_OWNER_IDS=str(OWNER), LUMINA_PUBLIC_URL="https://lumina.example.com",
            )  # fmt: skip
            api.push_message(OWNER, "/today", language_code="pt-BR")  # waiting when LUMINA starts
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=environ,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            figures: dict[str, float] = {}
            try:
                async with aiohttp.ClientSession() as http:
                    base = f"http://127.0.0.1:{port}"
                    figures["health"] = await _until_200(http, f"{base}/health", started)
                    [reply] = await api.wait_for("sendMessage", chat_id=OWNER, timeout=60)
                    figures["first_answer"] = time.perf_counter() - started
                    figures["ready"] = await _until_200(http, f"{base}/ready", started)
                process.terminate()
                _out, err = await process.communicate()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            line = next((x for x in err.decode().splitlines() if "started in" in x), "")
            for name, secs in re.findall(r"(\w+) (\d+\.\d+)", line.split("started in", 1)[-1]):
                figures["phase:" + name] = float(secs)
            assert reply.params["text"]
            return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    results = [asyncio.run(one_run()) for _ in range(runs)]
    names = list(dict.fromkeys(name for r in results for name in r))
    print(f"{runs} runs of `lumina run` (seconds from process start; phases: seconds each step took)")
    print(f"{'':24} {'median':>8} {'min':>8} {'max':>8}")
    for name in names:
        values = [r[name] for r in results if name in r]
        print(f"{name:24} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")


if __name__ == "__main__":
    main()
