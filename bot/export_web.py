"""GET/HEAD /ical/<token>/<target>.ics: the channel export feed over HTTP, with conditional requests.

The platforms poll these URLs (Airbnb roughly every few hours, others more often), so an unchanged feed is
answered with 304 from its ETag. Misses are counted per client address (as seen through LUMINA_TRUSTED_PROXIES): a
token has 192 random bits, but a client that keeps guessing gets 429 instead of more answers. A valid token is
never limited.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from email.utils import format_datetime
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import hdrs, web

from bot.services import Services
from domain.export import ExportFeed, load_export_feed

ROUTE = "/ical/{token}/{target}.ics"
CACHE_CONTROL = "private, max-age=300"
_NOT_FOUND = "Not found\n"  # the same for every miss: nothing says whether the property exists
_NO_STORE = {hdrs.CACHE_CONTROL: "no-store"}


class MissLimiter:
    """At most `max_misses` unknown-token answers per client address in a sliding `window` of seconds.

    Memory is bounded: one deque of at most `max_misses` floats per address, for at most `max_addresses`
    addresses (the least recently missing one is forgotten first). In-process only: with several instances,
    each counts its own.
    """

    def __init__(
        self,
        *,
        max_misses: int = 20,
        window: float = 600.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_misses = max_misses
        self._window = window
        self._max_addresses = max_addresses
        self._clock = clock
        self._misses: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may try again, or None when it is not limited."""
        misses = self._misses.get(address)
        if misses is None or len(misses) < self._max_misses:
            return None
        wait = self._window - (self._clock() - misses[0])
        return math.ceil(wait) if wait > 0 else None

    def record_miss(self, address: str) -> None:
        misses = self._misses.get(address)
        if misses is None:
            misses = self._misses[address] = deque(maxlen=self._max_misses)
            if len(self._misses) > self._max_addresses:
                self._misses.popitem(last=False)
        else:
            self._misses.move_to_end(address)
        misses.append(self._clock())

    def __len__(self) -> int:
        return len(self._misses)


class ExportFeedHandler:
    def __init__(self, services: Services, limiter: MissLimiter) -> None:
        self._services = services
        self._limiter = limiter

    async def handle(self, request: web.Request) -> web.StreamResponse:
        async with self._services.sessions() as session:
            feed = await load_export_feed(
                session, request.match_info["token"], request.match_info["target"], now=self._services.clock()
            )
        if feed is None:
            # Only misses are limited, per client: a valid token is always served, so guessers behind the same
            # proxy as Airbnb or Booking.com can never lock the platforms out.
            address = client_address(request, self._services.settings.trusted_proxies)
            wait = self._limiter.retry_after(address)
            if wait is not None:
                return web.Response(
                    status=429, text="Too many requests\n", headers={hdrs.RETRY_AFTER: str(wait), **_NO_STORE}
                )
            self._limiter.record_miss(address)
            return web.Response(status=404, text=_NOT_FOUND, headers=_NO_STORE)
        headers = {
            hdrs.ETAG: feed.etag,
            hdrs.LAST_MODIFIED: format_datetime(feed.last_modified, usegmt=True),
            hdrs.CACHE_CONTROL: CACHE_CONTROL,
        }
        if not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        return web.Response(body=feed.body, content_type="text/calendar", charset="utf-8", headers=headers)


def client_address(request: web.Request, trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """The client as the trusted proxies saw it: walking X-Forwarded-For from the right, the first address that is
    not one of them. Without trusted proxies (or from anyone else) the connecting address, whatever the header says."""
    address = request.remote or "unknown"
    if not trusted or not _within(address, trusted):
        return address
    for hop in reversed(request.headers.getall(hdrs.X_FORWARDED_FOR, [])):
        for candidate in reversed([part.strip() for part in hop.split(",")]):
            if not _within(candidate, trusted):
                return candidate or address
    return address


def _within(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def not_modified(request: web.Request, feed: ExportFeed) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison); else If-Modified-Since."""
    if hdrs.IF_NONE_MATCH in request.headers:
        tags = request.if_none_match or ()
        return any(tag.value == "*" or f'"{tag.value}"' == feed.etag for tag in tags)
    since = request.if_modified_since
    return since is not None and feed.last_modified <= since
