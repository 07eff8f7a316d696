"""Calendar feeds: the shared data model, parsing and per-platform classification."""

from domain.calendar.classify import Classification, classify_event, detect_platform, mark_windows
from domain.calendar.model import FeedEvent, FeedParseError, Kind, ParsedFeed, Platform
from domain.calendar.parse import parse_feed

__all__ = [
    "Classification",
    "FeedEvent",
    "FeedParseError",
    "Kind",
    "ParsedFeed",
    "Platform",
    "classify_event",
    "detect_platform",
    "mark_windows",
    "parse_feed",
]
