"""content_fingerprint hashes the body without its DTSTAMP lines. Stored feeds keep the hash of their last good
download, so the function must give exactly what it always gave (a ^-anchored multi-line regex)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from domain.feed_sync import content_fingerprint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ical"
_ORIGINAL = re.compile(rb"^DTSTAMP[;:][^\r\n]*\r?\n", re.MULTILINE)

BODIES = [
    b"",
    b"DTSTAMP:20260801T070000Z\r\nX:1\r\n",  # at the very start
    b"BEGIN:VEVENT\nDTSTAMP:1\nEND:VEVENT\n",  # LF only
    b"X-DTSTAMP:1\r\nDESCRIPTION:see DTSTAMP:2\r\n",  # not at a line start: kept
    b"A:1\r\n DTSTAMP:folded\r\nDTSTAMP;TZID=X:2\r\n",  # a folded line is kept, a parameter form dropped
    b"A:1\r\nDTSTAMP:no line end",  # no line end: kept
]


@pytest.mark.parametrize("body", BODIES + [p.read_bytes() for p in sorted(FIXTURES.glob("*.ics"))])
def test_fingerprint_is_the_hash_without_dtstamp_lines(body: bytes) -> None:
    assert content_fingerprint(body) == hashlib.sha256(_ORIGINAL.sub(b"", body)).hexdigest()
