"""The small HTTP side: liveness, readiness, the channel export feeds (and later the webhook)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from bot.export_web import ROUTE as EXPORT_ROUTE
from bot.export_web import ExportFeedHandler, MissLimiter
from bot.services import Services

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
    # add_get also answers HEAD (same handler, body dropped), which calendar clients use to probe.
    limiter = export_limiter if export_limiter is not None else MissLimiter()
    app.router.add_get(EXPORT_ROUTE, ExportFeedHandler(services, limiter).handle)
    return app


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    database = await _database_ok(services)
    state = services.health
    checks = {
        "database": database,
        "scheduler": state.scheduler_running,
        "telegram": bool(state.telegram_ok),
    }
    body = {
        "ready": all(checks.values()),
        "checks": checks,
        "telegram_checked_at": state.telegram_checked_at.isoformat() if state.telegram_checked_at else None,
    }
    return web.json_response(body, status=200 if body["ready"] else 503)


async def _database_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(2), services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
