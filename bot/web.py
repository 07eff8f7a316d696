"""The small HTTP side: liveness, readiness, the channel export feeds (and later the webhook)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import text

from bot.export_web import ROUTE as EXPORT_ROUTE
from bot.export_web import ExportFeedHandler, MissLimiter
from bot.services import Services
from jobs.metrics import REGISTRY
from storage import repositories

log = logging.getLogger("lumina.web")
SERVICES = web.AppKey("services", Services)


class WebServer:
    """The aiohttp side, startable before the bot so liveness is answered during the whole start-up."""

    def __init__(self, services: Services, host: str, port: int) -> None:
        self._services, self._host, self._port = services, host, port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._runner = web.AppRunner(create_web_app(self._services), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("web app listening", extra={"host": self._host, "port": self.port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def create_web_app(services: Services, *, export_limiter: MissLimiter | None = None) -> web.Application:
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
    if services.settings.webhook_url:
        app.router.add_post(urlsplit(services.settings.webhook_url).path or "/", webhook)
    # add_get also answers HEAD (same handler, body dropped), which calendar clients use to probe.
    limiter = export_limiter if export_limiter is not None else MissLimiter()
    app.router.add_get(EXPORT_ROUTE, ExportFeedHandler(services, limiter).handle)
    return app


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Ready to serve, or what is wrong, in words an operator can act on."""
    services = request.app[SERVICES]
    state = services.health
    problems = []
    database = await _database_ok(services)
    if not database:
        problems.append("database: cannot run a query")
    if not state.scheduler_running:
        problems.append("scheduler: not running (still starting, or stopped)")
    if not state.telegram_ok:
        problems.append(f"telegram: {state.telegram_error or 'no successful call yet'} (check LUMINA_BOT_TOKEN)")
    checks = {"database": database, "scheduler": state.scheduler_running, "telegram": bool(state.telegram_ok)}
    if services.settings.redis_url:
        checks["redis"] = await _redis_ok(services.settings.redis_url)
        if not checks["redis"]:
            problems.append("redis: no answer to PING at LUMINA_REDIS_URL")
    body = {
        "ready": not problems,
        "checks": checks,
        "problems": problems,
        "telegram_checked_at": state.telegram_checked_at.isoformat() if state.telegram_checked_at else None,
    }
    return web.json_response(body, status=200 if body["ready"] else 503)


async def webhook(request: web.Request) -> web.Response:
    """An update from Telegram: checked (secret header), handed to the bot, answered at once."""
    services = request.app[SERVICES]
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), services.settings.resolved_webhook_secret.encode()):
        return web.Response(status=401)
    if services.webhook is None:
        return web.Response(status=503)  # still starting: Telegram retries
    try:
        update = await request.json()
    except ValueError:
        return web.Response(status=400)
    await services.webhook(update)
    return web.Response()


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: the process's counters, and what the database says at this scrape."""
    services = request.app[SERVICES]
    token = services.settings.metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return web.Response(status=401, text="metrics need the token\n")
    async with services.sessions() as session:
        snapshot = await repositories.metrics_snapshot(session, now=services.clock())
    now = CollectorRegistry()
    for name, value in snapshot.items():
        Gauge(f"lumina_{name}", name.replace("_", " "), registry=now).set(value)
    body = generate_latest(REGISTRY) + generate_latest(now)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _redis_ok(url: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(await client.ping())  # type: ignore[misc]  # redis-py types ping() for both clients
    except Exception:
        return False
    finally:
        await client.aclose()


async def _database_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(2), services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
