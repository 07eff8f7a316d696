"""Alert texts: an outbox row and its recipient → a short HTML message with buttons, in the recipient's language.

The property's name comes first, in bold; dates go through Babel in the user's locale (bot/views/format.py); every
text that came from a person or a feed (names, labels) is escaped. Everything here reads the row's payload, a
snapshot taken when the alert was queued, so a message says what happened then even if it is delivered later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from babel.dates import format_timedelta

from bot.i18n import _, ngettext, use_locale
from bot.keyboards.callbacks import BookingCB, ConflictCB, FeedCB, TurnoverCB
from bot.views import mail as mail_views
from bot.views.conflicts import CLASS_LABELS, klass_name, own_side_line
from bot.views.feeds import failure_reason, platform_name
from bot.views.format import babel_locale, day, esc, moment, stay_range
from domain.calendar.echoes import subtract
from jobs.delivery import Button, Rendered
from storage.models import Outbox, User

MAX_LINES = 12  # per list in the daily summary; Telegram's limit is 4096 characters
MAX_TEXT = 4096


def render_alert(row: Outbox, user: User) -> Rendered:
    """The Renderer the delivery job is given."""
    with use_locale(user.locale):
        view = VIEWS.get(row.kind)
        if view is None:
            raise ValueError(f"no view for alert kind {row.kind!r}")
        rendered = view(row)
        if row.interrupted:  # a crash cut off its first send, which may have arrived: say this is a repeat
            repeat = _("(sent again after a restart)")
            rendered = Rendered(f"{rendered.text}\n\n<i>{repeat}</i>", rendered.buttons, rendered.photo)
    if len(rendered.text) > MAX_TEXT:
        rendered = Rendered(rendered.text[: MAX_TEXT - 1] + "…", rendered.buttons, rendered.photo)
    return rendered


# --- small pieces --------------------------------------------------------------------------------------------


def _date(value: Any) -> date:
    return date.fromisoformat(str(value))


def _title(payload: dict[str, Any]) -> str:
    return f"<b>{esc(payload.get('property'))}</b>"


def _source(platform: str | None, label: str | None = None) -> str:
    if platform == "direct":
        return _("Direct")
    return esc(platform_name(platform or "other", label))


def _open_booking(booking_id: Any) -> tuple[Button, ...]:
    if not booking_id:
        return ()
    return (Button(_("📖 Open booking"), BookingCB(id=int(booking_id)).pack()),)


def _guests(count: Any) -> str | None:
    return ngettext("{n} guest", "{n} guests", int(count)).format(n=int(count)) if count else None


def _join(*parts: str | None) -> str:
    return " · ".join(part for part in parts if part)


# --- bookings ------------------------------------------------------------------------------------------------


def _booking(payload: dict[str, Any], headline: str) -> Rendered:
    dates = stay_range(_date(payload["check_in"]), _date(payload["check_out"]))
    text = "\n".join([_title(payload), f"{headline} · {_source(payload.get('platform'))}", dates])
    return Rendered(text, (_open_booking(payload.get("booking_id")),))


def booking_new(row: Outbox) -> Rendered:
    payload = row.payload
    tentative = payload.get("kind") == "tentative"
    return _booking(payload, _("🆕 New request (not confirmed)") if tentative else _("🆕 New reservation"))


def booking_changed(row: Outbox) -> Rendered:
    """What happened to the nights, in the host's words. On Booking.com an event is a run of booked nights
    (ICAL_FACTS §2.3): a run that only grew is a new booking of the new nights, one that only shrank freed nights."""
    payload = row.payload
    previous = payload.get("previous") or {}
    after = (_date(payload["check_in"]), _date(payload["check_out"]))
    lines = [_title(payload)]
    source = _source(payload.get("platform"))
    if not (previous.get("check_in") and previous.get("check_out")):
        lines += [_("✏️ Dates changed") + f" · {source}", _("Now: {dates}").format(dates=f"<b>{stay_range(*after)}</b>")]
        return Rendered("\n".join(lines), (_open_booking(payload.get("booking_id")),))
    before = (_date(previous["check_in"]), _date(previous["check_out"]))
    added, freed = subtract([after], [before]), subtract([before], [after])
    if added and not freed and payload.get("platform") == "booking":
        lines.append(_("🆕 New booking next to a stay") + f" · {source}")
        lines += [_("Nights booked: {dates}").format(dates=f"<b>{stay_range(*r)}</b>") for r in added]
    elif freed and not added:
        lines.append(_("🔓 Nights freed") + f" · {source}")
        lines += [_("Nights freed: {dates}").format(dates=f"<b>{stay_range(*r)}</b>") for r in freed]
    else:
        lines.append(_("✏️ Dates changed") + f" · {source}")
        if before[0] != after[0]:
            lines.append(
                _("Check-in moved from {old} to {new}").format(old=day(before[0]), new=f"<b>{day(after[0])}</b>")
            )
        if before[1] != after[1]:
            lines.append(
                _("Check-out moved from {old} to {new}").format(old=day(before[1]), new=f"<b>{day(after[1])}</b>")
            )
    lines.append(_("Now: {dates}").format(dates=stay_range(*after)))
    return Rendered("\n".join(lines), (_open_booking(payload.get("booking_id")),))


def booking_cancelled(row: Outbox) -> Rendered:
    payload = row.payload
    return _booking(payload, _("❌ Reservation cancelled"))


def booking_restored(row: Outbox) -> Rendered:
    payload = row.payload
    return _booking(payload, _("↩️ Reservation is back (it was not cancelled after all)"))


# --- conflicts -----------------------------------------------------------------------------------------------


def conflict_opened(row: Outbox) -> Rendered:
    payload = row.payload
    klass = str(payload.get("class"))
    label = _(CLASS_LABELS.get(klass, klass))
    overlap = stay_range(_date(payload["start"]), _date(payload["end"]))
    conflict_id = int(payload["conflict_id"])
    first, second = (int(i) for i in payload["booking_ids"])
    own = [int(i) for i in payload.get("own_ids") or []]
    if klass == "double_booking":
        lines = [
            _title(payload),
            f"<b>{esc(label)}</b>",
            _("Two reservations for the same nights: {dates}").format(dates=f"<b>{overlap}</b>"),
        ]
        if own:
            lines.append(own_side_line(1 if own[0] == first else 2))
        else:
            lines.append(_("Check both platforms now and move or cancel one of them."))
    else:
        lines = [_title(payload), esc(label), _("Overlap: {dates}").format(dates=overlap)]
    buttons: tuple[tuple[Button, ...], ...] = (
        (
            Button(_("Open 1"), BookingCB(id=first).pack()),
            Button(_("Open 2"), BookingCB(id=second).pack()),
            Button(_("🔎 Open conflict"), ConflictCB(id=conflict_id, action="open").pack()),
        ),
    )
    if own:
        buttons += (
            (
                Button(_("📆 Move my booking"), BookingCB(id=own[0], action="move").pack()),
                Button(_("🗑 Cancel my booking"), BookingCB(id=own[0], action="cancel").pack()),
            ),
        )
    buttons += (
        (
            Button(_("✅ Resolved…"), ConflictCB(id=conflict_id, action="resolve").pack()),
            Button(_("🔁 It is an echo"), ConflictCB(id=conflict_id, action="echo").pack()),
        ),
        (Button(_("⏰ Snooze 24 h"), ConflictCB(id=conflict_id, action="snooze").pack()),),
    )
    return Rendered("\n".join(lines), buttons)


def conflict_closed(row: Outbox) -> Rendered:
    payload = row.payload
    what = klass_name(str(payload.get("class")))
    line = _("✅ No longer a conflict ({what}): the stays do not overlap anymore.").format(what=esc(what))
    return Rendered("\n".join([_title(payload), line]))


# --- feeds ---------------------------------------------------------------------------------------------------


def _ago(queued_at: datetime, since: Any) -> str | None:
    """How long before the alert was queued: a message delivered late still says it right."""
    if not since:
        return None
    return format_timedelta(queued_at - datetime.fromisoformat(str(since)), locale=babel_locale())


def feed_trouble(row: Outbox) -> Rendered:
    payload = row.payload
    source = _source(payload.get("platform"), payload.get("label"))
    failures = int(payload.get("failures") or 0)
    lines = [
        _title(payload),
        _("⚠️ The {calendar} calendar is not working: {reason}").format(
            calendar=source, reason=esc(failure_reason(payload.get("reason")))
        ),
    ]
    detail = ngettext("{n} failed download in a row.", "{n} failed downloads in a row.", failures).format(n=failures)
    ago = _ago(row.created_at, payload.get("last_success_at"))
    if ago:
        detail += " " + _("Last success {ago} ago.").format(ago=ago)
    elif not payload.get("last_success_at"):
        detail += " " + _("It has not worked yet.")
    lines.append(detail)
    feed_id = payload.get("feed_id")
    buttons = ((Button(_("📡 Open calendar"), FeedCB(id=int(feed_id)).pack()),),) if feed_id else ()
    return Rendered("\n".join(lines), buttons)


def feed_recovered(row: Outbox) -> Rendered:
    payload = row.payload
    source = _source(payload.get("platform"), payload.get("label"))
    return Rendered("\n".join([_title(payload), _("✅ The {calendar} calendar works again.").format(calendar=source)]))


def blocks_summary(row: Outbox) -> Rendered:
    payload = row.payload
    new, changed, removed = (int(payload.get(name) or 0) for name in ("new", "changed", "cancelled"))
    parts = [
        ngettext("{n} new", "{n} new", new).format(n=new) if new else None,
        ngettext("{n} changed", "{n} changed", changed).format(n=changed) if changed else None,
        ngettext("{n} removed", "{n} removed", removed).format(n=removed) if removed else None,
    ]
    source = _source(payload.get("platform"))
    line = _("📅 Blocked dates on {calendar}: {changes}").format(
        calendar=source, changes=", ".join(p for p in parts if p)
    )
    return Rendered("\n".join([_title(payload), line]))


# --- reminders -----------------------------------------------------------------------------------------------


def _reminder(payload: dict[str, Any], headline: str) -> Rendered:
    dates = stay_range(_date(payload["check_in"]), _date(payload["check_out"]))
    who = _join(esc(payload.get("guest")) or None, _guests(payload.get("guests")), _source(payload.get("platform")))
    return Rendered("\n".join([_title(payload), headline, who, dates]), (_open_booking(payload.get("booking_id")),))


def checkin_reminder(row: Outbox) -> Rendered:
    payload = row.payload
    headline = _("🔑 Check-in {day}, from {time}").format(day=day(_date(payload["check_in"])), time=payload["time"])
    return _reminder(payload, headline)


def checkout_reminder(row: Outbox) -> Rendered:
    payload = row.payload
    headline = _("👋 Check-out {day}, by {time}").format(day=day(_date(payload["check_out"])), time=payload["time"])
    return _reminder(payload, headline)


# --- the daily summary ---------------------------------------------------------------------------------------


def _limited(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    more = len(lines) - MAX_LINES + 1
    return [*lines[: MAX_LINES - 1], _("…and {n} more").format(n=more)]


def _stay_item(item: dict[str, Any]) -> str:
    return "• " + _join(
        f"<b>{esc(item.get('property'))}</b>", esc(item.get("guest")) or None, _source(item["platform"])
    )


def summary(row: Outbox) -> Rendered:
    payload = row.payload
    title = _("☀️ Summary for {day}").format(day=day(_date(payload["date"])))
    lines = [f"<b>{title}</b>"]
    for index, current in enumerate(payload.get("days", [])):
        when = _("Today") if index == 0 else _("Tomorrow")
        lines += ["", f"<b>{when}</b> — {day(_date(current['date']))}"]
        sections = (
            (_("🛬 Arrivals"), current.get("arrivals", [])),
            (_("🛫 Departures"), current.get("departures", [])),
            (_("🏠 In house"), current.get("in_house", [])),
        )
        if not any(items for _label, items in sections):
            lines.append(_("No arrivals, departures or guests in house."))
        for label, items in sections:
            if items:
                lines.append(f"{label}:")
                lines += _limited([_stay_item(item) for item in items])
    conflicts = payload.get("conflicts", [])
    feeds = payload.get("feeds", [])
    lines.append("")
    if conflicts:
        lines.append(_("⚠️ Open conflicts: {n}").format(n=len(conflicts)))
        lines += _limited(
            [
                "• "
                + _join(
                    f"<b>{esc(c.get('property'))}</b>",
                    esc(_(CLASS_LABELS.get(str(c.get("class")), str(c.get("class"))))),
                    stay_range(_date(c["start"]), _date(c["end"])),
                )
                for c in conflicts
            ]
        )
    if feeds:
        lines.append(_("📡 Calendars not working: {n}").format(n=len(feeds)))
        lines += _limited(
            [
                "• "
                + _join(f"<b>{esc(f.get('property'))}</b>", _source(f.get("platform"), f.get("label")))
                + ": "
                + esc(failure_reason(f.get("reason")))
                for f in feeds
            ]
        )
    if not conflicts and not feeds:
        lines.append(_("✅ No conflicts, and every calendar is working."))
    return Rendered("\n".join(lines))


# --- turnovers (cleaners) ------------------------------------------------------------------------------------


def _who(stay: dict[str, Any]) -> str:
    """Cleaners learn how many guests and from where, never who (older payloads may still hold a name)."""
    return _join(_guests(stay.get("guests")) or _("guest"), _source(stay.get("platform")))


def turnover(row: Outbox) -> Rendered:
    payload = row.payload
    departing, arriving = payload["departing"], payload.get("arriving")
    leave_day = _date(payload["day"])
    lines = [
        _title(payload),
        _("🧹 Cleaning on {day}").format(day=day(leave_day)),
        _("Leaving: {who}, check-out by {time}").format(who=_who(departing), time=payload["checkout_time"]),
    ]
    if arriving:
        arrive_day = _date(arriving["check_in"])
        lines.append(
            _("Arriving: {who}, check-in {day} from {time}").format(
                who=_who(arriving), day=day(arrive_day), time=payload["checkin_time"]
            )
        )
        end = payload["checkin_time"] if arrive_day == leave_day else f"{day(arrive_day)} {payload['checkin_time']}"
        window = _("Window: {start} → {end}").format(start=f"{day(leave_day)} {payload['checkout_time']}", end=end)
        lines.append(window)
    else:
        lines.append(_("Nobody arriving yet."))
    text = "\n".join(lines)
    if payload.get("cancelled"):
        text = f"<s>{text}</s>\n" + _("❌ Cancelled: this turnover no longer happens.")
        return Rendered(text)
    done = Button(_("✅ Done"), TurnoverCB(id=int(payload["turnover_message_id"])).pack())
    return Rendered(text, buttons=((done,),))


def turnover_done(row: Outbox) -> Rendered:
    payload = row.payload
    place = f"<b>{esc(payload.get('property'))}</b>"
    if payload.get("photo"):
        text = _("📷 {cleaner}'s photo of the cleaning of {place}").format(
            cleaner=esc(payload.get("cleaner")), place=place
        )
        return Rendered(text, photo_id=str(payload["photo"]))
    at = moment(datetime.fromisoformat(payload["at"]), payload.get("timezone"))
    text = _("✅ {cleaner} finished the cleaning of {place} ({at}).").format(
        cleaner=esc(payload.get("cleaner")), place=place, at=at
    )
    return Rendered(text)


def backup_failed(row: Outbox) -> Rendered:
    payload = row.payload
    return Rendered(
        _("⚠️ Today's backup failed: {error}\nThe earlier backups in {folder} are kept. Check the free disk space, or "
          "run <code>lumina backup</code> on the server to see the error. I will tell you again only if backups "
          "work and then fail once more.").format(error=esc(payload.get("error")), folder=esc(payload.get("folder")))
    )  # fmt: skip


def member_joined(row: Outbox) -> Rendered:
    from bot.views.team import role_name

    payload = row.payload
    who = esc(payload.get("name")) + (f" (@{esc(payload['username'])})" if payload.get("username") else "")
    where = f"<b>{esc(payload['property'])}</b>" if payload.get("property") else _("every property")
    role = role_name(str(payload.get("role")))
    return Rendered(_("👥 {person} joined {where} as {role}.").format(person=who, where=where, role=role))


def monthly_stats(row: Outbox) -> Rendered:
    """Last month's figures; the chart is drawn when the row is sent (in a worker thread), in the same words."""
    from functools import partial

    from bot.views.stats import period_title, stats_text
    from bot.views.stats_chart import chart_spec, draw
    from domain.stats import report_from_raw

    report = report_from_raw(row.payload)
    scope = report.properties[0][0].name if len(report.properties) == 1 else _("All properties")
    text = _("🗓 Your month in numbers") + "\n\n" + stats_text(report, scope=scope)
    spec = chart_spec(report, title=f"{scope} · {period_title(report.period)}")
    return Rendered(text, photo=partial(draw, spec))


VIEWS: dict[str, Callable[[Outbox], Rendered]] = {
    "booking_new": booking_new,
    "booking_changed": booking_changed,
    "booking_cancelled": booking_cancelled,
    "booking_restored": booking_restored,
    "conflict_opened": conflict_opened,
    "conflict_closed": conflict_closed,
    "feed_trouble": feed_trouble,
    "feed_recovered": feed_recovered,
    "blocks_summary": blocks_summary,
    "checkin_reminder": checkin_reminder,
    "checkout_reminder": checkout_reminder,
    "summary": summary,
    "turnover": turnover,
    "backup_failed": backup_failed,
    "monthly_stats": monthly_stats,
    "member_joined": member_joined,
    "turnover_done": turnover_done,
    **mail_views.VIEWS,
}
