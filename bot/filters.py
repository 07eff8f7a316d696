"""Filters checked in the event loop.

aiogram runs a filter that is not a coroutine (a bare `F.text`, `F.data == BACK`, a plain function) through
`asyncio.to_thread`: a thread round trip on every update that reaches it, which is most of them. Wrap magic
filters in `Is`; tests/unit/test_routing.py fails on any filter aiogram would send to a thread.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter

from storage.models import User, whole_installation


class Is(Filter):
    """`Is(F.data == BACK)`: the magic filter, resolved on the event without leaving the loop."""

    def __init__(self, magic: MagicFilter) -> None:
        self._magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self._magic.resolve(event))


class WholeInstallation(Filter):
    """Only for the owner and co-owners; anyone else's press matches no handler and is answered "expired"."""

    async def __call__(self, event: TelegramObject, user: User | None = None) -> bool:
        return user is not None and whole_installation(user)
