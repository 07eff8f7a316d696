"""Feed words: platform names and why a download failed, in the user's language."""

from __future__ import annotations

from bot.i18n import _, ngettext
from domain.calendar.model import PLATFORM_NAMES, Platform


def platform_name(platform: str, label: str | None = None) -> str:
    if label:
        return label
    return "LUMINA" if platform == Platform.DIRECT else PLATFORM_NAMES.get(platform, _("Calendar"))


def source_name(source: str) -> str:
    """Where a stay came from: a platform's name, or "Direct" for one made in the chat."""
    return _("Direct") if source == Platform.DIRECT else platform_name(source)


_KNOWN = frozenset({"html", "not_calendar", "truncated", "invalid", "unusable", "timeout", "too_large",
                    "too_many_events", "http_error", "dns", "connect", "too_many_redirects", "invalid_url",
                    "private_address"})


def failure_reason(reason: str | None, *, retrying: bool = True) -> str:
    """Short, localized, and says what to do next. `retrying`: the feed is kept and fetched again (a sync); a link
    being added is not (nothing was added), so its reason promises no retry."""
    if not retrying:
        facts = {
            "truncated": _("the calendar arrived cut short."),
            "unusable": _("none of the calendar's events could be read."),
            "timeout": _("the platform took too long to answer."),
            "connect": _("could not connect to the platform."),
            None: _("the download failed."),
        }
        if reason in facts or reason is None:
            return facts[reason]
        if reason not in _KNOWN:
            return facts[None]
    texts = {
        "html": _("the link returned a web page (a login page?), not a calendar. Copy the export link again."),
        "not_calendar": _("the link does not return a calendar. Check that it is the iCal export link."),
        "truncated": _("the calendar arrived cut short. I will try again."),
        "invalid": _("the calendar is damaged and could not be read."),
        "unusable": _("none of the calendar's events could be read, so nothing was changed. I will try again."),
        "timeout": _("the platform took too long to answer. I will try again."),
        "too_large": _("the calendar is too large."),
        "too_many_events": _("the calendar has far more events than a rental calendar can have."),
        "http_error": _("the platform answered with an error. If it persists, copy the export link again."),
        "dns": _("the address does not exist. Check the link."),
        "connect": _("could not connect to the platform. I will try again."),
        "too_many_redirects": _("the link redirects too many times."),
        "invalid_url": _("this is not a valid http(s) link."),
        "private_address": _("this link points to a private network address, which is not allowed."),
    }
    return texts.get(reason or "", _("the download failed. I will try again."))


def feed_summary(platform: str, label: str | None, reservations: int, blocks: int, next_check_in: str | None) -> str:
    """ "Airbnb · 4 reservations · 2 blocked periods · next check-in 12/08"."""
    parts = [
        platform_name(platform, label),
        ngettext("{n} reservation", "{n} reservations", reservations).format(n=reservations)
        if reservations
        else _("no reservations"),
        ngettext("{n} blocked period", "{n} blocked periods", blocks).format(n=blocks)
        if blocks
        else _("no blocked periods"),
    ]
    if next_check_in:
        parts.append(_("next check-in {day}").format(day=next_check_in))
    return " · ".join(parts)
