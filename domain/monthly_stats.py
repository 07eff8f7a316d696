"""The monthly summary: on the 1st, at the hour of the daily summary (08:00 when none is set), in the owner's time,
last month's figures and the chart. queue_monthly() writes one outbox row per owner, keyed
`monthly:<user>:<YYYY-MM>` so a restart or a second run never sends it twice; User.monthly_stats turns it off."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import AlertKind, outbox_row, queue_due
from domain.stats import Period, month_start, report_to_raw
from domain.stats_service import load_report, stats_properties
from domain.summary import GRACE
from domain.time import local_instant
from storage.models import INSTALLATION_ROLES, User

DEFAULT_HOUR = 8


def monthly_due(now: datetime, zone: ZoneInfo, hour: int | None, grace: timedelta = GRACE) -> Period | None:
    """Last month, when its summary is due at `now` (the 1st, from `hour`:00 local time for `grace`); else None."""
    day = now.astimezone(zone).date()
    if day.day != 1:
        return None
    start = local_instant(day, time(DEFAULT_HOUR if hour is None else hour, 0), zone)
    if not start <= now < start + grace:
        return None
    return Period(month_start(day, -1), day)


def monthly_key(user: User, period: Period) -> str:
    return f"monthly:{user.id}:{period.start.year:04d}-{period.start.month:02d}"


async def queue_monthly(
    session: AsyncSession, *, now: datetime, default_zone: ZoneInfo, grace: timedelta = GRACE
) -> int:
    async def report_row(user: User, period: Period, key: str) -> dict[str, Any] | None:
        properties = await stats_properties(session, user)
        if not properties:
            return None
        report = await load_report(session, properties, period)
        return outbox_row(user, AlertKind.MONTHLY_STATS, key, now=now, payload=report_to_raw(report))

    owners = select(User).where(
        User.is_active.is_(True), User.role.in_(INSTALLATION_ROLES), User.monthly_stats.is_(True)
    )
    return await queue_due(
        session,
        owners.order_by(User.id),
        default_zone=default_zone,
        due=lambda user, zone: monthly_due(now, zone, user.summary_hour, grace),
        key=monthly_key,
        row=report_row,
    )
