"""Which platform a feed comes from, and what each of its events means (ICAL_FACTS §1.2, §2.1, §3, §4, §5.3).

Pure functions over already-parsed values: no I/O, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlsplit

from domain.calendar.model import FeedEvent, Kind, Platform

# --- platform ---------------------------------------------------------------------------------------------

_UID_DOMAINS = (
    ("airbnb.com", Platform.AIRBNB),
    ("booking.com", Platform.BOOKING),
    ("agoda.com", Platform.AGODA),
)
# Substrings only: Booking's PRODID has a varying number of backslashes (§2.1), Airbnb's a parameter (§1.1).
_PRODID_MARKERS = (
    ("airbnb", Platform.AIRBNB),
    ("admin.booking.com", Platform.BOOKING),
    ("homeaway", Platform.VRBO),
    ("vrbo", Platform.VRBO),
    ("abritel", Platform.VRBO),
    ("agoda", Platform.AGODA),
)
_HOST_LABELS = {
    "airbnb": Platform.AIRBNB,
    "vrbo": Platform.VRBO,
    "homeaway": Platform.VRBO,
    "abritel": Platform.VRBO,
    "agoda": Platform.AGODA,
}


def detect_platform(*, uids: Iterable[str], prodid: str | None, url: str | None) -> Platform:
    """Guess the platform from, in order: the UIDs' domain, a PRODID substring, the feed URL's host.

    UIDs that point at more than one platform (a channel manager's merged feed) are ignored.
    """
    from_uids: set[Platform] = set()
    for uid in uids:
        domain = uid.rpartition("@")[2].lower()
        for suffix, platform in _UID_DOMAINS:
            if domain == suffix or domain.endswith("." + suffix):
                from_uids.add(platform)
    if len(from_uids) == 1:
        return from_uids.pop()
    lowered = (prodid or "").lower()
    for marker, platform in _PRODID_MARKERS:
        if marker in lowered:
            return platform
    host = (urlsplit(url).hostname or "") if url else ""
    if host == "booking.com" or host.endswith(".booking.com"):
        return Platform.BOOKING
    for label in host.split("."):
        if label in _HOST_LABELS:
            return _HOST_LABELS[label]
    return Platform.OTHER


# --- one event --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    guest_name: str | None = None
    reservation_code: str | None = None
    phone_last4: str | None = None


def normalize(text: str) -> str:
    """Casefold, drop accents, collapse whitespace: `Réservée` -> `reservee`, `Vorläufig` -> `vorlaufig`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


# Matched on normalize()d summaries. "blocked/unavailable/closed" in en, pt, es, fr, it, de.
_BLOCK_RE = re.compile(
    r"\b(?:not available|unavailable|blocked|closed|owner block"
    r"|indisponivel|nao disponivel|bloqueado|bloqueada|fechado"
    r"|no disponible|cerrado"
    r"|indisponible|bloque|ferme"
    r"|non disponibile|bloccato|bloccata|chiuso"
    r"|nicht verfugbar|blockiert|gesperrt|geschlossen)\b"
)
# VRBO / HomeAway / Abritel put the status first, localized to the site language, then ` - <guest name>` (§3).
_VRBO_RESERVED_RE = re.compile(r"^(?:reserved|reservee?|reservad[oa]|reserviert|prenotat[oa])\b")
_VRBO_TENTATIVE_RE = re.compile(
    r"^(?:provisoire|tentative|pending|provisional|pendente|pendiente|provisori[oa]|provvisori[oa]|vorlaufig"
    r"|in attesa)\b"
)
_NAME_AFTER_DASH_RE = re.compile(r"^[^-–]*[-–]\s*(?P<name>.*?)\s*$")

# Airbnb, since Dec 2019: the code only appears in the DESCRIPTION URL, in either URL form (§1.2).
_AIRBNB_CODE_RE = re.compile(r"(?:/reservations/details/|/reservation/itinerary\?code=)(HM[A-Z0-9]{8})\b")
_AIRBNB_PHONE_RE = re.compile(r"Phone Number \(Last 4 Digits\):\s*(\d{4})\b")
# Airbnb before Dec 2019: `<Guest Name> (<code>)`, 6-character codes before ~2017, HM codes after (§1.2).
_AIRBNB_LEGACY_RE = re.compile(r"^(?P<name>.+?)\s*\((?P<code>HM[A-Z0-9]{8}|[A-Z0-9]{6})\)$")
_AIRBNB_LEGACY_PHONE_RE = re.compile(r"^PHONE:(?P<phone>[^\n]*)$", re.MULTILINE)

_BOOKING_CLOSED_RE = re.compile(r"^closed ?- ?not available$")
# Booking.com before ~2022: `CLOSED - <guest full name>`, sometimes with a leading space (§2.1).
_BOOKING_LEGACY_RE = re.compile(r"^\s*CLOSED\s*-\s*(?P<name>.+?)\s*$", re.IGNORECASE)


def classify_event(platform: Platform, summary: str, description: str = "") -> Classification:
    """Kind and extracted fields of one event, from its SUMMARY (and, for Airbnb, its DESCRIPTION).

    Booking.com: every current event is `CLOSED - Not available`, whether a guest booked or the host closed
    the dates (§2.1). It is classified as a RESERVATION so that the host is told about every new Booking.com
    stay; availability-window closures become WINDOW afterwards (`mark_windows`), with the whole feed in view.

    An unknown summary is a RESERVATION: a missed alert costs more than an extra one.
    """
    norm = normalize(summary)
    if platform is Platform.AIRBNB:
        return _classify_airbnb(summary, norm, description)
    if platform is Platform.BOOKING:
        if _BOOKING_CLOSED_RE.match(norm):
            return Classification(Kind.RESERVATION)
        legacy = _BOOKING_LEGACY_RE.match(summary)
        if legacy:
            return Classification(Kind.RESERVATION, guest_name=legacy["name"])
    elif platform is Platform.VRBO:
        if _VRBO_TENTATIVE_RE.match(norm):
            return Classification(Kind.TENTATIVE, guest_name=_name_after_dash(summary))
        if _VRBO_RESERVED_RE.match(norm):
            return Classification(Kind.RESERVATION, guest_name=_name_after_dash(summary))
    elif platform is Platform.AGODA and norm == "booked":
        return Classification(Kind.RESERVATION)
    return Classification(Kind.BLOCK if _BLOCK_RE.search(norm) else Kind.RESERVATION)


def _classify_airbnb(summary: str, norm: str, description: str) -> Classification:
    # Merged multi-listing exports prefix the summary with the listing id (`1355… Reserved`), hence endswith.
    if norm == "reserved" or norm.endswith(" reserved"):
        return Classification(Kind.RESERVATION, **_airbnb_description_fields(description))
    if "not available" in norm:
        return Classification(Kind.BLOCK)
    legacy = _AIRBNB_LEGACY_RE.match(summary.strip())
    if legacy:
        phone = _AIRBNB_LEGACY_PHONE_RE.search(description)
        digits = re.sub(r"\D", "", phone["phone"]) if phone else ""
        return Classification(
            Kind.RESERVATION,
            guest_name=legacy["name"],
            reservation_code=legacy["code"],
            phone_last4=digits[-4:] if len(digits) >= 4 else None,
        )
    if _BLOCK_RE.search(norm):
        return Classification(Kind.BLOCK)
    return Classification(Kind.RESERVATION, **_airbnb_description_fields(description))


def _airbnb_description_fields(description: str) -> dict[str, str | None]:
    code = _AIRBNB_CODE_RE.search(description)
    phone = _AIRBNB_PHONE_RE.search(description)
    return {"reservation_code": code[1] if code else None, "phone_last4": phone[1] if phone else None}


def _name_after_dash(summary: str) -> str | None:
    match = _NAME_AFTER_DASH_RE.match(summary.strip())
    return (match["name"] or None) if match else None


# --- availability windows ---------------------------------------------------------------------------------

# How far ahead each platform exports, measured on the replays: Airbnb's last DTEND is fetch date + 366 days,
# Booking.com's is fetch date + 18 months (546-550 days). An event that ends there is cut by the horizon: its
# real end is unknown and it grows by a day each day (§1.4, §2.2). The slack covers fetch time and time zones.
_HORIZON_DAYS = {Platform.AIRBNB: 366, Platform.BOOKING: 546}
_HORIZON_SLACK_DAYS = 5
# Longer than any one guest stay Booking.com accepts (30 nights by default, 90 with long stays enabled), so a
# closure this long that ends the feed is a "closed until further notice" setting, not a stay.
_WINDOW_MIN_NIGHTS = 91


def mark_windows(events: list[FeedEvent], platform: Platform, today: date | None) -> list[FeedEvent]:
    """Turn availability-window blocks into Kind.WINDOW: they must never alert (PRODUCT.md, item 3).

    A window is an Airbnb block, or a Booking.com `CLOSED - Not available`, that ends the feed (its check_out
    is the latest one) and either reaches the platform's export horizon (needs `today`) or lasts longer than
    any stay can. Advance-notice blocks starting today stay BLOCKs: they do not reach the horizon.
    A real stay ending within the slack of the horizon is a WINDOW for those few days, then a RESERVATION.
    """
    horizon = _HORIZON_DAYS.get(platform)
    if horizon is None or not events:
        return events
    last_check_out = max(event.check_out for event in events)
    reach = today + timedelta(days=horizon - _HORIZON_SLACK_DAYS) if today else None
    return [
        replace(event, kind=Kind.WINDOW)
        if event.check_out == last_check_out
        and _is_window_candidate(platform, event)
        and ((reach is not None and event.check_out >= reach) or event.nights >= _WINDOW_MIN_NIGHTS)
        else event
        for event in events
    ]


def _is_window_candidate(platform: Platform, event: FeedEvent) -> bool:
    if platform is Platform.AIRBNB:
        return event.kind is Kind.BLOCK
    return event.kind is Kind.RESERVATION and _BOOKING_CLOSED_RE.match(normalize(event.summary)) is not None
