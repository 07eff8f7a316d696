"""Export links as text: one message per property, each URL in <code> so Telegram copies it with one tap."""

from __future__ import annotations

import html

from bot.i18n import _
from domain.calendar.export import Target
from domain.export import ExportLinks


def feed_url(base_url: str, token: str, target: Target) -> str:
    return f"{base_url}/ical/{token}/{target.value}.ics"


def unreachable_warning(base_url: str) -> str:
    """Said with every link while LUMINA_PUBLIC_URL is not a public address: the platforms cannot fetch them."""
    return "⚠️ " + _text(
        _(
            "Airbnb, Booking.com and VRBO cannot reach these links: they point to {base}, which only this machine "
            "or its network can open. Set LUMINA_PUBLIC_URL to a public https address (your domain behind a reverse "
            "proxy, or a tunnel such as Cloudflare Tunnel or ngrok) and restart LUMINA; until then, do not paste "
            "them into the platforms."
        )
    ).format(base="<code>" + _text(base_url) + "</code>")


def links_text(links: ExportLinks, base_url: str, *, rotated: bool = False, reachable: bool = True) -> str:
    def url(target: Target) -> str:
        return "<code>" + _text(feed_url(base_url, links.token, target)) + "</code>"

    lines = [_text(_("Calendar links of {name}")).format(name=_bold(links.property_name))]
    if not reachable:
        lines += ["", unreachable_warning(base_url)]
    if rotated:
        lines.append(_text(_("New links: the old ones no longer work. Paste these into each platform again.")))
    lines += [
        "",
        "<b>Airbnb</b> — " + _text(_("Availability → Connect calendars → Import")),
        url(Target.AIRBNB),
        "",
        "<b>Booking.com</b> — " + _text(_("Rates & availability → Sync calendars → Add calendar connection")),
        url(Target.BOOKING),
        "",
        "<b>VRBO</b> — " + _text(_("Calendar → Import calendar")),
        url(Target.VRBO),
        "",
        _text(_("Everything, for your own calendar app:")),
        url(Target.ALL),
        "",
        _text(
            _(
                "Give each platform only its own link: it leaves out what came from that platform, so nothing "
                "echoes back. Anyone with a link can see which nights are taken; if one leaks, rotate it."
            )
        ),
    ]
    return "\n".join(lines)


def confirm_text(links: ExportLinks) -> str:
    return _text(
        _(
            "Rotate the links of {name}? The current links stop working at once, and you will have to paste the "
            "new ones into every platform again."
        )
    ).format(name=_bold(links.property_name))


def picker_text() -> str:
    return _text(_("Which property's calendar links do you want to see?"))


def _text(text: str) -> str:
    """Escaped for Telegram's HTML: text nodes only, so quotes stay as they are."""
    return html.escape(text, quote=False)


def _bold(text: str) -> str:
    return "<b>" + _text(text) + "</b>"
