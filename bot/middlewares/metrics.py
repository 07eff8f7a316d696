"""Updates handled and their latency, by router (the module of the handler that took the update)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from jobs.metrics import UPDATE_SECONDS, UPDATES


class UpdateMetrics(BaseMiddleware):
    """An inner middleware: it runs once a handler was chosen, so it knows which router answers."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chosen = data.get("handler")
        router = getattr(getattr(chosen, "callback", None), "__module__", "unknown").rsplit(".", 1)[-1]
        started = time.perf_counter()
        try:
            result = await handler(event, data)
        except Exception:
            UPDATES.labels(router, "error").inc()
            raise
        finally:
            UPDATE_SECONDS.labels(router).observe(time.perf_counter() - started)
        UPDATES.labels(router, "ok").inc()
        return result
