"""Download calendar feeds safely: bounded in time, size, concurrency and destination.

I/O only: returns bytes plus metadata and never parses iCal. Network problems never raise; they come back as a
``FetchResult`` with ``status="failed"`` and one of the ``REASONS`` codes, which the bot localizes:

- ``invalid_url``: not http/https, no host, or unparseable (also for a bad redirect Location).
- ``private_address``: the host is, or resolves to, a non-public address (unless ``allow_private``).
- ``dns``: the host name does not resolve.
- ``connect``: connection refused or unreachable, TLS handshake failure.
- ``timeout``: the whole request, redirects and body included, missed the deadline.
- ``too_many_redirects``: more than ``max_redirects`` hops.
- ``http_error``: any final status other than 2xx/304 (4xx/5xx; ``http_status`` tells 404/410 apart).
- ``too_large``: the (decompressed) body exceeds ``max_body_bytes``.
- ``html``: an HTML page (typically a login page) instead of a calendar: the body opens with HTML markup (the
  parser's own rule, ``domain.calendar.parse.looks_like_html``), or it is labelled text/html and is neither empty
  nor ``BEGIN:VCALENDAR``.
- ``truncated``: the connection broke mid-body (short of Content-Length, or a protocol error).
- ``network``: any other transport error, including an unsupported or corrupt Content-Encoding.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import ipaddress
import logging
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Literal, Protocol, get_args
from urllib.parse import urlsplit

import httpx

from domain.calendar.parse import looks_like_html

log = logging.getLogger("lumina.fetch")

Status = Literal["ok", "not_modified", "failed"]
Reason = Literal[
    "invalid_url",
    "private_address",
    "dns",
    "connect",
    "timeout",
    "too_many_redirects",
    "http_error",
    "too_large",
    "html",
    "truncated",
    "network",
]
REASONS: Final[frozenset[str]] = frozenset(get_args(Reason))

# (host, port) -> IP address strings. Injectable so tests can map names without real DNS.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_HTML_MEDIA_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
_MAX_DETAIL: Final = 200


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("lumina")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"LUMINA/{version} (+calendar sync)"


@dataclass(frozen=True, slots=True)
class FetchConfig:
    connect_timeout: float = 10.0
    total_timeout: float = 30.0  # hard deadline over DNS, every redirect hop and the whole body
    max_redirects: int = 5
    max_body_bytes: int = 5 * 1024 * 1024
    max_concurrency: int = 20
    per_host_concurrency: int = 4
    allow_private: bool = False  # only for development against local servers
    user_agent: str = field(default_factory=_user_agent)


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: Status
    body: bytes = field(default=b"", repr=False)  # empty unless status == "ok"
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    reason: Reason | None = None  # set only when status == "failed"
    detail: str = ""
    elapsed_s: float = 0.0
    final_url: str = field(default="", repr=False)  # carries the feed's secret token: never log it
    content_type: str | None = None


class _Failure(Exception):
    def __init__(self, reason: Reason, detail: str, response: httpx.Response | None = None) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail[:_MAX_DETAIL]
        self.response = response


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # The kernel treats ::ffff:127.0.0.1 as 127.0.0.1; 6to4/NAT64 relays forward to the embedded IPv4.
        embedded = ip.ipv4_mapped or ip.sixtofour or _nat64_embedded(ip)
        if embedded is not None:
            ip = embedded
    # is_global alone lets multicast through, and reserved ranges have no business serving feeds.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _nat64_embedded(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None


def redact_url(url: str) -> str:
    """Scheme, host and first path segment only: the rest of a feed URL (path and query) is a secret token.

    Credentials are dropped. A lone path segment is masked too, as it usually is the token itself.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    host = parts.netloc.rpartition("@")[2]
    segments = [s for s in parts.path.split("/") if s]
    kept = segments[0] if len(segments) > 1 else ""
    secret = len(segments) > (1 if kept else 0) or bool(parts.query or parts.fragment)
    return f"{parts.scheme}://{host}" + (f"/{kept}" if kept else "") + ("/***" if secret else "")


class _Decoder(Protocol):
    def decode(self, data: bytes, budget: int) -> bytes: ...
    def complete(self) -> bool: ...


class _Identity:
    def decode(self, data: bytes, budget: int) -> bytes:
        return data

    def complete(self) -> bool:
        return True


class _Gunzip:
    """Decompresses ourselves instead of letting httpx do it: httpx inflates each network chunk without a cap,
    so a 50 KB gzip bomb would become 50 MB in memory before any size check could run."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._fed = False

    def decode(self, data: bytes, budget: int) -> bytes:
        self._fed = self._fed or bool(data)
        return self._inflater.decompress(data, budget)  # never more than budget bytes out; raises zlib.error

    def complete(self) -> bool:
        return self._inflater.eof or not self._fed  # an empty gzip-labelled body is just empty


def _decoder_for(response: httpx.Response) -> _Decoder:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip"):
        return _Gunzip()
    raise _Failure("network", f"unsupported content-encoding {encoding!r}", response)


def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise _Failure("invalid_url", "unparseable URL") from exc
    _require_http(parsed)
    return parsed


def _require_http(url: httpx.URL) -> None:
    if url.scheme not in ("http", "https"):
        raise _Failure("invalid_url", f"scheme {url.scheme!r} is not http/https")
    try:
        host = url.host  # decodes an IDNA name ("xn--…"), which may be malformed
    except UnicodeError:
        raise _Failure("invalid_url", "the host name is not valid") from None
    if not host:
        raise _Failure("invalid_url", "URL has no host")


def _redirect_target(response: httpx.Response) -> httpx.URL | None:
    location = response.headers.get("location")
    if response.status_code not in _REDIRECT_STATUSES or not location:
        return None
    try:
        return response.url.join(location)
    except httpx.InvalidURL as exc:
        raise _Failure("invalid_url", "unparseable redirect Location", response) from exc


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _looks_like_html(content_type: str | None, body: bytes) -> bool:
    head = body[:1024].removeprefix(_UTF8_BOM).lstrip().lower()
    if looks_like_html(head.decode("utf-8", "replace")):
        return True
    # Some channel managers label real feeds (or Booking's empty one) text/html; those are not login pages.
    is_calendar = not head or head.startswith(b"begin:vcalendar")
    return _media_type(content_type) in _HTML_MEDIA_TYPES and not is_calendar


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:_MAX_DETAIL]


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


class FeedFetcher:
    """Owns the one shared HTTP client. Create once per process, ``aclose()`` on shutdown."""

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,  # tests only
    ) -> None:
        self._config = config or FetchConfig()
        self._resolver = resolver
        self._global_slots = asyncio.Semaphore(self._config.max_concurrency)
        # One entry per distinct feed host; feeds come from a handful of platforms, so this stays small.
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(self._config.total_timeout, connect=self._config.connect_timeout),
            limits=httpx.Limits(max_connections=self._config.max_concurrency),
            follow_redirects=False,  # redirects are walked by hand so each hop passes the address check
            # A proxy from the environment would resolve names itself (bypassing the check) and
            # .netrc could attach credentials to arbitrary hosts.
            trust_env=False,
            headers={
                "User-Agent": self._config.user_agent,
                "Accept": "text/calendar, */*;q=0.5",
                "Accept-Encoding": "gzip",  # the only coding _Gunzip handles with a memory cap
            },
        )

    async def __aenter__(self) -> FeedFetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET a feed conditionally. ``elapsed_s`` excludes time spent queueing for a concurrency slot."""
        try:
            first = _parse_url(url)
        except _Failure as failure:
            return self._logged(url, self._failed(failure, url, time.monotonic()))
        async with self._slots(first.host):
            result = await self._fetch(first, etag, last_modified)
        return self._logged(url, result)

    @asynccontextmanager
    async def _slots(self, host: str) -> AsyncIterator[None]:
        # Per-host first, so a burst to one host cannot hold global slots while queueing on its own limit.
        host_slots = self._host_slots.setdefault(host, asyncio.Semaphore(self._config.per_host_concurrency))
        async with host_slots, self._global_slots:
            yield

    async def _fetch(self, hop: httpx.URL, etag: str | None, last_modified: str | None) -> FetchResult:
        started = time.monotonic()
        headers = _conditional_headers(etag, last_modified)
        try:
            async with asyncio.timeout(self._config.total_timeout):
                for _ in range(self._config.max_redirects + 1):
                    await self._check_destination(hop)
                    async with self._client.stream("GET", hop, headers=headers) as response:
                        target = _redirect_target(response)
                        if target is None:
                            return await self._complete(response, etag, last_modified, started)
                    hop = target
                raise _Failure("too_many_redirects", f"more than {self._config.max_redirects} redirects")
        except _Failure as failure:
            return self._failed(failure, str(hop), started)
        except (TimeoutError, httpx.TransportError) as exc:
            return self._failed(self._transport_failure(exc), str(hop), started)
        except UnicodeError:  # a host name the IDNA codec refuses, met while connecting
            return self._failed(_Failure("invalid_url", "not a valid host name"), str(hop), started)

    def _transport_failure(self, exc: Exception) -> _Failure:
        if isinstance(exc, TimeoutError | httpx.TimeoutException):
            return _Failure("timeout", f"no complete response within {self._config.total_timeout:g}s")
        if isinstance(exc, httpx.ConnectError):
            return _Failure("connect", _describe(exc))
        return _Failure("network", f"{type(exc).__name__}: {_describe(exc)}")

    async def _check_destination(self, url: httpx.URL) -> None:
        """Refuses any host that is, or resolves to, a non-public address.

        Residual DNS-rebinding window: httpx resolves the name again when connecting, so a hostile DNS server
        answering public-then-private within milliseconds could slip through. The check runs right before each
        hop's connection (including every redirect) to keep that window as small as practical; closing it
        fully needs connecting to the vetted address itself (a custom httpcore network backend).
        """
        _require_http(url)
        host = url.raw_host.decode("ascii")  # IDNA-encoded, as DNS sees it
        addresses = await self._resolve(host, url.port or (443 if url.scheme == "https" else 80))
        if self._config.allow_private:
            return
        for address in addresses:
            if not is_public_address(address):
                raise _Failure("private_address", f"{host} is non-public ({address})")

    async def _resolve(self, host: str, port: int) -> Sequence[str]:
        try:
            return [str(ipaddress.ip_address(host))]  # a literal needs no lookup
        except ValueError:
            pass
        try:
            addresses = await self._resolver(host, port)
        except OSError as exc:  # socket.gaierror
            raise _Failure("dns", f"{host} does not resolve: {_describe(exc)}") from exc
        except UnicodeError as exc:  # an empty or 64-character label ("a..com"): the IDNA codec refuses it
            raise _Failure("invalid_url", f"{host[:100]} is not a valid host name") from exc
        if not addresses:
            raise _Failure("dns", f"{host} resolved to no address")
        return addresses

    async def _complete(
        self, response: httpx.Response, etag: str | None, last_modified: str | None, started: float
    ) -> FetchResult:
        code = response.status_code
        if code == 304:
            # A 304 may omit validators; echo the ones sent so the caller keeps using them.
            return self._result(
                response,
                "not_modified",
                started,
                etag=response.headers.get("etag", etag),
                last_modified=response.headers.get("last-modified", last_modified),
            )
        if not 200 <= code < 300:
            raise _Failure("http_error", f"HTTP {code} {response.reason_phrase}", response)
        body = await self._read_body(response)
        if _looks_like_html(response.headers.get("content-type"), body):
            raise _Failure("html", "got an HTML page, not a calendar (login page or wrong link?)", response)
        return self._result(response, "ok", started, body=body)

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self._config.max_body_bytes
        decoder = _decoder_for(response)
        declared = response.headers.get("content-length", "")
        # Only an unencoded length is the body size (a small gzipped body can be longer than its content).
        if isinstance(decoder, _Identity) and declared.isdigit() and int(declared) > limit:
            raise _Failure("too_large", f"Content-Length {declared} exceeds {limit} bytes", response)
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += decoder.decode(chunk, limit - len(body) + 1)  # +1 so overflow is detectable
                if len(body) > limit:
                    raise _Failure("too_large", f"body exceeds {limit} bytes", response)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Failure("truncated", _describe(exc), response) from exc
        except zlib.error as exc:
            raise _Failure("network", f"corrupt gzip body: {exc}", response) from exc
        if not decoder.complete():
            raise _Failure("truncated", "gzip stream ended early", response)
        return bytes(body)

    def _result(
        self,
        response: httpx.Response,
        status: Status,
        started: float,
        *,
        body: bytes = b"",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        return FetchResult(
            status=status,
            body=body,
            etag=etag or response.headers.get("etag"),
            last_modified=last_modified or response.headers.get("last-modified"),
            http_status=response.status_code,
            elapsed_s=time.monotonic() - started,
            final_url=str(response.url),
            content_type=response.headers.get("content-type"),
        )

    @staticmethod
    def _failed(failure: _Failure, url: str, started: float) -> FetchResult:
        response = failure.response
        return FetchResult(
            status="failed",
            reason=failure.reason,
            detail=failure.detail,
            http_status=response.status_code if response is not None else None,
            elapsed_s=time.monotonic() - started,
            final_url=str(response.url) if response is not None else url,
            content_type=response.headers.get("content-type") if response is not None else None,
        )

    @staticmethod
    def _logged(url: str, result: FetchResult) -> FetchResult:
        redacted = redact_url(url)
        level = logging.INFO if result.status == "failed" else logging.DEBUG
        log.log(
            level,
            "feed fetch %s%s %s",
            result.status,
            f" ({result.reason}: {result.detail})" if result.reason else "",
            redacted,
            extra={
                "feed_url": redacted,
                "fetch_status": result.status,
                "fetch_reason": result.reason,
                "http_status": result.http_status,
                "elapsed_s": round(result.elapsed_s, 3),
            },
        )
        return result
