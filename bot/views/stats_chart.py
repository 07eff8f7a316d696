"""The /stats chart: nights booked per month by platform (stacked bars), this year beside last year (paler), with
occupancy as lines. Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot global state), so
it can run in a worker thread: chart_spec() takes the words in the user's language in the event loop, draw()
makes the PNG anywhere."""

from __future__ import annotations

import io
from dataclasses import dataclass

from babel.dates import get_month_names

from bot.i18n import _
from bot.views.feeds import source_name
from bot.views.format import babel_locale
from domain.stats import Report

COLORS = {
    "airbnb": "#FF5A5F",
    "booking": "#003580",
    "vrbo": "#1C6FB8",
    "agoda": "#8CC63F",
    "direct": "#F2A900",
    "other": "#8E8E8E",
}
FALLBACK = ("#6A4C93", "#1982C4", "#8AC926", "#FF595E", "#FFCA3A")


@dataclass(frozen=True, slots=True)
class ChartSpec:
    title: str
    months: list[str]  # x labels
    platforms: list[tuple[str, str]]  # (label, colour), stacking order
    nights: list[list[int]]  # per platform, per month
    last_year_nights: list[list[int]]
    occupancy: list[float | None]  # percent
    last_year_occupancy: list[float | None]
    labels: dict[str, str]  # axis and legend words


def chart_spec(report: Report, *, title: str) -> ChartSpec:
    """Everything the chart says, in the current language (call it where the locale is set)."""
    names = get_month_names("abbreviated", context="stand-alone", locale=babel_locale())
    sources = report.platforms
    months = [f"{names[p.month.month].rstrip('.').capitalize()}\n{p.month.year}" for p in report.months]
    palette = iter(FALLBACK)
    platforms = [(source_name(s), COLORS.get(s) or next(palette, "#555555")) for s in sources]

    def pct(value: object) -> float | None:
        return None if value is None else float(value) * 100  # type: ignore[arg-type]

    return ChartSpec(
        title=title,
        months=months,
        platforms=platforms,
        nights=[[p.nights.get(s, 0) for p in report.months] for s in sources],
        last_year_nights=[[p.last_year_nights.get(s, 0) for p in report.months] for s in sources],
        occupancy=[pct(p.occupancy) for p in report.months],
        last_year_occupancy=[pct(p.last_year_occupancy) for p in report.months],
        labels={
            "nights": _("Nights booked"),
            "occupancy": _("Occupancy"),
            "this_year": _("occupancy, this year"),
            "last_year": _("occupancy, last year"),
            "pale": _("pale bars: last year"),
        },
    )


def draw(spec: ChartSpec) -> bytes:
    """The PNG. CPU-bound: run it in a thread (asyncio.to_thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=(10, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    count = len(spec.months)
    width = 0.38
    this_x = [i + width / 2 for i in range(count)]
    last_x = [i - width / 2 for i in range(count)]
    bottoms_now = [0] * count
    bottoms_old = [0] * count
    for (label, colour), nights, old in zip(spec.platforms, spec.nights, spec.last_year_nights, strict=True):
        axes.bar(last_x, old, width, bottom=bottoms_old, color=colour, alpha=0.35, edgecolor="white", linewidth=0.4)
        axes.bar(this_x, nights, width, bottom=bottoms_now, color=colour, label=label, edgecolor="white",
                 linewidth=0.4)  # fmt: skip
        bottoms_now = [a + b for a, b in zip(bottoms_now, nights, strict=True)]
        bottoms_old = [a + b for a, b in zip(bottoms_old, old, strict=True)]
    axes.set_xticks(range(count), spec.months, fontsize=8)
    axes.set_ylabel(spec.labels["nights"])
    axes.set_title(spec.title, fontsize=11)
    axes.spines[["top"]].set_visible(False)
    axes.set_ylim(0, max([*bottoms_now, *bottoms_old, 1]) * 1.1)

    occupancy = axes.twinx()
    occupancy.plot(range(count), _gaps(spec.occupancy), color="#222222", marker="o", markersize=3.5,
                   linewidth=1.6, label=spec.labels["this_year"])  # fmt: skip
    occupancy.plot(range(count), _gaps(spec.last_year_occupancy), color="#777777", linestyle="--", marker="o",
                   markersize=2.5, linewidth=1.1, label=spec.labels["last_year"])  # fmt: skip
    occupancy.set_ylim(0, 105)
    occupancy.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    occupancy.set_ylabel(spec.labels["occupancy"])
    occupancy.spines[["top"]].set_visible(False)

    bars, bar_labels = axes.get_legend_handles_labels()
    lines, line_labels = occupancy.get_legend_handles_labels()
    figure.legend(bars + lines, bar_labels + line_labels, loc="outside lower center", fontsize=8, frameon=False,
                  ncols=min(len(bars) + len(lines), 8), title=spec.labels["pale"], title_fontsize=7)  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _gaps(values: list[float | None]) -> list[float]:
    return [float("nan") if v is None else v for v in values]
