"""Numbers benchmark: /stats for 12 months over 50 properties with 3 years of stays, and its chart.

Setup: a freshly migrated SQLite database in a temporary directory (or --database-url), 50 properties with stays
back to back (1-4 nights, 0-1 free nights between, a random platform, most with a price, some cancelled, a block
now and then) over the 3 years before today: about 20,000 stays.

Phases:
  compute  what /stats costs before it speaks: a session, the query (stays of the 12 months, last year's and the
           chart's), domain.stats (every figure per property and for all, and the month series), the text in both
           languages; median and worst of --runs (default 20)
  chart    bot.views.stats_chart.draw (matplotlib, Agg canvas) of the report: the first one (matplotlib's fonts and
           caches load) and the median of the following ones

    .venv/bin/python benchmarks/stats_bench.py
    .venv/bin/python benchmarks/stats_bench.py --json /tmp/stats.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.i18n import use_locale  # noqa: E402
from bot.views.stats import stats_text  # noqa: E402
from bot.views.stats_chart import chart_spec, draw  # noqa: E402
from domain.stats import standard_periods  # noqa: E402
from domain.stats_service import load_report, stats_properties  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Booking, Property  # noqa: E402

PLATFORMS = ("airbnb", "airbnb", "booking", "booking", "vrbo", "direct")


async def seed(url: str, properties: int, today: date, rng: random.Random) -> int:
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows: list[dict[str, Any]] = []
    async with sessions.begin() as session:
        for i in range(properties):
            prop = Property(name=f"Flat {i + 1:02d}", timezone="America/Sao_Paulo", export_token=f"bench-{i}",
                            currency="BRL" if i % 10 else "USD")  # fmt: skip
            session.add(prop)
            await session.flush()
            day = today - timedelta(days=3 * 365)
            while day < today + timedelta(days=90):
                nights = rng.randint(1, 4)
                kind = "block" if rng.random() < 0.04 else "reservation"
                status = "cancelled" if rng.random() < 0.05 else ("ended" if day < today else "active")
                rows.append({
                    "property_id": prop.id, "source": rng.choice(PLATFORMS), "kind": kind, "status": status,
                    "export_uid": f"{prop.id}-{len(rows)}@bench", "check_in": day,
                    "check_out": day + timedelta(days=nights),
                    "price": Decimal(rng.randint(150, 400) * nights) if rng.random() < 0.8 else None,
                    "guests_count": rng.randint(1, 4), "first_seen_at": datetime.now(UTC),
                })  # fmt: skip
                day += timedelta(days=nights + rng.choice((0, 0, 1)))
        for start in range(0, len(rows), 2000):
            await session.execute(insert(Booking), rows[start : start + 2000])
    await engine.dispose()
    return len(rows)


async def measure(url: str, today: date, runs: int) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    period = standard_periods(today)["last_12_months"]
    timings = []
    report = None
    for _ in range(runs):
        started = time.perf_counter()
        async with sessions() as session:
            properties = await stats_properties(session, None)
            report = await load_report(session, properties, period)
        for locale in ("pt_BR", "en"):
            with use_locale(locale):
                stats_text(report, scope="All")
        timings.append(time.perf_counter() - started)
    await engine.dispose()
    assert report is not None
    with use_locale("pt_BR"):
        spec = chart_spec(report, title="Todos os imóveis · 12 meses")
    started = time.perf_counter()
    png = draw(spec)
    first = time.perf_counter() - started
    charts = []
    for _ in range(5):
        started = time.perf_counter()
        draw(spec)
        charts.append(time.perf_counter() - started)
    return {
        "properties": len(report.properties),
        "compute_median_ms": round(statistics.median(timings) * 1000, 1),
        "compute_worst_ms": round(max(timings) * 1000, 1),
        "chart_first_ms": round(first * 1000, 1),
        "chart_median_ms": round(statistics.median(charts) * 1000, 1),
        "chart_bytes": len(png),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temporary directory)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    today = date.today()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        stays = asyncio.run(seed(url, args.properties, today, random.Random(18)))
        results = {"stays": stays, **asyncio.run(measure(url, today, args.runs))}
    for key, value in results.items():
        print(f"{key:>20}: {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
