"""`lumina stats`: the figures of /stats at the shell, as text or as JSON lines for scripts and spreadsheets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from domain.stats import Comparison, Period, Report, month_start, report_dicts
from domain.stats_service import load_report, stats_properties
from storage.db import create_engine, session_factory


class StatsError(Exception):
    """A request the command cannot answer (unknown property, reversed dates): said in one line."""


def resolve_period(start: date | None, end: date | None, today: date) -> Period:
    """--from/--to are the first and last nights; either alone means the rest (or start) of its month."""
    if start is None:
        start = month_start(end if end is not None else today)
    if end is None:
        end = date.fromordinal(month_start(start, 1).toordinal() - 1)
    if end < start:
        raise StatsError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    return Period(start, date.fromordinal(end.toordinal() + 1))


async def compute(url: str, property_ids: Sequence[int] | None, period: Period) -> Report:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            properties = await stats_properties(session, None)
            if property_ids:
                unknown = sorted(set(property_ids) - {p.id for p in properties})
                if unknown:
                    raise StatsError(f"no such property (or archived): {', '.join(map(str, unknown))}")
                properties = [p for p in properties if p.id in set(property_ids)]
            return await load_report(session, properties, period, chart=False)
    finally:
        await engine.dispose()


async def print_stats(
    url: str,
    *,
    property_ids: Sequence[int] | None,
    start: date | None,
    end: date | None,
    timezone: str,
    as_json: bool,
    out: TextIO,
    now: datetime | None = None,
) -> int:
    today = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).date()
    period = resolve_period(start, end, today)
    report = await compute(url, property_ids, period)
    if as_json:
        for row in report_dicts(report):
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
        return 0
    first, last = period.start.isoformat(), period.last_night.isoformat()
    previous = period.last_year()
    out.write(f"nights {first} .. {last} ({period.nights}), beside {previous.start} .. {previous.last_night}\n")
    for prop, comparison in report.properties:
        out.write(f"\n#{prop.id} {prop.name}\n")
        _write(comparison, out)
    out.write(f"\nall {len(report.properties)} properties\n")
    _write(report.total, out)
    return 0


def _write(comparison: Comparison, out: TextIO) -> None:
    now, old = comparison.current, comparison.last_year

    def pct(value: Any) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    def line(label: str, current: Any, previous: Any) -> None:
        out.write(f"  {label:<22} {current:>16}   last year {previous}\n")

    line("nights booked", now.nights_booked, old.nights_booked)
    line("nights available", now.nights_available, old.nights_available)
    line("nights blocked", now.nights_blocked, old.nights_blocked)
    line("occupancy", pct(now.occupancy), pct(old.occupancy))
    for currency in now.currencies:
        line(f"revenue {currency}", f"{now.revenue.get(currency, 0):.2f}", f"{old.revenue.get(currency, 0):.2f}")
        line(f"ADR {currency}", _amount(now.adr(currency)), _amount(old.adr(currency)))
        line(f"RevPAR {currency}", _amount(now.revpar(currency)), _amount(old.revpar(currency)))
    if now.nights_unpriced:
        out.write(f"  {now.nights_unpriced} of {now.nights_with_stays} nights without a price\n")
    for currency, amount in sorted(now.estimated_revenue.items()):
        out.write(f"  estimate at the default rate: {amount:.2f} {currency} for {now.nights_estimated} nights\n")
    line("stays", now.stays, old.stays)
    line("average stay (nights)", _amount(now.average_stay), _amount(old.average_stay))
    line("lead time (days)", _amount(now.average_lead_time), _amount(old.average_lead_time))
    line("cancellations", now.cancellations, old.cancellations)
    for source, share in now.sorted_platforms():
        revenue = ", ".join(f"{amount:.2f} {c}" for c, amount in sorted(share.revenue.items())) or "no price"
        out.write(f"  {source:<22} {share.nights:>5} nights ({pct(now.nights_share(source))}), {revenue}\n")


def _amount(value: Any) -> str:
    return "n/a" if value is None else str(value)
