"""Numbers: occupancy, ADR, RevPAR, revenue, stays, lead time and platform shares, per property and for all.

Pure: plain data in, plain data out, no database and no clock (`Period`s are handed in). The definitions, as the
chat and `lumina stats` show them:

- A period is a half-open range of nights [start, end): `end` is the morning after its last night.
- **Booked** nights: nights held by a guest stay (a reservation that is live or ended, not an echo of another
  source's stay; nights it only mirrors are left out). Nights of one property are counted once, even when two
  stays hold them (a double booking); per platform, each platform's nights are counted once.
- **Blocked** nights: nights the host blocked (live blocks) that no guest holds. They are reported apart and taken
  out of the **available** nights: the nights of the period less the blocked ones.
- **Occupancy** = booked / available. **ADR** = revenue / priced nights, per currency. **RevPAR** = revenue /
  available nights, per currency (the available nights of the properties that earn in that currency).
- **Revenue** comes from stay prices only (typed by the host, direct bookings, amounts read from the platforms),
  in the stay's currency (else the property's); currencies are never converted or summed together. A stay that
  crosses the period's edge counts the nights inside it, and its price pro rata by night. Stays without a price
  are counted as unpriced nights, never as 0 in ADR; where the property has a default nightly rate they get an
  **estimate**, kept apart from the real revenue.
- **Stays**: guest stays with a night in the period; **average stay**: their mean length (all their nights);
  **lead time**: days from booking (where known) to check-in, in the property's time zone; **cancellations**:
  cancelled guest stays that would have had a night in the period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
PERIOD_NAMES = ("this_month", "last_month", "this_year", "last_12_months")


# --- periods -------------------------------------------------------------------------------------------------


def year_before(day: date) -> date:
    """The same day a year earlier; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def month_start(day: date, shift: int = 0) -> date:
    """The first day of `day`'s month, moved `shift` months."""
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    """The nights start .. end - 1 day."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period needs at least one night")

    @property
    def nights(self) -> int:
        return (self.end - self.start).days

    @property
    def last_night(self) -> date:
        return self.end - timedelta(days=1)

    def last_year(self) -> Period:
        return Period(year_before(self.start), year_before(self.end))

    def months(self) -> list[Period]:
        """The calendar months the period touches, each cut to the period."""
        found = []
        cursor = self.start
        while cursor < self.end:
            following = month_start(cursor, 1)
            found.append(Period(cursor, min(following, self.end)))
            cursor = following
        return found

    def chart_months(self, minimum: int = 12) -> list[Period]:
        """Whole months for a chart: the period's, or the `minimum` months that end with its last month."""
        first = month_start(self.start)
        last = month_start(self.last_night)
        first = min(first, month_start(last, 1 - minimum))
        return Period(first, month_start(last, 1)).months()


def standard_periods(today: date) -> dict[str, Period]:
    this_month = month_start(today)
    return {
        "this_month": Period(this_month, month_start(today, 1)),
        "last_month": Period(month_start(today, -1), this_month),
        "this_year": Period(date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_12_months": Period(month_start(today, -12), this_month),
    }


# --- what is counted -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PropertyFacts:
    id: int
    name: str
    currency: str
    timezone: str = "UTC"
    default_rate: Decimal | None = None  # per night, in `currency`: an estimate for stays without a price


@dataclass(slots=True)  # not frozen: a report builds tens of thousands, and frozen __init__ costs 3 times more
class Stay:
    """A guest stay or a block, reduced to what the numbers need."""

    id: int
    property_id: int
    source: str  # airbnb | booking | vrbo | agoda | other | direct
    check_in: date
    check_out: date
    kind: str = "reservation"  # reservation | block
    cancelled: bool = False
    price: Decimal | None = None  # of the whole stay
    currency: str | None = None  # None: the property's
    guests: int | None = None
    booked_at: datetime | None = None  # when the guest booked, where known (aware)
    echo_nights: tuple[tuple[date, date], ...] = ()  # nights it only holds because another source did

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    def own_nights(self) -> range | list[int]:
        """Its nights as day ordinals, less the nights it only mirrors."""
        nights = range(self.check_in.toordinal(), self.check_out.toordinal())
        if not self.echo_nights:
            return nights
        echoed = {n for a, b in self.echo_nights for n in range(a.toordinal(), b.toordinal())}
        return [n for n in nights if n not in echoed]


@dataclass(slots=True)
class PlatformShare:
    nights: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class Figures:
    """Sums for one property or several; the ratios are properties, so sums can be added up."""

    nights_in_period: int = 0
    nights_blocked: int = 0
    nights_booked: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)
    nights_priced: dict[str, int] = field(default_factory=dict)
    nights_unpriced: int = 0
    estimated_revenue: dict[str, Decimal] = field(default_factory=dict)
    nights_estimated: int = 0
    available_by_currency: dict[str, int] = field(default_factory=dict)  # RevPAR's denominators
    stays: int = 0
    stay_nights: int = 0  # all nights of the stays counted (for the average length)
    lead_days: int = 0
    lead_known: int = 0
    cancellations: int = 0
    platforms: dict[str, PlatformShare] = field(default_factory=dict)

    @property
    def nights_available(self) -> int:
        return self.nights_in_period - self.nights_blocked

    @property
    def occupancy(self) -> Decimal | None:
        """A fraction (0.6452 is 64.52 %); None without an available night."""
        if not self.nights_available:
            return None
        return (Decimal(self.nights_booked) / self.nights_available).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.revenue) | set(self.available_by_currency) | set(self.estimated_revenue))

    def adr(self, currency: str) -> Decimal | None:
        nights = self.nights_priced.get(currency, 0)
        return _cents(self.revenue.get(currency, Decimal(0)) / nights) if nights else None

    def revpar(self, currency: str) -> Decimal | None:
        nights = self.available_by_currency.get(currency, 0)
        return _cents(self.revenue.get(currency, Decimal(0)) / nights) if nights else None

    @property
    def average_stay(self) -> Decimal | None:
        return (Decimal(self.stay_nights) / self.stays).quantize(Decimal("0.1"), ROUND_HALF_UP) if self.stays else None

    @property
    def average_lead_time(self) -> Decimal | None:
        if not self.lead_known:
            return None
        return (Decimal(self.lead_days) / self.lead_known).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def nights_with_stays(self) -> int:
        """Stay nights in the period, priced or not ("9 of 31 nights without a price")."""
        return sum(self.nights_priced.values()) + self.nights_unpriced

    def add(self, other: Figures) -> None:
        self.nights_in_period += other.nights_in_period
        self.nights_blocked += other.nights_blocked
        self.nights_booked += other.nights_booked
        self.nights_unpriced += other.nights_unpriced
        self.nights_estimated += other.nights_estimated
        self.stays += other.stays
        self.stay_nights += other.stay_nights
        self.lead_days += other.lead_days
        self.lead_known += other.lead_known
        self.cancellations += other.cancellations
        _add_into(self.revenue, other.revenue)
        _add_into(self.nights_priced, other.nights_priced)
        _add_into(self.estimated_revenue, other.estimated_revenue)
        _add_into(self.available_by_currency, other.available_by_currency)
        for source, share in other.platforms.items():
            mine = self.platforms.setdefault(source, PlatformShare())
            mine.nights += share.nights
            _add_into(mine.revenue, share.revenue)

    def nights_share(self, source: str) -> Decimal | None:
        share = self.platforms.get(source)
        if share is None or not self.nights_booked:
            return None
        return (Decimal(share.nights) / self.nights_booked).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    def revenue_share(self, source: str, currency: str) -> Decimal | None:
        share = self.platforms.get(source)
        total = self.revenue.get(currency, Decimal(0))
        if share is None or not total:
            return None
        return (share.revenue.get(currency, Decimal(0)) / total).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    def sorted_platforms(self) -> list[tuple[str, PlatformShare]]:
        return sorted(self.platforms.items(), key=lambda item: (-item[1].nights, item[0]))


def _add_into(target: dict[Any, Any], other: Mapping[Any, Any]) -> None:
    for key, value in other.items():
        target[key] = target.get(key, 0) + value


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def property_figures(prop: PropertyFacts, stays: Iterable[Stay], period: Period) -> Figures:
    """The figures of one property's stays (others are ignored) over `period`."""
    start, end = period.start.toordinal(), period.end.toordinal()
    zone = ZoneInfo(prop.timezone)
    result = Figures(nights_in_period=period.nights)
    booked: set[int] = set()
    blocked: set[int] = set()
    by_source: dict[str, set[int]] = defaultdict(set)
    currencies = {prop.currency}
    revenue, priced, estimated = result.revenue, result.nights_priced, result.estimated_revenue
    zero = Decimal(0)
    for stay in stays:
        if stay.property_id != prop.id or stay.check_out <= period.start or stay.check_in >= period.end:
            continue
        if stay.kind == "block":
            if not stay.cancelled:
                blocked.update(range(max(stay.check_in.toordinal(), start), min(stay.check_out.toordinal(), end)))
            continue
        if stay.kind != "reservation":
            continue
        own = stay.own_nights()
        inside = own if own and own[0] >= start and own[-1] < end else [n for n in own if start <= n < end]
        if not inside:
            continue
        if stay.cancelled:
            result.cancellations += 1
            continue
        booked.update(inside)
        by_source[stay.source].update(inside)
        share = result.platforms.setdefault(stay.source, PlatformShare())
        result.stays += 1
        result.stay_nights += len(own)
        if stay.booked_at is not None:
            booked_on = stay.booked_at.astimezone(zone).date()
            result.lead_days += max((stay.check_in - booked_on).days, 0)
            result.lead_known += 1
        count = len(inside)
        if stay.price is not None:
            currency = stay.currency or prop.currency
            currencies.add(currency)
            amount = stay.price * count / len(own) if count != len(own) else stay.price
            revenue[currency] = revenue.get(currency, zero) + amount
            share.revenue[currency] = share.revenue.get(currency, zero) + amount
            priced[currency] = priced.get(currency, 0) + count
        else:
            result.nights_unpriced += count
            if prop.default_rate is not None:
                estimated[prop.currency] = estimated.get(prop.currency, zero) + prop.default_rate * count
                result.nights_estimated += count
    result.nights_booked = len(booked)
    result.nights_blocked = len(blocked - booked)
    for source, nights in by_source.items():
        result.platforms[source].nights = len(nights)
    for currency in currencies:
        result.revenue.setdefault(currency, Decimal(0))
        result.available_by_currency[currency] = result.nights_available
    return result


# --- a report: every property and all of them, this period and the same one last year ----------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    current: Figures
    last_year: Figures


@dataclass(frozen=True, slots=True)
class MonthPoint:
    """One month of the chart: booked nights per platform and occupancy, this year and a year before."""

    month: date  # its first day
    nights: dict[str, int]
    occupancy: Decimal | None
    last_year_nights: dict[str, int]
    last_year_occupancy: Decimal | None


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    properties: list[tuple[PropertyFacts, Comparison]]
    total: Comparison
    months: list[MonthPoint]

    @property
    def platforms(self) -> list[str]:
        """Every platform that booked a night in the chart or the figures, most nights first."""
        counts: dict[str, int] = defaultdict(int)
        for point in self.months:
            for source, nights in (*point.nights.items(), *point.last_year_nights.items()):
                counts[source] += nights
        for figures in (self.total.current, self.total.last_year):
            for source, share in figures.platforms.items():
                counts[source] += share.nights
        return sorted(counts, key=lambda source: (-counts[source], source))


def build_report(
    properties: Sequence[PropertyFacts], stays: Iterable[Stay], period: Period, *, chart: bool = True
) -> Report:
    by_property: dict[int, list[Stay]] = defaultdict(list)
    for stay in stays:
        by_property[stay.property_id].append(stay)
    rows = []
    total = Comparison(Figures(), Figures())
    previous = period.last_year()
    for prop in properties:
        mine = by_property.get(prop.id, [])
        comparison = Comparison(property_figures(prop, mine, period), property_figures(prop, mine, previous))
        total.current.add(comparison.current)
        total.last_year.add(comparison.last_year)
        rows.append((prop, comparison))
    months = monthly_points(properties, by_property, period.chart_months()) if chart else []
    return Report(period, rows, total, months)


def monthly_points(
    properties: Sequence[PropertyFacts], by_property: Mapping[int, Sequence[Stay]], months: Sequence[Period]
) -> list[MonthPoint]:
    """Per month, over all `properties`: nights booked per platform and occupancy, and the same a year before."""
    if not months:
        return []
    window = Period(months[0].start, months[-1].end)
    previous = window.last_year()
    this_year = _month_series(properties, by_property, window)
    last_year = _month_series(properties, by_property, previous)
    points = []
    for month in months:
        key, old_key = (month.start.year, month.start.month), (month.start.year - 1, month.start.month)
        nights, booked, available = this_year.get(key, ({}, 0, 0))
        old_nights, old_booked, old_available = last_year.get(old_key, ({}, 0, 0))
        points.append(
            MonthPoint(month.start, nights, _ratio(booked, available), old_nights, _ratio(old_booked, old_available))
        )
    return points


def _ratio(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / whole).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else None


def _month_series(
    properties: Sequence[PropertyFacts], by_property: Mapping[int, Sequence[Stay]], window: Period
) -> dict[tuple[int, int], tuple[dict[str, int], int, int]]:
    """(year, month) -> (nights per platform, booked nights, available nights), all properties together."""
    start, end = window.start.toordinal(), window.end.toordinal()
    month_of = [(d.year, d.month) for d in (window.start + timedelta(days=i) for i in range(end - start))]
    platform_nights: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    booked_count: dict[tuple[int, int], int] = defaultdict(int)
    blocked_count: dict[tuple[int, int], int] = defaultdict(int)
    for prop in properties:
        booked: set[int] = set()
        blocked: set[int] = set()
        by_source: dict[str, set[int]] = defaultdict(set)
        for stay in by_property.get(prop.id, ()):
            if stay.cancelled or stay.check_out <= window.start or stay.check_in >= window.end:
                continue
            if stay.kind == "block":
                blocked.update(range(max(stay.check_in.toordinal(), start), min(stay.check_out.toordinal(), end)))
            elif stay.kind == "reservation":
                inside = [n for n in stay.own_nights() if start <= n < end]
                booked.update(inside)
                by_source[stay.source].update(inside)
        for night in booked:
            booked_count[month_of[night - start]] += 1
        for night in blocked - booked:
            blocked_count[month_of[night - start]] += 1
        for source, nights in by_source.items():
            for night in nights:
                platform_nights[month_of[night - start]][source] += 1
    days_in: dict[tuple[int, int], int] = defaultdict(int)
    for key in month_of:
        days_in[key] += 1
    return {
        key: (
            dict(platform_nights.get(key, {})),
            booked_count.get(key, 0),
            days_in[key] * len(properties) - blocked_count.get(key, 0),
        )
        for key in days_in
    }


# --- as plain data (lumina stats --json, the XLSX summary) --------------------------------------------------


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _money(values: Mapping[str, Decimal]) -> dict[str, float | int | None]:
    return {currency: _number(_cents(amount)) for currency, amount in sorted(values.items())}


def figures_dict(figures: Figures) -> dict[str, Any]:
    """Every figure by name; null where it cannot be known (ADR without a priced night, occupancy without an
    available night). Money is per currency; occupancy and shares are fractions (0.6452 is 64.52 %)."""
    currencies = figures.currencies
    return {
        "nights_in_period": figures.nights_in_period,
        "nights_blocked": figures.nights_blocked,
        "nights_available": figures.nights_available,
        "nights_booked": figures.nights_booked,
        "occupancy": _number(figures.occupancy),
        "revenue": _money({c: figures.revenue.get(c, Decimal(0)) for c in currencies}),
        "adr": {c: _number(figures.adr(c)) for c in currencies},
        "revpar": {c: _number(figures.revpar(c)) for c in currencies},
        "nights_priced": {c: figures.nights_priced.get(c, 0) for c in currencies},
        "nights_unpriced": figures.nights_unpriced,
        "estimated_revenue": _money(figures.estimated_revenue) if figures.nights_estimated else None,
        "nights_estimated": figures.nights_estimated,
        "stays": figures.stays,
        "average_stay_nights": _number(figures.average_stay),
        "average_lead_time_days": _number(figures.average_lead_time),
        "lead_time_known_stays": figures.lead_known,
        "cancellations": figures.cancellations,
        "platforms": {
            source: {
                "nights": share.nights,
                "nights_share": _number(figures.nights_share(source)),
                "revenue": _money(share.revenue),
                "revenue_share": {c: _number(figures.revenue_share(source, c)) for c in sorted(share.revenue)},
            }
            for source, share in figures.sorted_platforms()
        },
    }


def difference(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """This period minus last year's, figure by figure (numbers, and money per currency); null where either is."""

    def minus(a: Any, b: Any) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            return {key: minus(a.get(key), b.get(key)) for key in sorted(set(a) | set(b))}
        if isinstance(a, int | float) and isinstance(b, int | float):
            result = Decimal(str(a)) - Decimal(str(b))
            return _number(result)
        return None

    skip = {"platforms", "nights_in_period"}
    return {key: minus(value, previous.get(key)) for key, value in current.items() if key not in skip}


def report_dicts(report: Report) -> list[dict[str, Any]]:
    """One object per property and one for all of them (property_id null)."""
    period = {"from": report.period.start.isoformat(), "to": report.period.last_night.isoformat()}
    previous = report.period.last_year()
    last = {"from": previous.start.isoformat(), "to": previous.last_night.isoformat()}
    rows: list[tuple[int | None, str | None, Comparison]] = [(p.id, p.name, c) for p, c in report.properties]
    rows.append((None, None, report.total))
    found = []
    for property_id, name, comparison in rows:
        current, old = figures_dict(comparison.current), figures_dict(comparison.last_year)
        found.append(
            {
                "property_id": property_id,
                "property": name,
                "period": period,
                "figures": current,
                "last_year_period": last,
                "last_year": old,
                "difference": difference(current, old),
            }
        )
    return found


# --- a report kept as JSON (the monthly summary waits in the outbox as one) ----------------------------------


def _raw_money(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in values.items()}


def _figures_raw(figures: Figures) -> dict[str, Any]:
    return {
        "ints": [figures.nights_in_period, figures.nights_blocked, figures.nights_booked, figures.nights_unpriced,
                 figures.nights_estimated, figures.stays, figures.stay_nights, figures.lead_days, figures.lead_known,
                 figures.cancellations],  # fmt: skip
        "revenue": _raw_money(figures.revenue),
        "priced": figures.nights_priced,
        "estimated": _raw_money(figures.estimated_revenue),
        "available": figures.available_by_currency,
        "platforms": {s: [p.nights, _raw_money(p.revenue)] for s, p in figures.platforms.items()},
    }


def _figures_from_raw(raw: Mapping[str, Any]) -> Figures:
    ints = raw["ints"]
    figures = Figures(*ints[:3])
    (figures.nights_unpriced, figures.nights_estimated, figures.stays, figures.stay_nights, figures.lead_days,
     figures.lead_known, figures.cancellations) = ints[3:]  # fmt: skip
    figures.revenue = {c: Decimal(v) for c, v in raw["revenue"].items()}
    figures.nights_priced = dict(raw["priced"])
    figures.estimated_revenue = {c: Decimal(v) for c, v in raw["estimated"].items()}
    figures.available_by_currency = dict(raw["available"])
    figures.platforms = {
        s: PlatformShare(nights, {c: Decimal(v) for c, v in money.items()})
        for s, (nights, money) in raw["platforms"].items()
    }
    return figures


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def report_to_raw(report: Report) -> dict[str, Any]:
    return {
        "period": [report.period.start.isoformat(), report.period.end.isoformat()],
        "properties": [
            [[p.id, p.name, p.currency, p.timezone, _optional(p.default_rate)],
             _figures_raw(c.current), _figures_raw(c.last_year)]
            for p, c in report.properties
        ],  # fmt: skip
        "total": [_figures_raw(report.total.current), _figures_raw(report.total.last_year)],
        "months": [
            [m.month.isoformat(), m.nights, _optional(m.occupancy), m.last_year_nights,
             _optional(m.last_year_occupancy)]
            for m in report.months
        ],
    }


def report_from_raw(raw: Mapping[str, Any]) -> Report:
    def dec(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    properties = []
    for (pid, name, currency, timezone, rate), current, old in raw["properties"]:
        facts = PropertyFacts(pid, name, currency, timezone, dec(rate))
        properties.append((facts, Comparison(_figures_from_raw(current), _figures_from_raw(old))))
    return Report(
        period=Period(date.fromisoformat(raw["period"][0]), date.fromisoformat(raw["period"][1])),
        properties=properties,
        total=Comparison(_figures_from_raw(raw["total"][0]), _figures_from_raw(raw["total"][1])),
        months=[
            MonthPoint(date.fromisoformat(month), dict(nights), dec(occupancy), dict(old), dec(old_occupancy))
            for month, nights, occupancy, old, old_occupancy in raw["months"]
        ],
    )
