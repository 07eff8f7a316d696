"""FeedFetcher against a real HTTP server on 127.0.0.1.

Nothing here may reach a non-loopback address: tests that need "public" names inject a resolver and route
connections through a transport that only knows 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager

import httpx
import pytest

from jobs.fetch import REASONS, FeedFetcher, FetchConfig, is_public_address, redact_url, system_resolver
from tests.support.feed_server import FeedServer

CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"
FAKE_PUBLIC_IP = "93.184.215.14"  # never contacted: LoopbackTransport sends everything to 127.0.0.1
MB = 1024 * 1024


class FakeResolver:
    """Answers from a fixed table and records every lookup; unknown names fail like NXDOMAIN."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table or {}
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


class LoopbackTransport(httpx.AsyncBaseTransport):
    """Sends every request to 127.0.0.1 (Host header kept), so fake public names reach the test server."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host in self.names | {"127.0.0.1"}, f"unexpected host {request.url.host}"
        local = httpx.Request(
            request.method,
            request.url.copy_with(host="127.0.0.1"),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self.inner.handle_async_request(local)

    async def aclose(self) -> None:
        await self.inner.aclose()


def refusing_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise AssertionError(f"no connection expected, got one to {request.url.host}")

    return httpx.MockTransport(handler)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    async with FeedFetcher(FetchConfig(allow_private=True, total_timeout=5.0)) as feed_fetcher:
        yield feed_fetcher


def local_config(**overrides: object) -> FetchConfig:
    options: dict = {"allow_private": True, "total_timeout": 5.0, **overrides}
    return FetchConfig(**options)


# --- success paths ---


async def test_ok_returns_body_and_metadata(server: FeedServer, fetcher: FeedFetcher) -> None:
    lm = "Wed, 21 Oct 2026 07:28:00 GMT"
    server.route("/cal.ics", body=CALENDAR, etag='"v1"', last_modified=lm)

    result = await fetcher.fetch(server.url("/cal.ics"))

    assert result.status == "ok"
    assert result.body == CALENDAR
    assert (result.etag, result.last_modified, result.http_status) == ('"v1"', lm, 200)
    assert result.reason is None
    assert result.content_type == "text/calendar; charset=utf-8"
    assert result.final_url == server.url("/cal.ics")
    assert result.elapsed_s > 0


async def test_sends_user_agent_and_gzip_only(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/cal.ics", body=CALENDAR)

    await fetcher.fetch(server.url("/cal.ics"))

    headers = server.requests["/cal.ics"][0]
    assert re.fullmatch(r"LUMINA/\S+ \(\+calendar sync\)", headers["User-Agent"])
    assert headers["Accept-Encoding"] == "gzip"


async def test_gzip_body_is_decompressed(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/cal.ics", body=CALENDAR, gzip=True)

    result = await fetcher.fetch(server.url("/cal.ics"))

    assert (result.status, result.body) == ("ok", CALENDAR)


async def test_empty_body_is_ok(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/empty.ics", body=b"")

    result = await fetcher.fetch(server.url("/empty.ics"))

    assert (result.status, result.body, result.http_status) == ("ok", b"", 200)


async def test_credentials_in_url_are_sent_as_basic_auth(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/cal.ics", body=CALENDAR)

    result = await fetcher.fetch(server.url("/cal.ics").replace("http://", "http://host:s3cret@"))

    assert result.status == "ok"
    expected = "Basic " + base64.b64encode(b"host:s3cret").decode()
    assert server.requests["/cal.ics"][0]["Authorization"] == expected


async def test_redirect_is_followed(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/old", redirect_to="/cal.ics", redirect_status=301)
    server.route("/cal.ics", body=CALENDAR)

    result = await fetcher.fetch(server.url("/old"))

    assert (result.status, result.body) == ("ok", CALENDAR)
    assert result.final_url == server.url("/cal.ics")


# --- conditional GET ---


async def test_not_modified_when_validators_match(server: FeedServer, fetcher: FeedFetcher) -> None:
    lm = "Wed, 21 Oct 2026 07:28:00 GMT"
    server.route("/cal.ics", body=CALENDAR, etag='"v1"', last_modified=lm)

    result = await fetcher.fetch(server.url("/cal.ics"), etag='"v1"', last_modified=lm)

    assert (result.status, result.body, result.http_status) == ("not_modified", b"", 304)
    assert (result.etag, result.last_modified) == ('"v1"', lm)
    sent = server.requests["/cal.ics"][0]
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == ('"v1"', lm)


async def test_not_modified_echoes_validators_the_server_omitted(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    lm = "Wed, 21 Oct 2026 07:28:00 GMT"
    server.route("/cal.ics", body=CALENDAR, last_modified=lm)  # its 304 carries no ETag

    result = await fetcher.fetch(server.url("/cal.ics"), etag='"old"', last_modified=lm)

    assert (result.status, result.etag, result.last_modified) == ("not_modified", '"old"', lm)


async def test_changed_feed_returns_new_body_and_validators(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/cal.ics", body=CALENDAR, etag='"v2"')

    result = await fetcher.fetch(server.url("/cal.ics"), etag='"v1"')

    assert (result.status, result.body, result.etag) == ("ok", CALENDAR, '"v2"')


# --- failures from the server ---


@pytest.mark.parametrize("code", [404, 410, 500, 503])
async def test_http_error_keeps_status(server: FeedServer, fetcher: FeedFetcher, code: int) -> None:
    server.route("/cal.ics", body=b"nope", status=code, content_type="text/plain")

    result = await fetcher.fetch(server.url("/cal.ics"))

    assert (result.status, result.reason, result.http_status) == ("failed", "http_error", code)
    assert result.body == b""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><body>Log in</body></html>", "text/html; charset=utf-8"),
        (b"\xef\xbb\xbf \r\n\t<HTML lang=en><body>Sign in</body></HTML>", "text/calendar"),  # mislabelled
        (b"Please log in", "text/html"),
    ],
)
async def test_html_page_is_rejected(
    server: FeedServer, fetcher: FeedFetcher, body: bytes, content_type: str
) -> None:
    server.route("/cal.ics", body=body, content_type=content_type)

    result = await fetcher.fetch(server.url("/cal.ics"))

    assert (result.status, result.reason, result.http_status, result.body) == ("failed", "html", 200, b"")


async def test_login_page_helper_is_rejected(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.html_page("/login")

    assert (await fetcher.fetch(server.url("/login"))).reason == "html"


@pytest.mark.parametrize("body", [CALENDAR, b""])
async def test_calendar_or_empty_body_labelled_html_is_ok(
    server: FeedServer, fetcher: FeedFetcher, body: bytes
) -> None:
    server.route("/ical.html", body=body, content_type="text/html")

    result = await fetcher.fetch(server.url("/ical.html"))

    assert (result.status, result.body) == ("ok", body)


async def test_connection_closed_mid_body_is_truncated(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/cal.ics", body=CALENDAR * 100, close_after=100)

    result = await fetcher.fetch(server.url("/cal.ics"))

    assert (result.status, result.reason, result.http_status) == ("failed", "truncated", 200)


async def test_gzip_stream_cut_short_is_truncated(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/cal.ics", body=CALENDAR * 100, gzip=True, close_after=20)

    assert (await fetcher.fetch(server.url("/cal.ics"))).reason == "truncated"


# --- time and size bounds ---


async def test_no_headers_before_deadline_is_timeout(server: FeedServer) -> None:
    server.route("/slow.ics", body=CALENDAR, delay_s=5.0)

    async with FeedFetcher(local_config(total_timeout=0.5)) as fetcher:
        started = time.monotonic()
        result = await fetcher.fetch(server.url("/slow.ics"))

    assert (result.status, result.reason) == ("failed", "timeout")
    assert time.monotonic() - started < 1.5


async def test_slow_drip_body_hits_the_hard_deadline(server: FeedServer) -> None:
    # Every read succeeds within 50 ms, so only a whole-request deadline can stop this.
    server.route("/drip.ics", body=CALENDAR * 10, drip_interval_s=0.05, drip_bytes=5)

    async with FeedFetcher(local_config(total_timeout=0.5)) as fetcher:
        started = time.monotonic()
        result = await fetcher.fetch(server.url("/drip.ics"))

    assert (result.status, result.reason) == ("failed", "timeout")
    assert time.monotonic() - started < 1.5


@contextmanager
def peak_allocation() -> Iterator[list[int]]:
    """Yields a list that receives the peak of traced allocations above the starting level, in bytes."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline, _ = tracemalloc.get_traced_memory()
    peak: list[int] = []
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1] - baseline)
        if not was_tracing:
            tracemalloc.stop()


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip-bomb"])
async def test_50mb_stream_aborted_as_too_large(server: FeedServer, fetcher: FeedFetcher, gzip: bool) -> None:
    limit = FetchConfig().max_body_bytes  # 5 MB
    server.route("/huge.ics", generated_bytes=50 * MB, gzip=gzip)

    started = time.monotonic()
    with peak_allocation() as peak:
        result = await fetcher.fetch(server.url("/huge.ics"))

    assert (result.status, result.reason, result.body) == ("failed", "too_large", b"")
    assert time.monotonic() - started < 3.0
    # The body buffer plus one decompressed step, never the 50 MB (the server shares this process's memory).
    assert peak[0] < 2.5 * limit, f"peak {peak[0] / MB:.1f} MB"
    if not gzip:  # the server got cut off soon after the limit (socket buffers hold a few MB)
        assert server.bytes_sent["/huge.ics"] < limit + 20 * MB


async def test_declared_content_length_over_limit_is_refused_before_reading(server: FeedServer) -> None:
    server.route("/big.ics", body=CALENDAR * 100)

    async with FeedFetcher(local_config(max_body_bytes=1000)) as fetcher:
        result = await fetcher.fetch(server.url("/big.ics"))

    assert (result.status, result.reason, result.http_status) == ("failed", "too_large", 200)
    assert "Content-Length" in result.detail


async def test_body_exactly_at_limit_is_ok(server: FeedServer) -> None:
    server.route("/cal.ics", body=CALENDAR, gzip=True)

    async with FeedFetcher(local_config(max_body_bytes=len(CALENDAR))) as fetcher:
        result = await fetcher.fetch(server.url("/cal.ics"))

    assert (result.status, result.body) == ("ok", CALENDAR)


# --- redirects ---


async def test_redirect_loop_is_too_many_redirects(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.redirect_loop("/loop")

    result = await fetcher.fetch(server.url("/loop"))

    assert (result.status, result.reason) == ("failed", "too_many_redirects")
    assert server.hits["/loop"] == FetchConfig().max_redirects + 1


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/internal",
        "http://metadata.feeds.example:{port}/internal",  # a name that resolves to link-local
        "http://[::ffff:127.0.0.1]:{port}/internal",
    ],
)
async def test_redirect_to_private_address_is_refused(server: FeedServer, target: str) -> None:
    resolver = FakeResolver(
        {"feeds.example.com": [FAKE_PUBLIC_IP], "metadata.feeds.example": ["169.254.169.254"]}
    )
    transport = LoopbackTransport({"feeds.example.com"})
    server.route("/start", redirect_to=target.format(port=server.port))
    server.route("/internal", body=CALENDAR)

    async with FeedFetcher(FetchConfig(total_timeout=5.0), resolver=resolver, transport=transport) as fetcher:
        result = await fetcher.fetch(f"http://feeds.example.com:{server.port}/start")

    assert (result.status, result.reason) == ("failed", "private_address")
    assert server.hits == {"/start": 1}  # the private target was never contacted


async def test_redirect_to_non_http_scheme_is_invalid(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/start", redirect_to="file:///etc/passwd")

    result = await fetcher.fetch(server.url("/start"))

    assert (result.status, result.reason) == ("failed", "invalid_url")


# --- destination checks (no connection may happen) ---


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x.ics", "file:///etc/passwd", "javascript:alert(1)", "http:///x.ics", "x.ics", ""],
)
async def test_invalid_url_is_refused(url: str) -> None:
    seen: list[httpx.Request] = []
    resolver = FakeResolver()

    async with FeedFetcher(resolver=resolver, transport=refusing_transport(seen)) as fetcher:
        result = await fetcher.fetch(url)

    assert (result.status, result.reason) == ("failed", "invalid_url")
    assert (seen, resolver.calls) == ([], [])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cal.ics",
        "http://10.0.0.1/cal.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cal.ics",
        "http://[::ffff:127.0.0.1]/cal.ics",
        "https://192.168.1.1:8443/cal.ics",
        "http://0.0.0.0/cal.ics",
        "http://[fe80::1]/cal.ics",
        "http://224.0.0.1/cal.ics",
    ],
)
async def test_private_literal_ip_refused_without_connection(url: str) -> None:
    seen: list[httpx.Request] = []
    resolver = FakeResolver()

    async with FeedFetcher(resolver=resolver, transport=refusing_transport(seen)) as fetcher:
        result = await fetcher.fetch(url)

    assert (result.status, result.reason, result.http_status) == ("failed", "private_address", None)
    assert (seen, resolver.calls) == ([], [])  # literals are checked without a lookup


async def test_name_with_any_private_address_is_refused() -> None:
    seen: list[httpx.Request] = []
    resolver = FakeResolver({"feeds.example.com": [FAKE_PUBLIC_IP, "10.1.2.3"]})

    async with FeedFetcher(resolver=resolver, transport=refusing_transport(seen)) as fetcher:
        result = await fetcher.fetch("https://feeds.example.com/cal.ics")

    assert (result.status, result.reason) == ("failed", "private_address")
    assert seen == []


@pytest.mark.parametrize("host", ["localhost", "2130706433"])  # both resolve locally, without DNS traffic
async def test_system_resolver_sees_through_loopback_names(server: FeedServer, host: str) -> None:
    async with FeedFetcher(FetchConfig(total_timeout=5.0)) as fetcher:
        result = await fetcher.fetch(f"http://{host}:{server.port}/cal.ics")

    assert (result.status, result.reason) == ("failed", "private_address")
    assert server.hits == {}


async def test_unresolvable_name_is_dns() -> None:
    seen: list[httpx.Request] = []

    async with FeedFetcher(resolver=FakeResolver(), transport=refusing_transport(seen)) as fetcher:
        result = await fetcher.fetch("https://no-such-host.example.com/cal.ics")

    assert (result.status, result.reason) == ("failed", "dns")
    assert seen == []


async def test_allow_private_still_reports_dns_failures() -> None:
    async with FeedFetcher(local_config(), resolver=FakeResolver()) as fetcher:
        result = await fetcher.fetch("http://no-such-host.example.com/cal.ics")

    assert result.reason == "dns"


async def test_system_resolver_returns_addresses() -> None:
    assert "127.0.0.1" in await system_resolver("localhost", 80)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::5db8:d70e", True),  # NAT64 of a public address (DNS64 networks)
        ("100.64.0.1", False),  # carrier-grade NAT
        ("172.16.0.1", False),
        ("239.255.255.250", False),
        ("ff02::1", False),
        ("::", False),
        ("fd00::1", False),
        ("2002:7f00:1::1", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 wrapping 10.0.0.1
        ("240.0.0.1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# --- transport failures ---


async def test_refused_connection_is_connect(fetcher: FeedFetcher) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = await fetcher.fetch(f"http://127.0.0.1:{port}/cal.ics")

    assert (result.status, result.reason) == ("failed", "connect")


async def test_garbage_response_is_network(fetcher: FeedFetcher) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(garbage, "127.0.0.1", 0)
    async with listener:
        port = listener.sockets[0].getsockname()[1]
        result = await fetcher.fetch(f"http://127.0.0.1:{port}/cal.ics")

    assert (result.status, result.reason) == ("failed", "network")


# --- concurrency ---


async def test_per_host_limit(server: FeedServer) -> None:
    server.route("/cal.ics", body=CALENDAR, delay_s=0.15)

    async with FeedFetcher(local_config(per_host_concurrency=2)) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url("/cal.ics")) for _ in range(6)))

    assert {r.status for r in results} == {"ok"}
    assert server.max_in_flight == 2


async def test_global_limit(server: FeedServer) -> None:
    server.route("/cal.ics", body=CALENDAR, delay_s=0.15)

    async with FeedFetcher(local_config(max_concurrency=3, per_host_concurrency=10)) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url("/cal.ics")) for _ in range(6)))

    assert {r.status for r in results} == {"ok"}
    assert server.max_in_flight == 3


# --- secrets ---


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        (
            "https://www.airbnb.com/calendar/ical/12345678.ics?s=0123456789abcdef",
            "https://www.airbnb.com/calendar/***",
        ),
        ("https://ical.booking.com/v1/export?t=8f14e45f-ceea-4672", "https://ical.booking.com/v1/***"),
        ("http://www.vrbo.com/icalendar/5f2b9c0e1a7d4e3b.ics", "http://www.vrbo.com/icalendar/***"),
        ("https://user:pa55@example.com:8443/feeds/x.ics", "https://example.com:8443/feeds/***"),
        ("https://example.com/0123456789abcdef.ics", "https://example.com/***"),  # lone segment = token
        ("https://example.com/?token=abc", "https://example.com/***"),
        ("https://example.com", "https://example.com"),
        ("http://[::1", "<unparseable url>"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


async def test_logs_carry_only_the_redacted_url(
    server: FeedServer, fetcher: FeedFetcher, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/calendar/ical/1.ics", status=404)
    url = server.url("/calendar/ical/1.ics?s=TOPSECRET").replace("http://", "http://me:PASSWORD@")

    with caplog.at_level(logging.DEBUG, logger="lumina.fetch"):
        result = await fetcher.fetch(url)

    assert result.reason == "http_error"
    assert "TOPSECRET" not in repr(result)  # final_url is kept out of the repr
    (record,) = [r for r in caplog.records if r.name == "lumina.fetch"]
    assert record.feed_url == f"http://127.0.0.1:{server.port}/calendar/***"  # type: ignore[attr-defined]
    assert (record.fetch_reason, record.http_status) == ("http_error", 404)  # type: ignore[attr-defined]
    logged = record.getMessage() + repr(record.__dict__)
    assert "TOPSECRET" not in logged and "PASSWORD" not in logged and "ical/1.ics" not in logged


def test_reason_codes_are_a_fixed_set() -> None:
    assert {
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
    } == REASONS


@pytest.mark.parametrize("host", ["a..com", "a" * 64 + ".com"])
async def test_a_host_name_the_idna_codec_refuses_is_a_failed_download(host: str) -> None:
    """The system resolver raises UnicodeError (not OSError) for these before any lookup leaves the machine: a
    failed download with a reason, never an exception out of the sync."""
    async with FeedFetcher() as fetcher:
        result = await fetcher.fetch(f"http://{host}/x.ics")
    assert (result.status, result.reason) == ("failed", "invalid_url")
