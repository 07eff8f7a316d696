"""Import aiogram without building all of its ~450 pydantic models up front (issue 14 item 11).

`aiogram.types` ends by calling `model_rebuild()` on every Telegram type so their forward references resolve: on a
small machine that is 2-3 s of pydantic schema building, most of LUMINA's start-up, for hundreds of types LUMINA never
sees (stickers, payments, games, business accounts...). The models are declared with `defer_build=True`, so pydantic
can build each one the first time it is used, if it can resolve its forward references then. This module imports
aiogram with `model_rebuild` of the Telegram types turned into "remember the namespace", and puts the names of that
namespace into every aiogram module (where pydantic looks for a model's forward references): each model is built on
first use, in about a millisecond, and the first update costs ~0.1 s instead of the import costing seconds
(benchmarks/startup_bench.py).

It is applied only to the aiogram and pydantic versions it was checked with, and checked at once on an update and a
method; anything unexpected falls back to building every model eagerly, as aiogram does. Import this module before
anything imports aiogram (bot.app does, first).
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
from typing import Any

log = logging.getLogger("lumina")

CHECKED_WITH = {"aiogram": "3.31.0", "pydantic": "2.13.5"}
state = {"lazy": False}


def _versions_match() -> bool:
    try:
        return all(importlib.metadata.version(name) == version for name, version in CHECKED_WITH.items())
    except importlib.metadata.PackageNotFoundError:
        return False


def _models() -> list[Any]:
    """Every pydantic model class defined so far (typed Any: their pydantic attributes are set at class creation)."""
    from pydantic import BaseModel

    found: list[Any] = []
    stack: list[type] = [BaseModel]
    while stack:
        sub: type
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def _self_check() -> None:
    """An update as Telegram sends it and a message with a keyboard, through the deferred models."""
    from aiogram.methods import SendMessage
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update

    update = Update.model_validate({
        "update_id": 1,
        "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
                    "from": {"id": 1, "is_bot": False, "first_name": "A"}, "text": "/start"},
    })  # fmt: skip
    assert update.message is not None and update.message.text == "/start"
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="b")]])
    SendMessage(chat_id=1, text="x", reply_markup=keyboard)


def _rebuild_all(namespace: dict[str, Any]) -> None:
    for cls in _models():
        if cls.__module__.startswith("aiogram.types.") and not cls.__pydantic_complete__:
            cls.model_rebuild(_types_namespace=namespace)


def import_aiogram() -> None:
    """Import aiogram, deferring its models' build where that is known to work."""
    if "aiogram.types" in sys.modules or not _versions_match():
        import aiogram  # noqa: F401  (already imported, or versions not checked: aiogram's own way)

        return
    from pydantic import BaseModel

    original = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]
    seen: dict[str, Any] = {}

    def remember(cls: type[BaseModel], *args: Any, _types_namespace: Any = None, **kwargs: Any) -> bool | None:
        if _types_namespace is not None and cls.__module__.startswith("aiogram.types."):
            seen.setdefault("namespace", _types_namespace)
            return None
        return original(cls, *args, _types_namespace=_types_namespace, **kwargs)

    BaseModel.model_rebuild = classmethod(remember)  # type: ignore[method-assign,assignment]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = classmethod(original)  # type: ignore[method-assign,assignment]
    namespace = seen.get("namespace")
    if namespace is None:
        return
    # Forward references resolve in the module that defines a model: give every aiogram module the names
    # `aiogram.types` would have passed (models made later, such as `Response[Message]`, find them there too).
    for name, module in list(sys.modules.items()):
        if name.startswith("aiogram.") and module is not None:
            for key, value in namespace.items():
                module.__dict__.setdefault(key, value)
    try:
        _self_check()
    except Exception:  # pragma: no cover - a version this was not checked with: build everything, as aiogram does
        log.warning("aiogram's models could not be built on demand; building them all now", exc_info=True)
        _rebuild_all(namespace)
        return
    state["lazy"] = True
