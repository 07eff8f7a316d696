"""Seeded, time-bounded fuzzing (issue 15): the calendar parser (with and without the parse cache), the fetcher's URL
handling, the chat's input parsers and callback data. Nothing may escape but the error each promises, the parser
says the same with and without its cache, nothing hangs, and memory stays bounded.

Each target runs for LUMINA_FUZZ_SECONDS (default 2) from LUMINA_FUZZ_SEED (default 15); a failure names the seed
and the input, so `LUMINA_FUZZ_SEED=<seed> pytest tests/unit/test_fuzz.py` reproduces it.
"""

from __future__ import annotations

import os
import random
import resource
import time
from collections.abc import Callable, Iterator
from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiogram.filters.callback_data import CallbackData

import bot.keyboards.callbacks as callbacks
from domain import inputs
from domain.calendar import FeedParseError, parse_feed
from domain.calendar.parse import ParseCache
from jobs.fetch import FeedFetcher, FetchConfig
from tests.support.ical_builder import Stay, airbnb, booking, vrbo

SECONDS = float(os.environ.get("LUMINA_FUZZ_SECONDS", "2"))
SEED = int(os.environ.get("LUMINA_FUZZ_SEED", "15"))
TODAY = date(2026, 8, 1)
ROME = ZoneInfo("Europe/Rome")
HANG = 10.0  # seconds one input may take before it counts as a hang (inputs here are at most ~20 KB)


def cases(rng_seed: int) -> Iterator[tuple[int, random.Random]]:
    """(seed, generator) per input, until the time is up: each input can be replayed from its own seed."""
    deadline = time.monotonic() + SECONDS
    master = random.Random(rng_seed)
    while time.monotonic() < deadline:
        seed = master.randrange(2**32)
        yield seed, random.Random(seed)


def timed(call: Callable[[], object], what: str) -> object:
    started = time.monotonic()
    result = call()
    assert time.monotonic() - started < HANG, f"{what} took {time.monotonic() - started:.1f} s"
    return result


# --- the calendar parser --------------------------------------------------------------------------------------

STAYS = [
    Stay("a1@airbnb.com", date(2026, 8, 10), date(2026, 8, 14)),
    Stay("a2@airbnb.com", date(2026, 9, 1), date(2026, 9, 5), blocked=True),
    Stay("a3@airbnb.com", date(2026, 9, 5), date(2026, 9, 9)),
]
SEEDS = [airbnb(STAYS), booking(STAYS), vrbo([(s, "Reserved") for s in STAYS])]
JUNK = [
    b"BEGIN:VEVENT", b"END:VEVENT", b"BEGIN:VCALENDAR", b"END:VCALENDAR", b"BEGIN:VTIMEZONE", b"END:VTIMEZONE",
    b"BEGIN:VALARM", b"DTSTART;VALUE=DATE:2026-03-01", b"DTSTART;VALUE=DATE:20260231", b"DTEND;VALUE=DATE:20260101",
    b"DTSTART;VALUE=DATE,DATE-TIME:20260301", b"DTSTART;TZID=Europe:20260310T150000", b"DTSTART;TZID=:20260310",
    b"DTSTART:20260310T150000Z", b"DTSTART:99999999", b"DURATION:P1D", b"DURATION:-P3D", b"DURATION:P99999W",
    b"RRULE:FREQ=DAILY", b"RRULE:FREQ=SECONDLY;COUNT=999999999", b"EXDATE:junk", b"UID:" + b"u" * 400,
    b"UID:", b"SUMMARY:Reserved", b"SUMMARY:CLOSED - Not available", b"SUMMARY:Not available", b"STATUS:CANCELLED",
    b" folded continuation", b"\t", b"", b"X-\xff\xfe:\x00", b"DESCRIPTION:" + "é🏠".encode() * 50,
    b"TZID:Mars/Olympus", b"BEGIN:STANDARD", b"TZOFFSETFROM:+9999", b"<html><body>login</body></html>",
    b"PRODID:-//Booking.com//", b"PRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN", b"ATTENDEE;CN=\"a:b\":x",
]  # fmt: skip


def mutate(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\r\n")
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        at = rng.randrange(len(lines) or 1)
        if op == 0 and lines:
            del lines[at]
        elif op == 1 and lines:
            lines.insert(at, lines[rng.randrange(len(lines))])
        elif op == 2:
            lines.insert(at, rng.choice(JUNK))
        elif op == 3 and lines:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 4 and lines:
            lines[at] = lines[at].lower() if rng.random() < 0.5 else lines[at].upper()
        elif op == 5 and lines:
            line = bytearray(lines[at])
            for _ in range(rng.randint(1, 3)):
                if line:
                    line[rng.randrange(len(line))] = rng.randrange(256)
            lines[at] = bytes(line)
        elif op == 6:
            lines[at:at] = lines[: rng.randint(1, 40)]  # a repeated stretch: events inside events, copies
        elif op == 7 and lines:
            lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
    body = (b"\n" if rng.random() < 0.2 else b"\r\n").join(lines)
    return body[: rng.randrange(len(body) + 1)] if rng.random() < 0.15 else body


def parsed(data: bytes, cache: ParseCache | None) -> object:
    try:
        feed = parse_feed(data, tz=ROME, today=TODAY, cache=cache, cache_key="feed")
    except FeedParseError as error:
        return ("error", error.reason)
    return (feed.platform, feed.events, feed.skipped, feed.empty_body)


def test_the_parser_answers_every_mutation_the_same_with_and_without_its_cache() -> None:
    cache = ParseCache()  # one feed's downloads in a row: the cache carries over as in production
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    count = 0
    for seed, rng in cases(SEED):
        data = mutate(rng, rng.choice(SEEDS))
        plain = timed(lambda data=data: parsed(data, None), f"parse of seed {seed}")
        cached = timed(lambda data=data: parsed(data, cache), f"cached parse of seed {seed}")
        assert plain == cached, f"seed {seed}: {data[:300]!r}"
        count += 1
    assert count > 10
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"the process grew {grown_mb:.0f} MB over {count} inputs"


# --- the fetcher's URL handling -------------------------------------------------------------------------------

URL_PARTS = {
    "scheme": ["http", "https", "HTTP", "ftp", "file", "javascript", "", "http:", "https:/"],
    "host": ["example.com", "a..com", "a" * 64 + ".com", "xn--", "xn--zz.com", "127.1", "0x7f000001", "[::1]",
             "[::ffff:10.0.0.1]", "[fe80::1%25eth0]", "例え.jp", "exa mple.com", "", "@", "user:pw@host.com",
             "host.com:99999", "host.com:-1", "host.com:", "%00.com", "ex%2Eample.com", ".", "..", "a.b.c.d.e.f"],
    "path": ["", "/", "/x.ics", "/%", "/%zz", "/../../etc/passwd", "/?token=" + "t" * 3000, "#frag", "/\x00",
             "/é", "\\\\back", "//double"],
}  # fmt: skip


def random_url(rng: random.Random) -> str:
    url = f"{rng.choice(URL_PARTS['scheme'])}://{rng.choice(URL_PARTS['host'])}{rng.choice(URL_PARTS['path'])}"
    if rng.random() < 0.3:
        url = mutate(rng, url.encode()).decode("utf-8", "replace")
    return url


async def _no_such_host(host: str, port: int) -> list[str]:
    return ["10.0.0.1"]  # private: the address check refuses it, nothing is ever connected to


async def test_the_fetcher_turns_every_url_into_a_result() -> None:
    # No traffic leaves the process: names "resolve" to a private address, and the transport answers locally.
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    async with FeedFetcher(FetchConfig(total_timeout=2.0), resolver=_no_such_host, transport=transport) as fetcher:
        count = 0
        for seed, rng in cases(SEED + 1):
            url = random_url(rng)
            result = await fetcher.fetch(url)
            assert result.status in ("ok", "not_modified", "failed"), f"seed {seed}: {url!r}"
            assert result.status != "failed" or result.reason, f"seed {seed}: {url!r} failed without a reason"
            count += 1
        assert count > 10


# --- what people type, and what buttons carry -----------------------------------------------------------------

CHARS = "0123456789/-.:, hHpmMaAé٣\u00a0x\t"
WORDS = [
    "31/02", "29/02/2027", "12/13", "0/0", "2026-02-30", "99999999999999999999", "-1", "1e9", "R$ 1.234,56",
    "1,234.56", "15h", "3 pm", "24:00", "25:61", "٣٣/٠٢", "today", "amanhã", "∞", "NaN", "", " ", "\x00",
]  # fmt: skip


def typed(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(WORDS)
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 24)))


PARSERS: list[Callable[[str], object]] = [
    lambda text: inputs.parse_date(text, today=TODAY),
    lambda text: inputs.parse_stay(text, text[::-1], today=TODAY),
    lambda text: inputs.parse_date_pair(text, today=TODAY),
    inputs.parse_money,
    inputs.parse_time,
    inputs.parse_email,
    lambda text: inputs.parse_text(text, max_length=10),
    inputs.parse_count,
]


def test_input_parsers_answer_only_with_input_errors() -> None:
    count = 0
    for seed, rng in cases(SEED + 2):
        text = typed(rng)
        for parse in PARSERS:
            try:
                timed(lambda parse=parse, text=text: parse(text), f"seed {seed}")
            except inputs.InputError:
                pass
            except Exception as exc:  # noqa: BLE001 - the point of the test
                pytest.fail(f"seed {seed}: {text!r} raised {type(exc).__name__}: {exc}")
        count += 1
    assert count > 10


CALLBACKS = [
    cls for cls in vars(callbacks).values()
    if isinstance(cls, type) and issubclass(cls, CallbackData) and cls is not CallbackData
]  # fmt: skip


def test_callback_data_is_refused_or_within_range() -> None:
    assert len(CALLBACKS) > 10
    accepted = refused = 0
    for seed, rng in cases(SEED + 3):
        cls = rng.choice(CALLBACKS)
        fields = [typed(rng) if rng.random() < 0.5 else str(rng.choice([0, -1, 2**63, 10**60, 7])) for _ in range(6)]
        data = ":".join([cls.__prefix__, *fields[: rng.randint(0, 6)]])  # type: ignore[attr-defined]
        try:
            unpacked = cls.unpack(data)
        except (ValueError, TypeError):
            refused += 1
            continue
        for name, value in unpacked.model_dump().items():
            if isinstance(value, int) and not isinstance(value, bool):
                assert -(2**63) <= value < 2**63, f"seed {seed}: {data!r} gave {name}={value}"
        accepted += 1
    assert refused > 10 and accepted > 0  # both ways were tried
