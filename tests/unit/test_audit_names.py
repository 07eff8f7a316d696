"""Every action the code records in the audit trail reads as words in /audit: a new action without a name fails."""

from __future__ import annotations

import re
from pathlib import Path

from bot.views.audit import ACTION_NAMES
from domain.calendar.reconcile import Change

ROOT = Path(__file__).resolve().parents[2]
# audit(session, who, "entity.action", ...) and the settings' _setting(session, user, "user.x", ...)
WRITTEN = re.compile(r"(?:audit|_setting)\(\s*session,\s*[\w.]+,\s*\"([a-z_]+\.[a-z_]+)\"", re.MULTILINE)


def written_actions() -> set[str]:
    source = "\n".join(
        path.read_text() for folder in ("bot", "domain", "jobs") for path in (ROOT / folder).rglob("*.py")
    )
    found = set(WRITTEN.findall(source))
    found |= {f"booking.{change.value}" for change in Change}  # what the sync records for each stay it changes
    return found


def test_every_recorded_action_has_a_name():
    actions = written_actions()
    assert len(actions) > 30  # the pattern still finds them
    assert sorted(actions - set(ACTION_NAMES)) == []


def test_no_name_is_left_without_an_action():
    assert sorted(set(ACTION_NAMES) - written_actions()) == []
