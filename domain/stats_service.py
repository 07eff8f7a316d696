"""The numbers of the properties a person may see them for, read from the database (domain.stats does the sums).

Owners see every property; managers the ones they manage; viewers and cleaners none (prices are not theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from domain.properties import visible
from domain.stats import Period, PropertyFacts, Report, Stay, build_report
from storage.models import Property, User
from storage.stats import export_rows, stay_rows


async def stats_properties(session: AsyncSession, user: User | None) -> list[Property]:
    """The properties whose numbers `user` may see (None: the operator at the shell, who sees every one)."""
    query = select(Property).where(Property.archived_at.is_(None))
    if user is not None:
        query = select(Property).where(visible(user, manage=True))  # prices are the managers' business
    return list((await session.scalars(query.order_by(Property.name, Property.id))).all())


def facts(prop: Property) -> PropertyFacts:
    return PropertyFacts(prop.id, prop.name, prop.currency, prop.timezone, prop.default_rate)


def _echo_nights(value: Any) -> tuple[tuple[date, date], ...]:
    if not value:
        return ()
    return tuple((date.fromisoformat(a), date.fromisoformat(b)) for a, b in value)


def to_stay(row: Row[Any]) -> Stay:
    """From a row of storage.stats.stay_rows (by position: a report reads tens of thousands)."""
    sid, property_id, source, kind, status, check_in, check_out, price, currency, guests, echoes, booked_at = row
    return Stay(sid, property_id, source, check_in, check_out, kind, status == "cancelled", price, currency, guests,
                booked_at, _echo_nights(echoes) if echoes else ())  # fmt: skip


def data_window(period: Period, *, chart: bool) -> Period:
    """Every night the report reads: the period, its chart months, and the same a year before."""
    months = period.chart_months() if chart else [period]
    start = min(period.start, months[0].start)
    return Period(Period(start, period.end).last_year().start, max(period.end, months[-1].end))


async def load_report(
    session: AsyncSession, properties: Sequence[Property], period: Period, *, chart: bool = True
) -> Report:
    window = data_window(period, chart=chart)
    rows = await stay_rows(session, [p.id for p in properties], window.start, window.end)
    return build_report([facts(p) for p in properties], [to_stay(r) for r in rows], period, chart=chart)


@dataclass(frozen=True, slots=True)
class ExportStay:
    """One stay of a CSV/XLSX file."""

    property: str
    platform: str
    check_in: date
    check_out: date
    nights: int
    guests: int | None
    price: Decimal | None
    currency: str
    status: str  # booked | ended | cancelled


async def export_stays(session: AsyncSession, properties: Sequence[Property], period: Period) -> list[ExportStay]:
    """The guest stays sharing a night with the period (cancelled ones too), whole: their full dates and price."""
    rows = await export_rows(session, [p.id for p in properties], period.start, period.end)
    return [
        ExportStay(
            property=row.property_name,
            platform=row.source,
            check_in=row.check_in,
            check_out=row.check_out,
            nights=(row.check_out - row.check_in).days,
            guests=row.guests_count,
            price=Decimal(row.price) if row.price is not None else None,
            currency=row.currency or row.property_currency,
            status="cancelled" if row.status == "cancelled" else "ended" if row.status == "ended" else "booked",
        )
        for row in rows
    ]


async def set_monthly_stats(session: AsyncSession, user: User, on: bool, *, now: datetime) -> None:
    from domain.audit import audit

    user.monthly_stats = on
    await audit(session, user, "user.monthly_stats", "user", user.id, {"on": on}, now=now)


async def set_default_rate(
    session: AsyncSession, prop: Property, rate: Decimal | None, *, user: User, now: datetime
) -> None:
    from domain.audit import audit

    before = prop.default_rate
    prop.default_rate = rate
    changed = {"before": None if before is None else str(before), "after": None if rate is None else str(rate)}
    await audit(session, user, "property.default_rate", "property", prop.id, changed, now=now)
