"""/stats: the figures as one localized message (Babel numbers, money, percentages, month names), and the stays
of the period as CSV and XLSX files."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from bot.i18n import N_, _, ngettext
from bot.views.feeds import source_name
from bot.views.format import babel_locale, esc, month_title
from domain.stats import Comparison, Figures, Period, Report, month_start
from domain.stats_service import ExportStay
from storage.models import Property

PERIOD_LABELS = {
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "this_year": N_("This year"),
    "last_12_months": N_("Last 12 months"),
}
STATUS_LABELS = {"booked": N_("booked"), "ended": N_("ended"), "cancelled": N_("cancelled")}
MAX_PROPERTY_LINES = 15


def period_title(period: Period) -> str:
    """"February 2028", "2028", or "1 Mar 2027 – 29 Feb 2028"."""
    start, last = period.start, period.last_night
    if start.day == 1 and period.end == month_start(start, 1):
        return month_title(start.year, start.month)
    if (start.month, start.day) == (1, 1) and period.end == date(start.year + 1, 1, 1):
        return str(start.year)
    pattern = "d MMM yyyy"
    return f"{format_date(start, pattern, locale=babel_locale())} – {format_date(last, pattern, locale=babel_locale())}"


def number(value: Decimal | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def percent(value: Decimal | None) -> str:
    return "—" if value is None else format_percent(value, format="#,##0.0%", locale=babel_locale())


def cash(value: Decimal | None, currency: str) -> str:
    return "—" if value is None else format_currency(value, currency, locale=babel_locale())


def _signed(text: str, negative: bool, zero: bool) -> str:
    return "±0" if zero else ("−" if negative else "+") + text


def diff_number(now: Decimal | int | None, before: Decimal | int | None, digits: int = 0) -> str:
    if now is None or before is None:
        return ""
    delta = Decimal(now) - Decimal(before)
    return _signed(number(abs(delta), digits), delta < 0, delta == 0)


def diff_points(now: Decimal | None, before: Decimal | None) -> str:
    if now is None or before is None:
        return ""
    delta = (now - before) * 100
    return _("{value} pp").format(value=_signed(number(abs(delta), 1), delta < 0, delta == 0))


def diff_cash(now: Decimal | None, before: Decimal | None, currency: str) -> str:
    if now is None or before is None:
        return ""
    delta = now - before
    return _signed(cash(abs(delta), currency), delta < 0, delta == 0)


def _beside(now: str, before: str, change: str) -> str:
    """"57,7%  (last year 7,1%, +50,6 pp)"."""
    if not change:
        return _("{now} (last year {before})").format(now=now, before=before)
    return _("{now} (last year {before}, {change})").format(now=now, before=before, change=change)


def figures_lines(comparison: Comparison) -> list[str]:
    now, old = comparison.current, comparison.last_year
    lines = [
        _("Occupancy: {value}").format(
            value=_beside(percent(now.occupancy), percent(old.occupancy), diff_points(now.occupancy, old.occupancy))
        ),
        _("Nights booked: {value}").format(
            value=_beside(
                _("{booked} of {available} available").format(
                    booked=number(now.nights_booked), available=number(now.nights_available)
                ),
                number(old.nights_booked),
                diff_number(now.nights_booked, old.nights_booked),
            )
        ),
    ]
    if now.nights_blocked or old.nights_blocked:
        lines.append(
            _("Blocked by you: {value}").format(value=_beside(number(now.nights_blocked), number(old.nights_blocked),
                                                              diff_number(now.nights_blocked, old.nights_blocked)))
        )  # fmt: skip
    for currency in now.currencies:
        revenue_now, revenue_old = now.revenue.get(currency, Decimal(0)), old.revenue.get(currency, Decimal(0))
        lines.append(
            _("Revenue: {value}").format(
                value=_beside(cash(revenue_now, currency), cash(revenue_old, currency),
                              diff_cash(revenue_now, revenue_old, currency))
            )
        )  # fmt: skip
        adr_now, adr_old = now.adr(currency), old.adr(currency)
        lines.append(
            _("ADR: {value}").format(
                value=_beside(cash(adr_now, currency), cash(adr_old, currency), diff_cash(adr_now, adr_old, currency))
            )
        )
        par_now, par_old = now.revpar(currency), old.revpar(currency)
        lines.append(
            _("RevPAR: {value}").format(
                value=_beside(cash(par_now, currency), cash(par_old, currency), diff_cash(par_now, par_old, currency))
            )
        )
    if now.nights_unpriced:
        lines.append(
            "⚠️ "
            + ngettext(
                "{n} of {total} night without a price",
                "{n} of {total} nights without a price",
                now.nights_with_stays,
            ).format(n=number(now.nights_unpriced), total=number(now.nights_with_stays))
        )
    for currency, amount in sorted(now.estimated_revenue.items()):
        lines.append(
            _("Estimate at your default rate: {amount} for {nights} (not in the figures above)").format(
                amount=cash(amount, currency),
                nights=ngettext("{n} night", "{n} nights", now.nights_estimated).format(n=now.nights_estimated),
            )
        )
    lines.append(
        _("Stays: {value} · average {nights} nights").format(
            value=_beside(number(now.stays), number(old.stays), diff_number(now.stays, old.stays)),
            nights=number(now.average_stay, 1),
        )
    )
    if now.lead_known:
        lines.append(
            ngettext(
                "Booked {days} days ahead on average ({n} stay with a known booking date)",
                "Booked {days} days ahead on average ({n} stays with a known booking date)",
                now.lead_known,
            ).format(days=number(now.average_lead_time, 1), n=now.lead_known)
        )
    lines.append(
        _("Cancellations: {value}").format(
            value=_beside(number(now.cancellations), number(old.cancellations),
                          diff_number(now.cancellations, old.cancellations))
        )
    )  # fmt: skip
    if now.platforms:
        lines.append("")
        lines.append(_("<b>By platform</b>"))
        for source, share in now.sorted_platforms():
            money = " · ".join(
                f"{cash(amount, c)} ({percent(now.revenue_share(source, c))})"
                for c, amount in sorted(share.revenue.items())
            )
            nights = ngettext("{n} night", "{n} nights", share.nights).format(n=number(share.nights))
            line = f"{esc(source_name(source))}: {nights} ({percent(now.nights_share(source))})"
            lines.append(line + (f" · {money}" if money else ""))
    return lines


def stats_text(report: Report, *, scope: str) -> str:
    previous = report.period.last_year()
    lines = [
        _("📊 <b>Numbers · {scope}</b>").format(scope=esc(scope)),
        _("{period}, beside {last_year}").format(period=period_title(report.period), last_year=period_title(previous)),
        "",
        *figures_lines(report.total),
    ]
    if len(report.properties) > 1:
        lines += ["", _("<b>By property</b>")]
        ranked = sorted(report.properties, key=lambda item: (-(item[1].current.occupancy or 0), item[0].name))
        for prop, comparison in ranked[:MAX_PROPERTY_LINES]:
            lines.append(_property_line(prop.name, comparison.current))
        if len(ranked) > MAX_PROPERTY_LINES:
            rest = len(ranked) - MAX_PROPERTY_LINES
            more = ngettext("… and {n} more (all of them in the CSV and XLSX files)",
                            "… and {n} more (all of them in the CSV and XLSX files)", rest)  # fmt: skip
            lines.append(more.format(n=rest))
    return "\n".join(lines)


def _property_line(name: str, figures: Figures) -> str:
    money = " · ".join(cash(amount, c) for c, amount in sorted(figures.revenue.items()) if amount)
    nights = ngettext("{n} night", "{n} nights", figures.nights_booked).format(n=number(figures.nights_booked))
    return f"{esc(name)}: {percent(figures.occupancy)} · {nights}" + (f" · {money}" if money else "")


def rate_question(prop: Property) -> str:
    current = cash(prop.default_rate, prop.currency) if prop.default_rate is not None else _("none")
    return _("Default nightly rate of {name}, in {currency}? (now: {current})\nIt only estimates the stays without a "
             "price, always shown apart from real prices. Send 0 to remove it.").format(
        name=esc(prop.name), currency=prop.currency, current=current)  # fmt: skip


def rate_saved(prop: Property) -> str:
    if prop.default_rate is None:
        return _("Saved: {name} has no default rate.").format(name=esc(prop.name))
    return _("Saved: {amount} a night for {name}.").format(amount=cash(prop.default_rate, prop.currency),
                                                          name=esc(prop.name))  # fmt: skip


def no_numbers_text() -> str:
    return _("Only owners and managers see the numbers.")


def picker_text() -> str:
    return _("📊 Numbers: occupancy, average daily rate (ADR), revenue per available night (RevPAR) and revenue, "
             "beside the same period last year.\nChoose the property, then the period.")  # fmt: skip


# --- files ---------------------------------------------------------------------------------------------------


def _headers() -> list[str]:
    return [_("property"), _("platform"), _("check-in"), _("check-out"), _("nights"), _("guests"), _("price"),
            _("currency"), _("status")]  # fmt: skip


def _row(stay: ExportStay) -> list[object]:
    return [
        stay.property,
        source_name(stay.platform),
        stay.check_in,
        stay.check_out,
        stay.nights,
        stay.guests,
        stay.price,
        stay.currency,
        _(STATUS_LABELS[stay.status]),
    ]


def stays_csv(stays: Sequence[ExportStay]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs read the accents), ISO dates, '.' decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    for stay in stays:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in _row(stay)])
    return ("\ufeff" + buffer.getvalue()).encode()


def stays_xlsx(stays: Sequence[ExportStay], report: Report, *, scope: str) -> bytes:
    """The stays sheet (as the CSV) and a summary sheet: every figure of each property and of all, this period and
    last year's."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Stays")[:31]
    sheet.append(_headers())
    for stay in stays:
        sheet.append(_row(stay))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, min_col=3, max_col=4):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    summary = book.create_sheet(_("Summary")[:31])
    summary.append([scope, period_title(report.period), period_title(report.period.last_year())])
    summary["A1"].font = Font(bold=True)
    rows = [(p.name, c) for p, c in report.properties]
    if len(rows) != 1:
        rows.append((_("All properties"), report.total))
    for name, comparison in rows:
        summary.append([])
        summary.append([name, _("this period"), _("last year")])
        for cell in summary[summary.max_row]:
            cell.font = Font(bold=True)
        for label, now, old in _summary_rows(comparison):
            summary.append([label, now, old])
    summary.column_dimensions["A"].width = 34
    for column in ("B", "C"):
        summary.column_dimensions[column].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary_rows(comparison: Comparison) -> list[tuple[str, object, object]]:
    now, old = comparison.current, comparison.last_year

    def both(get: object) -> tuple[object, object]:
        return get(now), get(old)  # type: ignore[operator]

    rows: list[tuple[str, object, object]] = [
        (_("nights available"), *both(lambda f: f.nights_available)),
        (_("nights blocked"), *both(lambda f: f.nights_blocked)),
        (_("nights booked"), *both(lambda f: f.nights_booked)),
        (_("occupancy %"), *both(lambda f: float(f.occupancy * 100) if f.occupancy is not None else None)),
    ]
    for currency in now.currencies:
        rows += [
            (_("revenue ({currency})").format(currency=currency), *both(lambda f, c=currency: f.revenue.get(c))),
            (_("ADR ({currency})").format(currency=currency), *both(lambda f, c=currency: f.adr(c))),
            (_("RevPAR ({currency})").format(currency=currency), *both(lambda f, c=currency: f.revpar(c))),
        ]
    rows += [
        (_("nights without a price"), *both(lambda f: f.nights_unpriced)),
        (_("stays"), *both(lambda f: f.stays)),
        (_("average stay (nights)"), *both(lambda f: f.average_stay)),
        (_("average lead time (days)"), *both(lambda f: f.average_lead_time)),
        (_("cancellations"), *both(lambda f: f.cancellations)),
    ]
    for source, _share in now.sorted_platforms():
        rows.append((_("nights on {platform}").format(platform=source_name(source)),
                     *both(lambda f, s=source: f.platforms[s].nights if s in f.platforms else 0)))  # fmt: skip
    return [(label, _plain(a), _plain(b)) for label, a, b in rows]


def _plain(value: object) -> object:
    return float(round(value, 2)) if isinstance(value, Decimal) else value


def files_caption(count: int, scope: str, period: Period) -> str:
    stays = ngettext("{n} stay", "{n} stays", count).format(n=count)
    return f"{esc(scope)} · {period_title(period)} · {stays}"


def file_name(scope_slug: str, period: Period, extension: str) -> str:
    return f"lumina-{scope_slug}-{period.start.isoformat()}-{period.last_night.isoformat()}.{extension}"
