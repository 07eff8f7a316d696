"""Every filter and handler runs in the event loop: aiogram sends anything that is not a coroutine to a thread."""

from __future__ import annotations

from aiogram import F

from bot.filters import Is
from bot.routers import get_routers


def test_no_filter_or_handler_leaves_the_event_loop() -> None:
    offenders = []
    for router in get_routers():
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                where = f"{router.name}.{name} {handler.callback.__name__}"
                if not handler.awaitable:
                    offenders.append(f"{where}: handler")
                offenders += [f"{where}: {f.callback!r}" for f in handler.filters or [] if not f.awaitable]
            offenders += [f"{router.name}.{name}: {f.callback!r}" for f in observer._handler.filters or []
                          if not f.awaitable]  # fmt: skip
    assert offenders == []


async def test_is_resolves_the_magic_filter_on_the_event() -> None:
    class Event:
        data = "back"

    assert await Is(F.data == "back")(Event()) is True
    assert await Is(F.data == "cancel")(Event()) is False
    assert await Is(F.text)(Event()) is False  # a missing attribute is a miss, not an error
