"""The operator's commands as an operator runs them (real processes, a SQLite database under LUMINA_DATA_DIR):
properties and feeds in bulk with the chat's validation, and a backup restored by `lumina restore`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_cli import ROOT, env


def lumina(tmp_path: Path, *args: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env(data or tmp_path), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_properties_and_feeds_from_the_command_line(tmp_path: Path):
    added = lumina(tmp_path, "property", "add", "Apto 101", "--timezone", "europe/lisbon", "--currency", "eur")
    assert added.returncode == 0, added.stderr
    assert "property 1: Apto 101 (Europe/Lisbon, EUR)" in added.stdout
    wrong = lumina(tmp_path, "property", "add", "Apto 102", "--timezone", "Mars/Olympus")
    assert (wrong.returncode, wrong.stderr.strip()) == (2, "lumina property add: invalid timezone")
    assert lumina(tmp_path, "feed", "add", "1", "webcal://www.airbnb.com/calendar/ical/1.ics?s=x").returncode == 0
    assert "invalid_url" in lumina(tmp_path, "feed", "add", "1", "ftp://example.com/x.ics").stderr
    assert "duplicate" in lumina(tmp_path, "feed", "add", "1", "https://www.airbnb.com/calendar/ical/1.ics?s=x").stderr
    assert "no_property" in lumina(tmp_path, "feed", "add", "9", "https://example.com/a.ics").stderr

    [prop] = json.loads(lumina(tmp_path, "property", "list", "--json").stdout)
    assert prop == {"id": 1, "name": "Apto 101", "timezone": "Europe/Lisbon", "currency": "EUR"}
    [feed] = json.loads(lumina(tmp_path, "feed", "list", "--json").stdout)
    assert (feed["property_id"], feed["platform"], feed["health"]) == (1, "airbnb", "new")


def test_a_csv_import_is_idempotent_and_reports_bad_lines(tmp_path: Path):
    sheet = tmp_path / "units.csv"
    sheet.write_text(
        "name,timezone,currency,feeds\n"
        "Apto 101,America/Sao_Paulo,BRL,https://www.airbnb.com/calendar/ical/1.ics https://admin.booking.com/b.ics\n"
        "Casa Praia,,,\n"
        "Bad zone,Nowhere/City,BRL,\n"
        "Bad link,UTC,USD,javascript:alert(1)\n",
        encoding="utf-8",
    )
    first = lumina(tmp_path, "import", str(sheet))
    assert first.returncode == 1
    assert "2 properties and 2 feeds added, 2 lines refused" in first.stdout
    assert "line 4: invalid timezone" in first.stderr and "line 5: invalid invalid_url" in first.stderr
    again = lumina(tmp_path, "import", str(sheet))
    assert "0 properties and 0 feeds added, 2 lines refused" in again.stdout
    names = [p["name"] for p in json.loads(lumina(tmp_path, "property", "list", "--json").stdout)]
    assert names == ["Apto 101", "Casa Praia"]


def test_backup_then_restore_into_a_new_installation(tmp_path: Path):
    assert lumina(tmp_path, "property", "add", "Apto 101").returncode == 0
    made = lumina(tmp_path, "backup")
    assert made.returncode == 0, made.stderr
    [archive] = (tmp_path / "backups").glob("lumina-*.tar.gz")
    assert f"backup written: {tmp_path / 'backups'}" in made.stdout

    elsewhere = tmp_path / "new"
    restored = lumina(tmp_path, "restore", str(archive), data=elsewhere)
    assert restored.returncode == 0, restored.stderr
    assert "properties 1" in restored.stdout
    names = [p["name"] for p in json.loads(lumina(tmp_path, "property", "list", "--json", data=elsewhere).stdout)]
    assert names == ["Apto 101"]
    again = lumina(tmp_path, "restore", str(archive), data=elsewhere)
    assert again.returncode == 1 and "already holds data" in again.stderr and "--force" in again.stderr
    (tmp_path / "cut.tar.gz").write_bytes(archive.read_bytes()[:200])
    cut = lumina(tmp_path, "restore", str(tmp_path / "cut.tar.gz"), "--force", data=elsewhere)
    assert cut.returncode == 1 and len(cut.stderr.strip().splitlines()) == 1
