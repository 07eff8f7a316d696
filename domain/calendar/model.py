"""Plain data shared by the calendar pipeline: what a feed said, after parsing and classification."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Platform(StrEnum):
    AIRBNB = "airbnb"
    BOOKING = "booking"
    VRBO = "vrbo"
    AGODA = "agoda"
    OTHER = "other"
    DIRECT = "direct"  # entered in LUMINA itself, never from a feed


# How each platform writes its own name: the one table every view, document and command reads. OTHER and DIRECT
# are words, translated where they are shown.
PLATFORM_NAMES: dict[str, str] = {
    Platform.AIRBNB: "Airbnb",
    Platform.BOOKING: "Booking.com",
    Platform.VRBO: "VRBO",
    Platform.AGODA: "Agoda",
}
FEED_PLATFORMS = tuple(p.value for p in Platform if p is not Platform.DIRECT)  # what a feed can be


class Kind(StrEnum):
    RESERVATION = "reservation"
    BLOCK = "block"
    TENTATIVE = "tentative"  # a VRBO request or hold that may expire
    WINDOW = "window"  # availability-window block: advance notice / "how far ahead", rolls daily


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One stay or block as a feed describes it, in the property's local dates, half-open [check_in, check_out)."""

    uid: str
    check_in: date
    check_out: date
    kind: Kind
    summary: str = ""
    uid_synthetic: bool = False  # the feed gave no usable UID (missing or duplicated); ours is derived
    guest_name: str | None = None
    reservation_code: str | None = None
    phone_last4: str | None = None

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


@dataclass(slots=True)
class ParsedFeed:
    platform: Platform
    events: list[FeedEvent] = field(default_factory=list)
    skipped: int = 0  # events dropped because a property was broken or the dates made no sense
    problems: list[str] = field(default_factory=list)  # short machine codes, e.g. "dtend_before_dtstart:<uid>"
    empty_body: bool = False  # the server sent zero bytes (Booking.com does this for an empty calendar)


class FeedParseError(ValueError):
    """The bytes are not a usable calendar: the download counts as failed and changes nothing."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason  # one of: html, not_calendar, truncated, invalid
        self.detail = detail
