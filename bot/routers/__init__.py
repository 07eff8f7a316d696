"""One router per area. Built fresh by get_routers(): a Router can be attached to only one dispatcher.

Order matters only at the ends: start first (deep links), the fallback last (whatever nobody else understood).
"""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from bot.routers import (
        audit,
        backup,
        bookings,
        conflicts,
        direct,
        documents,
        export,
        feeds,
        free,
        language,
        mail,
        menu,
        properties,
        settings,
        start,
        stats,
        sync,
        team,
        turnovers,
    )

    return [
        start.get_router(),
        menu.get_router(),
        language.get_router(),
        properties.get_router(),
        feeds.get_router(),
        bookings.get_router(),
        direct.get_router(),
        conflicts.get_router(),
        free.get_router(),
        sync.get_router(),
        export.get_router(),
        settings.get_router(),
        documents.get_router(),
        mail.get_router(),
        backup.get_router(),
        stats.get_router(),
        team.get_router(),
        audit.get_router(),
        turnovers.get_router(),
        menu.get_fallback_router(),  # keep last
    ]
