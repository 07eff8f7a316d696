"""parse_feed with a ParseCache gives exactly what a full parse gives: on every fixture, the shared corpus and the
real replay histories, and on edits that try to fool the block cache (stamps, folds, nesting, time zones)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import FeedParseError, ParsedFeed, parse_feed
from domain.calendar.parse import ParseCache

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ical"
SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "ical"
CORPUS = sorted((SHARED / "corpus").rglob("*.ics")) if (SHARED / "corpus").is_dir() else []
REPLAYS = sorted({p.parent for p in (SHARED / "replay").glob("*/*.ics")}) if (SHARED / "replay").is_dir() else []
ROME, SAO_PAULO = ZoneInfo("Europe/Rome"), ZoneInfo("America/Sao_Paulo")
TODAY = date(2026, 3, 1)
_BLOCK = re.compile(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT\r?\n", re.DOTALL)
_STAMP = re.compile(rb"DTSTAMP:\d{8}T\d{6}Z")


def outcome(data: bytes, cache: ParseCache | None, key: object, tz: ZoneInfo, today: date | None) -> object:
    try:
        feed = parse_feed(data, tz=tz, today=today, url="https://example.com/x.ics", cache=cache, cache_key=key)
    except FeedParseError as error:
        return ("error", error.reason, error.detail)
    assert isinstance(feed, ParsedFeed)
    return feed


def assert_same(data: bytes, cache: ParseCache, key: object = "feed", tz: ZoneInfo = ROME, today: date | None = TODAY):
    assert outcome(data, cache, key, tz, today) == outcome(data, None, None, tz, today)


def variants(data: bytes, *, thorough: bool = True) -> Iterator[bytes]:
    """Edits of one download as the next downloads of the same feed might bring them."""
    yield data
    yield data  # the same bytes again: everything from the cache
    yield _STAMP.sub(b"DTSTAMP:20300102T030405Z", data)  # a new download: only DTSTAMP moved
    yield _STAMP.sub(b"DTSTAMP:20301302T030405Z", data)  # month 13: every event is now broken
    blocks = _BLOCK.findall(data)
    if not blocks:
        return
    first = blocks[0]
    yield data.replace(first, first.replace(b"END:VEVENT", b"SUMMARY:edited\r\nEND:VEVENT"), 1)
    yield data.replace(first, b"", 1)  # one event gone
    if not thorough:
        yield data
        return
    yield _STAMP.sub(b"DTSTAMP:20300102T030405Z\r\n X", data)  # a folded stamp: no longer a valid one
    yield data.replace(first, first + first, 1)  # a copy
    yield data.replace(first, first.replace(b"END:VEVENT", b"BEGIN:VALARM\r\nEND:VALARM\r\nEND:VEVENT"), 1)
    yield data.replace(first, first + b"X-NOTE:between\r\n", 1)  # text between two events
    yield data.replace(first, first.replace(b"BEGIN:VEVENT", b"begin:vevent"), 1)
    yield data.replace(first, first.replace(b"BEGIN:VEVENT", b"BEG\r\n IN:VEVENT"), 1)  # folded BEGIN
    yield data.replace(first, first.replace(b"END:VEVENT\r\n", b"END:VEVENT\r\n "), 1)  # folded after END
    yield data.replace(b"PRODID:", b"PRODID:-//Other//", 1)  # another frame
    start = data.find(blocks[0])
    end = data.find(blocks[-1]) + len(blocks[-1])
    yield data[:start] + b"".join(reversed(blocks)) + data[end:]
    yield data[:start] + b"".join(blocks[1:]) + data[end:]
    yield data


def run(data: bytes, cache: ParseCache, key: object = "feed", *, thorough: bool = True) -> None:
    for version in variants(data, thorough=thorough):
        assert_same(version, cache, key)
    if not thorough:
        return
    assert_same(data, cache, key, tz=SAO_PAULO)  # the property moved: dates are read again
    assert_same(data, cache, key, today=TODAY + timedelta(days=4000))  # the ten-year horizon moved
    assert_same(data, cache, key, today=None)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.ics")))
def test_fixtures_parse_the_same_with_a_cache(name: str) -> None:
    run((FIXTURES / name).read_bytes(), ParseCache())


@pytest.mark.skipif(not CORPUS, reason="../shared/data/ical/corpus not present")
def test_the_corpus_parses_the_same_with_a_cache() -> None:
    cache = ParseCache()
    for path in CORPUS:
        run(path.read_bytes(), cache, key=path.name, thorough=False)
    assert cache.reused_blocks > cache.parsed_blocks


@pytest.mark.skipif(not REPLAYS, reason="../shared/data/ical/replay not present")
@pytest.mark.parametrize("folder", [p.name for p in REPLAYS])
def test_real_histories_parse_the_same_downloaded_in_order(folder: str) -> None:
    cache = ParseCache()
    files = sorted((SHARED / "replay" / folder).glob("*.ics"))
    for path in files:
        today = date(int(path.name[:4]), int(path.name[4:6]), int(path.name[6:8]))
        assert_same(path.read_bytes(), cache, today=today)
    assert len(cache) == 1
    # Real feeds: the first download is parsed whole, then only the events that changed.
    assert cache.reused_blocks > 10 * cache.parsed_blocks


def calendar(*events: str, prodid: str = "-//Test//EN") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{prodid}"]
    for body in events:
        lines += ["BEGIN:VEVENT", *body.split("|"), "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


STAY = "DTSTAMP:20260301T070000Z|UID:a@x|DTSTART;VALUE=DATE:20260310|DTEND;VALUE=DATE:20260312|SUMMARY:Reserved"


def test_tzid_events_and_timezones_defined_later_are_read_again_every_time() -> None:
    cache = ParseCache()
    tz_event = "DTSTAMP:20260301T070000Z|UID:t@x|DTSTART;TZID=Mars/Olympus:20260310T150000|" + (
        "DTEND;TZID=Mars/Olympus:20260312T100000|SUMMARY:Reserved"
    )
    for data in (calendar(STAY, tz_event), calendar(STAY, tz_event), calendar(tz_event), calendar(STAY, tz_event)):
        assert_same(data, cache)


def test_the_cache_is_bounded_by_feeds_and_bytes() -> None:
    cache = ParseCache(max_feeds=3)
    for key in range(5):
        assert_same(calendar(STAY), cache, key=key)
    assert len(cache) == 3
    small = ParseCache(max_bytes=1_000)
    for key in range(5):
        assert_same(calendar(STAY), small, key=key)
    assert len(small) == 1 and small.approx_bytes <= 1_000
    tiny = ParseCache(max_bytes=10)  # an entry bigger than the whole bound is not kept at all
    assert_same(calendar(STAY), tiny)
    assert len(tiny) == 0


def test_only_new_blocks_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.calendar import parse

    parsed: list[str] = []
    real = parse._parse_components
    monkeypatch.setattr(parse, "_parse_components", lambda text: parsed.append(text) or real(text))
    cache = ParseCache()
    other = STAY.replace("a@x", "b@x").replace("20260312", "20260315").replace("20260310", "20260313")
    outcome(calendar(STAY, other), cache, "feed", ROME, TODAY)
    outcome(calendar(STAY, other).replace(b"20260301T07", b"20260301T08"), cache, "feed", ROME, TODAY)
    moved = other.replace("20260315", "20260316")
    outcome(calendar(STAY, moved), cache, "feed", ROME, TODAY)
    assert len(parsed) == 2  # the first download whole, then only the moved event (no parse for the restamp)
    assert parsed[1].count("BEGIN:VEVENT") == 1 and "b@x" in parsed[1]


def test_a_big_download_is_parsed_in_slices_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """icalendar is never handed the whole of a big feed (its unfolding holds the GIL for the whole text), and the
    slices add up to exactly what a whole-file parse gives, errors included."""
    from domain.calendar import parse

    monkeypatch.setattr(parse, "_PARSE_SLICE", 4096)
    parsed: list[str] = []
    real = parse._parse_components
    monkeypatch.setattr(parse, "_parse_components", lambda text: parsed.append(text) or real(text))
    stays = [STAY.replace("a@x", f"{i}@x").replace("20260310", f"202604{i % 28 + 1:02d}") for i in range(300)]
    data = calendar(*stays, "DTSTAMP:20260301T070000Z|UID:bad@x|DTSTART;VALUE=DATE:2026-03-01|SUMMARY:x")
    run(data, ParseCache(), thorough=False)  # the same as whole-file parses, edit after edit
    parsed.clear()
    outcome(data, ParseCache(), "feed", ROME, TODAY)
    assert max(map(len, parsed)) < 2 * 4096 and len(parsed) > len(data) // 4096
