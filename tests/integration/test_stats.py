"""The numbers read from a real database (SQLite and PostgreSQL), and `lumina stats` as an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.stats import Period
from domain.stats_service import export_stays, load_report, stats_properties
from storage.models import PropertyAccess, User
from tests.support.stats_data import seed_month

ROOT = Path(__file__).resolve().parents[2]
MARCH = Period(date(2027, 3, 1), date(2027, 4, 1))


async def test_the_report_reads_ended_and_direct_stays_and_leaves_out_echoes_holds_and_windows(sessions):
    async with sessions.begin() as session:
        ids = await seed_month(session, MARCH.start)
    async with sessions() as session:
        properties = await stats_properties(session, None)
        assert [p.name for p in properties] == ["Apto 101", "Beach house"]  # not the archived one
        report = await load_report(session, properties, MARCH)
    flat = report.properties[0][1].current
    assert (flat.nights_booked, flat.nights_blocked, flat.nights_available) == (12, 2, 29)
    assert flat.occupancy == Decimal("0.4138")
    assert flat.revenue == {"BRL": Decimal("1300")} and flat.adr("BRL") == Decimal("185.71")
    assert (flat.nights_unpriced, flat.stays, flat.cancellations) == (5, 3, 1)
    assert (flat.lead_known, flat.average_lead_time) == (2, Decimal("28.5"))  # 30 days and 27 days
    assert {s: p.nights for s, p in flat.platforms.items()} == {"airbnb": 3, "booking": 5, "direct": 4}
    assert report.total.current.revenue == {"BRL": Decimal("1300"), "USD": Decimal("300")}
    assert report.months[-1].month == MARCH.start and report.months[-1].nights == {"airbnb": 3, "booking": 5,
                                                                                    "direct": 4 + 2}  # fmt: skip
    assert len(report.months) == 12
    assert ids["old"] not in [p.id for p, _ in report.properties]


async def test_managers_see_their_properties_viewers_and_cleaners_none(sessions):
    async with sessions.begin() as session:
        ids = await seed_month(session, MARCH.start)
        people = {}
        for role in ("owner", "manager", "viewer", "cleaner"):
            people[role] = User(telegram_id=len(people) + 1, first_name=role, role=role)
            session.add(people[role])
        await session.flush()
        for role in ("manager", "viewer", "cleaner"):
            session.add(PropertyAccess(user_id=people[role].id, property_id=ids["beach"], role=role))
    async with sessions() as session:
        seen = {role: [p.name for p in await stats_properties(session, user)] for role, user in people.items()}
    assert seen == {"owner": ["Apto 101", "Beach house"], "manager": ["Beach house"], "viewer": [], "cleaner": []}


async def test_export_rows_are_whole_stays_with_their_status(sessions):
    async with sessions.begin() as session:
        await seed_month(session, MARCH.start)
    async with sessions() as session:
        rows = await export_stays(session, await stats_properties(session, None), MARCH)
    assert [(r.property, r.platform, r.check_in.day, r.nights, r.price, r.currency, r.status) for r in rows] == [
        ("Apto 101", "airbnb", 3, 3, Decimal("900.00"), "BRL", "ended"),
        ("Apto 101", "booking", 10, 5, None, "BRL", "booked"),
        ("Apto 101", "airbnb", 20, 2, Decimal("450.00"), "BRL", "cancelled"),
        ("Apto 101", "direct", 28, 5, Decimal("500.00"), "BRL", "booked"),
        ("Beach house", "direct", 2, 2, Decimal("300.00"), "USD", "booked"),
    ]


async def lumina_stats(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    environ.update(LUMINA_DATA_DIR=str(tmp_path), LUMINA_DATABASE_URL=database_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "stats", *args, cwd=ROOT, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_lumina_stats_json_has_every_figure_by_name_and_null_where_unknown(sessions, database_url, tmp_path):
    async with sessions.begin() as session:
        ids = await seed_month(session, MARCH.start)
    code, out, err = await lumina_stats(database_url, tmp_path, "--from", "2027-03-01", "--to", "2027-03-31", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["property_id"] for r in rows] == [ids["flat"], ids["beach"], None]
    flat = rows[0]
    assert flat["period"] == {"from": "2027-03-01", "to": "2027-03-31"}
    figures = flat["figures"]
    assert figures["occupancy"] == 0.4138 and figures["revenue"] == {"BRL": 1300} and figures["adr"] == {"BRL": 185.71}
    assert figures["revpar"] == {"BRL": 44.83} and figures["nights_unpriced"] == 5 and figures["cancellations"] == 1
    assert flat["last_year"]["adr"] == {"BRL": None} and flat["last_year"]["nights_booked"] == 0
    assert flat["difference"]["nights_booked"] == 12 and flat["difference"]["adr"] == {"BRL": None}
    assert rows[2]["figures"]["revenue"] == {"BRL": 1300, "USD": 300}

    code, out, err = await lumina_stats(database_url, tmp_path, "--property", str(ids["beach"]), "--from", "2027-03-01")
    assert code == 0, err
    assert f"#{ids['beach']} Beach house" in out and "Apto 101" not in out
    assert "revenue USD" in out and "300.00" in out and "2027-03-01 .. 2027-03-31" in out

    code, _out, err = await lumina_stats(database_url, tmp_path, "--property", str(ids["old"]))
    assert code == 2 and "no such property" in err
    code, _out, err = await lumina_stats(database_url, tmp_path, "--from", "2027-03-10", "--to", "2027-03-01")
    assert code == 2 and "before --from" in err
