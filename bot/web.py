"""The small HTTP side: liveness, readiness (and later the export feeds and the webhook)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from bot.services import Services

SERVICES = web.AppKey("services", Services)


def create_web_app(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
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
