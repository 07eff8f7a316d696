"""One router per area. Built fresh by get_routers(): a Router can be attached to only one dispatcher."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from bot.routers import language, start, sync

    return [start.get_router(), language.get_router(), sync.get_router()]
