"""`lumina replay`: our own feed histories always; the real ones from ../shared when they are there."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.ical_builder import Stay, airbnb, booking

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ical" / "replay"


def replay(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["replay", *args, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def alerts(records: list[dict]) -> list[tuple[str, str, str, str]]:
    return [(r["change"], r["check_in"], r["check_out"], r["at"][:10]) for r in records if r.get("alert")]


def write(folder: Path, stamp: str, body: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stamp}.ics").write_bytes(body)


def test_replay_of_our_own_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "airbnb", tmp_path / "booking"
    stay = Stay("r1@airbnb.com", date(2026, 9, 1), date(2026, 9, 5))
    block = Stay("b1@airbnb.com", date(2026, 8, 1), date(2026, 8, 20), blocked=True)
    write(a, "20260801T073000Z", airbnb([stay, block]))
    write(
        a, "20260802T073000Z", airbnb([stay, Stay("b2@airbnb.com", date(2026, 8, 2), date(2026, 8, 20), blocked=True)])
    )
    write(a, "20260803T073000Z", b"")  # one empty download: suspicious, cancels nothing
    write(a, "20260804T073000Z", airbnb([stay]))
    write(b, "20260801T080000Z", booking([Stay("x1@booking.com", date(2026, 9, 3), date(2026, 9, 6))]))
    write(b, "20260802T080000Z", booking([Stay("x2@booking.com", date(2026, 9, 4), date(2026, 9, 7))]))
    write(b, "20260803T080000Z", booking([]))
    write(b, "20260804T080000Z", booking([]))
    records = replay(capsys, str(a), str(b), "--timezone", "Europe/Rome")
    changes = [(r["feed"], r["change"], r["kind"], r["alert"]) for r in records if "change" in r]
    assert changes == [
        ("airbnb", "new", "reservation", False),  # first download of each feed: imported quietly
        ("airbnb", "new", "block", False),
        ("booking", "new", "reservation", False),
        ("airbnb", "reissued", "block", False),  # the started block re-cut to today under a new UID
        ("booking", "changed", "reservation", True),  # moved under a new UID: one change, not cancel + new
        ("airbnb", "cancelled", "block", False),  # the host unblocked: confirmed by two downloads, never alerted
        ("booking", "cancelled", "reservation", True),
    ]
    moved = next(r for r in records if r.get("change") == "changed")
    assert moved["previous_uid"] == "x1@booking.com" and moved["previous"] == {
        "check_in": "2026-09-03",
        "check_out": "2026-09-06",
    }
    conflicts = [(r["conflict"], r["class"], r["alert"]) for r in records if "conflict" in r]
    assert conflicts == [("opened", "double_booking", True), ("closed", "double_booking", True)]
    summary = records[-1]["summary"]
    assert (summary["snapshots"], summary["failed"], summary["suspicious"]) == (8, 0, 2)


def test_replay_refuses_what_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["replay", str(tmp_path / "empty")]) == 2
    assert "20251208T073012Z" in capsys.readouterr().err


AIRBNB_ALERTS = [
    ("new", "2025-08-04", "2025-08-08", "2025-07-06"),
    ("new", "2025-09-20", "2025-09-27", "2025-07-06"),
    ("cancelled", "2025-07-15", "2025-07-19", "2025-07-08"),
    ("cancelled", "2025-07-21", "2025-07-26", "2025-07-17"),
    ("new", "2025-08-25", "2025-09-04", "2025-07-27"),
    ("new", "2026-07-11", "2026-07-25", "2025-08-25"),
    ("new", "2026-08-01", "2026-08-08", "2025-09-28"),
    ("new", "2026-05-26", "2026-06-06", "2025-11-24"),
    ("cancelled", "2026-05-26", "2026-06-06", "2025-12-09"),  # ICAL_FACTS §1.4: gone in the 12-08 snapshot
    ("new", "2026-09-02", "2026-09-08", "2026-01-04"),
    ("new", "2026-06-18", "2026-06-22", "2026-01-15"),
    ("new", "2026-08-24", "2026-09-02", "2026-02-14"),
    ("new", "2026-06-22", "2026-06-26", "2026-03-26"),
    ("new", "2026-09-21", "2026-09-30", "2026-05-05"),
    ("new", "2027-07-18", "2027-07-22", "2026-07-18"),
]
BOOKING_ALERTS = [
    ("new", "2025-12-29", "2026-01-03", "2025-09-07"),
    ("new", "2025-09-27", "2025-10-04", "2025-09-09"),
    ("new", "2026-07-25", "2026-07-31", "2025-11-10"),
    ("new", "2026-07-05", "2026-07-11", "2025-12-13"),
    ("new", "2026-08-24", "2026-08-31", "2025-12-29"),
    ("cancelled", "2026-08-24", "2026-08-31", "2026-01-11"),
    ("new", "2026-05-01", "2026-05-04", "2026-02-07"),
    ("new", "2026-06-22", "2026-06-30", "2026-02-07"),
    ("new", "2026-05-30", "2026-06-02", "2026-02-09"),
    ("cancelled", "2026-05-01", "2026-05-04", "2026-02-10"),  # two that vanished 2 days after they appeared
    ("cancelled", "2026-06-22", "2026-06-30", "2026-02-10"),
    ("new", "2026-06-11", "2026-06-16", "2026-02-25"),
    ("new", "2026-03-30", "2026-04-04", "2026-02-28"),
    ("new", "2026-05-21", "2026-05-25", "2026-03-06"),
    ("cancelled", "2026-03-30", "2026-04-04", "2026-03-13"),
    ("changed", "2026-05-31", "2026-06-03", "2026-05-07"),  # §2.2: 0530-0602 moved to 0531-0603 under a new UID
    ("cancelled", "2026-05-31", "2026-06-03", "2026-05-16"),
    ("new", "2026-06-28", "2026-07-03", "2026-05-31"),
    ("cancelled", "2026-06-28", "2026-07-03", "2026-06-04"),
    ("new", "2026-09-08", "2026-09-13", "2026-06-12"),
    ("cancelled", "2026-06-11", "2026-06-16", "2026-06-13"),  # §2.2: vanished on the second night of the stay
    ("new", "2027-07-31", "2027-08-07", "2026-08-05"),
]


@pytest.mark.corpus
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/ical/replay is not here")
@pytest.mark.parametrize(
    ("folder", "expected"), [("airbnb_daily_it", AIRBNB_ALERTS), ("booking_daily_it", BOOKING_ALERTS)]
)
def test_replay_of_the_real_feeds_alerts_exactly_the_real_changes(folder, expected, capsys) -> None:
    records = replay(capsys, str(SHARED / folder), "--timezone", "Europe/Rome")
    assert alerts(records) == expected
    quiet = {(r["change"], r["kind"]) for r in records if "change" in r and not r["alert"]}
    assert all(change in ("new", "ended", "reissued", "changed", "cancelled") for change, _kind in quiet)
    assert not any(r["alert"] for r in records if r.get("kind") in ("block", "window"))
    assert not any(r["alert"] for r in records if r.get("change") in ("reissued", "ended"))
    summary = records[-1]["summary"]
    assert summary["failed"] == 0 and summary["alerts"] == len(expected)
