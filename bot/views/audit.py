"""/audit's words: one line per event, the filters and pages, and the CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _
from bot.keyboards.callbacks import AuditCB, MenuCB
from bot.keyboards.common import button
from bot.views.format import esc, moment
from domain.audit import Event

PAGE_SIZE = 10
CSV_DAYS = (7, 30, 90, 365)
# What each action reads as. tests/unit/test_audit_names.py fails while an action written anywhere has no name.
ACTION_NAMES = {
    "booking.created": N_("created a booking"),
    "booking.moved": N_("moved a booking"),
    "booking.cancelled": N_("cancelled a booking"),
    "booking.detail": N_("filled in a booking detail"),
    "booking.guest_added": N_("added a guest"),
    "booking.guest_document": N_("added a guest's document"),
    "booking.new": N_("new stay from a calendar"),
    "booking.changed": N_("stay changed in a calendar"),
    "booking.restored": N_("stay back in a calendar"),
    "booking.ended": N_("stay ended"),
    "booking.reissued": N_("stay re-issued by a calendar"),
    "booking.absorbed": N_("stay merged with the next one in a calendar"),
    "conflict.resolved": N_("resolved a double booking"),
    "conflict.echo": N_("marked an overlap as the same stay"),
    "conflict.snoozed": N_("snoozed a double booking"),
    "document.created": N_("made a document"),
    "export.issued": N_("got the calendar links"),
    "export.rotated": N_("changed the calendar links"),
    "feed.added": N_("added a calendar"),
    "feed.removed": N_("removed a calendar"),
    "feed.marked_echo": N_("marked a calendar as a copy of another"),
    "mail.queued": N_("sent a mail to the building"),
    "member.invited": N_("invited someone"),
    "member.invite_revoked": N_("withdrew an invitation"),
    "member.joined": N_("joined"),
    "member.role_changed": N_("changed someone's role"),
    "member.removed": N_("removed someone"),
    "owner.claimed": N_("became the owner"),
    "owner.preauthorized": N_("became an owner (configured)"),
    "property.created": N_("added a property"),
    "property.updated": N_("changed a property"),
    "property.archived": N_("archived a property"),
    "property.default_rate": N_("set the nightly rate"),
    "property.mail": N_("changed the building's e-mail settings"),
    "property.private_info": N_("changed the check-in details"),
    "template.uploaded": N_("uploaded a document template"),
    "turnover.done": N_("finished a cleaning"),
    "template.reverted": N_("went back to the standard template"),
    "user.alert_kinds": N_("changed their alerts"),
    "user.quiet_hours": N_("changed their quiet hours"),
    "user.summary_hour": N_("changed their daily summary"),
    "user.timezone": N_("changed their time zone"),
    "user.locale": N_("changed their language"),
    "user.monthly_stats": N_("changed their monthly report"),
}
ACTORS = {"job:sync": N_("calendar sync")}


def action_name(action: str) -> str:
    return _(ACTION_NAMES[action]) if action in ACTION_NAMES else action


def who(event: Event) -> str:
    if event.person:
        return event.person
    return _(ACTORS[event.row.actor]) if event.row.actor in ACTORS else "LUMINA"


def change(details: dict[str, Any] | None) -> str:
    """Before → after, when the event says so (secrets are already masked)."""
    if not details or ("before" not in details and "after" not in details):
        return ""
    return f"{_plain(details.get('before'))} → {_plain(details.get('after'))}"


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def events_text(events: Sequence[Event], *, total: int, page: int, tz: str, scope: str) -> str:
    lines = ["🧾 <b>" + _("Audit trail") + "</b> · " + esc(scope)]
    if not events:
        lines.append(_("Nothing recorded here yet."))
    for event in events:
        where = f" · {esc(event.property_name)}" if event.property_name else ""
        line = f"{moment(event.row.at, tz)} · <b>{esc(who(event))}</b> {esc(action_name(event.row.action))}{where}"
        if text := change(event.row.details):
            line += f"\n   {esc(text[:200])}"
        lines.append(line)
    pages = max(1, -(-total // PAGE_SIZE))
    lines.append(_("Page {page} of {pages} · {total} events").format(page=page + 1, pages=pages, total=total))
    return "\n".join(lines)


def events_keyboard(data: AuditCB, *, total: int) -> InlineKeyboardMarkup:
    nav = []
    if data.page > 0:
        nav.append(button("◀️", AuditCB(p=data.p, u=data.u, page=data.page - 1)))
    if (data.page + 1) * PAGE_SIZE < total:
        nav.append(button("▶️", AuditCB(p=data.p, u=data.u, page=data.page + 1)))
    rows = [nav] if nav else []
    rows.append(
        [
            button(_("🏠 Property"), AuditCB(action="props", p=data.p, u=data.u)),
            button(_("👤 Person"), AuditCB(action="people", p=data.p, u=data.u)),
        ]
    )
    rows.append(
        [button(_("📎 CSV"), AuditCB(action="csv", p=data.p, u=data.u)), button(_("☰ Menu"), MenuCB(to="menu"))]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def choice_keyboard(options: Sequence[tuple[str, AuditCB]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(label[:60], data)] for label, data in options])


def csv_period_keyboard(data: AuditCB) -> InlineKeyboardMarkup:
    labels = {7: _("Last 7 days"), 30: _("Last 30 days"), 90: _("Last 90 days"), 365: _("Last year")}
    rows = [[button(labels[d], AuditCB(action="file", p=data.p, u=data.u, d=d))] for d in CSV_DAYS]
    rows.append([button(_("⬅️ Back"), AuditCB(p=data.p, u=data.u))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def events_csv(events: Sequence[Event], *, tz: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "who", "action", "what", "property", "entity", "entity_id", "details"])
    for event in events:
        row = event.row
        details = json.dumps(row.details or {}, ensure_ascii=False)
        what = action_name(row.action)
        place = event.property_name or ""
        writer.writerow(
            [moment(row.at, tz), who(event), row.action, what, place, row.entity, row.entity_id or "", details]
        )
    return ("\ufeff" + out.getvalue()).encode()  # a BOM: spreadsheet programs then read UTF-8
