"""GET/HEAD /ical/<token>/<target>.ics on the real web app (bot.web.create_web_app) over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from ipaddress import ip_network

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar
from sqlalchemy import select

from bot.export_web import MissLimiter
from bot.services import Services, build_services
from bot.settings import load_settings
from bot.web import create_web_app
from domain import export
from storage.models import Booking, Property

NOW = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)
CHANGED = NOW - timedelta(days=2)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@dataclass
class Web:
    client: TestClient
    services: Services
    token: str
    property_id: int
    monotonic: FakeMonotonic

    def url(self, target: str = "airbnb", token: str | None = None) -> str:
        return f"/ical/{token or self.token}/{target}.ics"


@pytest.fixture
async def web(database_url: str, tmp_path) -> AsyncIterator[Web]:
    services = build_services(load_settings(database_url=database_url, data_dir=tmp_path), clock=lambda: NOW)
    async with services.sessions.begin() as session:
        prop = Property(name="Apto Secreto 101", timezone="America/Sao_Paulo", export_token="x", created_at=CHANGED)
        session.add(prop)
        await session.flush()
        prop.export_token = export.new_export_token(prop.id)
        for n, (source, start) in enumerate((("direct", 3), ("airbnb", 10), ("booking", 20))):
            session.add(
                Booking(
                    property_id=prop.id,
                    source=source,
                    kind="reservation",
                    status="active",
                    export_uid=f"stay-{n}@lumina",
                    check_in=date(2026, 8, start),
                    check_out=date(2026, 8, start + 3),
                    created_at=CHANGED,
                )
            )
    monotonic = FakeMonotonic()
    app = create_web_app(services, export_limiter=MissLimiter(clock=monotonic))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Web(client, services, prop.export_token, prop.id, monotonic)
    await services.fetcher.aclose()
    await services.engine.dispose()


def _uids(body: bytes) -> list[str]:
    return [str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")]


async def test_200_with_calendar_headers(web: Web):
    response = await web.client.get(web.url("airbnb"))
    body = await response.read()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == CHANGED
    assert response.headers["Last-Modified"] == "Thu, 30 Jul 2026 13:00:00 GMT"
    assert body.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert _uids(body) == ["stay-0@lumina", "stay-2@lumina"]  # Airbnb's own stay stays home
    assert int(response.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("booking", ["stay-0@lumina", "stay-1@lumina"]),
        ("vrbo", ["stay-0@lumina", "stay-1@lumina", "stay-2@lumina"]),
        ("all", ["stay-0@lumina", "stay-1@lumina", "stay-2@lumina"]),
    ],
)
async def test_each_target(web: Web, target: str, expected: list[str]):
    response = await web.client.get(web.url(target))
    assert response.status == 200
    assert _uids(await response.read()) == expected


async def test_same_bytes_and_etag_on_every_request_while_nothing_changes(web: Web):
    first = await web.client.get(web.url())
    second = await web.client.get(web.url())
    assert await first.read() == await second.read()
    assert first.headers["ETag"] == second.headers["ETag"]


async def _conditional(web: Web, **headers: str) -> ClientResponse:
    return await web.client.get(web.url(), headers=headers)


async def test_304_on_if_none_match(web: Web):
    etag = (await web.client.get(web.url())).headers["ETag"]
    for value in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        response = await _conditional(web, **{"If-None-Match": value})
        assert response.status == 304, value
        assert await response.read() == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == "private, max-age=300"
        assert "Last-Modified" in response.headers
    assert (await _conditional(web, **{"If-None-Match": '"something-else"'})).status == 200


async def test_304_on_if_modified_since(web: Web):
    last_modified = (await web.client.get(web.url())).headers["Last-Modified"]
    assert (await _conditional(web, **{"If-Modified-Since": last_modified})).status == 304
    later = format_datetime(CHANGED + timedelta(hours=1), usegmt=True)
    assert (await _conditional(web, **{"If-Modified-Since": later})).status == 304
    earlier = format_datetime(CHANGED - timedelta(seconds=1), usegmt=True)
    assert (await _conditional(web, **{"If-Modified-Since": earlier})).status == 200
    assert (await _conditional(web, **{"If-Modified-Since": "not a date"})).status == 200
    # If-None-Match decides when both are sent (RFC 9110 §13.2.2)
    both = await _conditional(web, **{"If-None-Match": '"stale"', "If-Modified-Since": later})
    assert both.status == 200


async def test_a_change_invalidates_the_etag(web: Web):
    first = await web.client.get(web.url("all"))
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    async with web.services.sessions.begin() as session:
        stay = await session.scalar(select(Booking).where(Booking.export_uid == "stay-0@lumina"))
        assert stay is not None
        stay.check_out, stay.updated_at = date(2026, 8, 8), NOW - timedelta(minutes=1)
    response = await web.client.get(web.url("all"), headers={"If-None-Match": etag})
    assert response.status == 200 and response.headers["ETag"] != etag
    assert (await _conditional(web, **{"If-Modified-Since": last_modified})).status == 200


async def test_head_gives_the_headers_without_the_body(web: Web):
    get = await web.client.get(web.url())
    head = await web.client.head(web.url())
    assert head.status == 200
    assert await head.read() == b""
    for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Length"):
        assert head.headers[name] == get.headers[name], name
    conditional = await web.client.head(web.url(), headers={"If-None-Match": get.headers["ETag"]})
    assert conditional.status == 304
    assert (await web.client.head(web.url(token="1-" + "A" * 32))).status == 404


async def test_404_for_every_kind_of_wrong_url_and_nothing_leaks(web: Web):
    rotated_away = web.token
    async with web.services.sessions.begin() as session:
        prop = await session.get(Property, web.property_id)
        assert prop is not None
        new_token = await export.rotate_export_token(session, prop, user=None, now=NOW)
    secret = new_token.partition("-")[2]
    answers = []
    for url in (
        web.url(token=rotated_away),  # the old URL, right after rotation
        web.url(token=f"{web.property_id + 1}-{secret}"),
        web.url(token="garbage"),
        web.url(token="1-" + "A" * 32),
        web.url(token="99999999999999999999-" + "A" * 32),
        web.url(token=new_token, target="expedia"),
        web.url(token=new_token, target="AIRBNB"),
    ):
        response = await web.client.get(url)
        answers.append((response.status, await response.read(), response.headers.get("Content-Type")))
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers
    assert {a[0] for a in answers} == {404}
    assert len({a[1] for a in answers}) == 1  # one generic body, whatever was wrong
    assert b"Apto" not in answers[0][1] and b"Secreto" not in answers[0][1]
    assert (await web.client.get(web.url(token=new_token))).status == 200


async def test_archived_property_answers_404(web: Web):
    async with web.services.sessions.begin() as session:
        prop = await session.get(Property, web.property_id)
        assert prop is not None
        prop.archived_at = NOW
    response = await web.client.get(web.url())
    assert response.status == 404 and await response.text() == "Not found\n"


async def test_repeated_misses_are_rate_limited_then_forgiven(web: Web):
    for n in range(20):
        assert (await web.client.get(web.url(token=f"{n + 5}-" + "B" * 32))).status == 404
    limited = await web.client.get(web.url(token="garbage"))
    assert limited.status == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    assert "Apto" not in await limited.text()
    # a valid token is never limited: behind one proxy, guessers must not lock Airbnb and Booking.com out
    assert (await web.client.get(web.url())).status == 200
    web.monotonic.value += 601
    assert (await web.client.get(web.url(token="garbage"))).status == 404


async def test_misses_are_counted_per_client_behind_a_trusted_proxy(web: Web):
    web.services.settings.trusted_proxies = [ip_network("127.0.0.0/8")]
    guesser, airbnb = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.9, 127.0.0.1"}
    for n in range(20):
        assert (await web.client.get(web.url(token=f"{n}-x"), headers=guesser)).status == 404
    assert (await web.client.get(web.url(token="garbage"), headers=guesser)).status == 429
    assert (await web.client.get(web.url(token="typo"), headers=airbnb)).status == 404  # another client
    # without a trusted proxy the header is not believed: every request is the connecting address
    web.services.settings.trusted_proxies = []
    for n in range(20):
        assert (await web.client.get(web.url(token=f"{n}-y"), headers=airbnb)).status == 404
    assert (await web.client.get(web.url(token="z"), headers=guesser)).status == 429


async def test_hits_are_never_limited(web: Web):
    for _ in range(40):
        assert (await web.client.get(web.url())).status == 200


def test_miss_limiter_window_and_bounded_memory():
    clock = FakeMonotonic()
    limiter = MissLimiter(max_misses=3, window=60, max_addresses=100, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.record_miss("10.0.0.1")
        clock.value += 10
    assert limiter.retry_after("10.0.0.1") == 30  # the first miss leaves the window 60 s after it happened
    clock.value += 30
    assert limiter.retry_after("10.0.0.1") is None
    for n in range(1000):
        limiter.record_miss(f"10.1.{n // 256}.{n % 256}")
    assert len(limiter) == 100  # the least recently missing addresses are forgotten first
