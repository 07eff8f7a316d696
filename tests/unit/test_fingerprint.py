"""content_fingerprint hashes the body with its DTSTAMP values masked, by the same rule as the parse cache: a
download whose only change is the stamps Airbnb and Booking.com rewrite every time is the same content; any other
change, an invalid stamp included, is not."""

from __future__ import annotations

import pytest

from domain.calendar.parse import mask_stamps
from domain.feed_sync import content_fingerprint

EVENT = (
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTAMP:{stamp}\r\nUID:a@b\r\nDTSTART;VALUE=DATE:20270105\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def body(stamp: str, text: str = EVENT) -> bytes:
    return text.format(stamp=stamp).encode()


def test_a_new_stamp_is_the_same_content() -> None:
    assert content_fingerprint(body("20260801T070000Z")) == content_fingerprint(body("20261203T101112Z"))


@pytest.mark.parametrize(
    "changed",
    [
        body("20260801T070000Z", EVENT.replace("20270105", "20270106")),  # a date
        body("20261399T999999Z"),  # an invalid stamp: its event is broken, so it counts
        body("20260801T070000Z", EVENT.replace("DTSTAMP:", "X-DTSTAMP:")),  # not a DTSTAMP property
        body("20260801T070000Z\r\n X", EVENT),  # continued on a folded line
    ],
)
def test_any_other_change_is_a_change(changed: bytes) -> None:
    assert content_fingerprint(body("20260801T070000Z")) != content_fingerprint(changed)


def test_one_rule_with_the_parse_cache() -> None:
    """The mask keeps every length and byte outside the stamps' values; not at a line start, a stamp is text."""
    text = "DTSTAMP:20260801T070000Z\nDESCRIPTION:see DTSTAMP:20260801T070000Z\n"
    masked = mask_stamps(text)
    assert len(masked) == len(text) and masked.count("20260801T070000Z") == 1
    assert masked.startswith("DTSTAMP:~")


def test_any_bytes_are_hashed() -> None:
    """Not UTF-8, or not text at all: hashed as they are, never an error."""
    assert content_fingerprint(b"\xff\xfe\x00BEGIN") != content_fingerprint(b"\xff\xfe\x01BEGIN")
    assert content_fingerprint(b"") == content_fingerprint(b"")
