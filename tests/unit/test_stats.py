"""Every figure of domain.stats pinned on a hand-made calendar: edge-crossing stays, unpriced nights, blocks, two
currencies, a leap day, a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.stats import (
    Period,
    PropertyFacts,
    Stay,
    build_report,
    figures_dict,
    property_figures,
    report_dicts,
    standard_periods,
    year_before,
)

D = Decimal
FLAT = PropertyFacts(1, "Apto 101", "BRL", "America/Sao_Paulo")
FEB_2028 = Period(date(2028, 2, 1), date(2028, 3, 1))  # 29 nights: 2028 is a leap year


def stay(sid: int, source: str, start: date, end: date, **kw: object) -> Stay:
    return Stay(sid, kw.pop("property_id", 1), source, start, end, **kw)  # type: ignore[arg-type]


def feb(day: int) -> date:
    return date(2028, 2, day)


# The hand-made calendar of Apto 101, February 2028 (the nights 1..29):
#   1-2   airbnb  28/01 -> 03/02, 6 nights, R$ 600: 2 nights inside, R$ 200
#   5-7   block (3 nights, free of guests)
#   10-14 booking 10/02 -> 15/02, R$ 1.000, booked 10/01 (lead 31 days); a block on 12-13 under it is no block
#   16-17 airbnb, cancelled
#   20-22 airbnb, no price
#   24    booking: a Booking.com closure of a night another calendar sold (echo), not its own
#   25-26 booking 24/02 -> 27/02, its own nights 25-26, R$ 300
#   27-29 direct 27/02 -> 02/03, 4 nights, R$ 400: 3 inside (the leap day too), R$ 300; booked 19/02 23:30 local
CALENDAR = [
    stay(1, "airbnb", date(2028, 1, 28), feb(3), price=D("600")),
    stay(2, "block", feb(5), feb(8), kind="block"),
    stay(3, "booking", feb(10), feb(15), price=D("1000"), booked_at=datetime(2028, 1, 10, 12, tzinfo=UTC)),
    stay(4, "booking", feb(12), feb(14), kind="block"),
    stay(5, "airbnb", feb(16), feb(18), cancelled=True, price=D("999")),
    stay(6, "airbnb", feb(20), feb(23)),
    stay(7, "booking", feb(24), feb(27), price=D("300"), echo_nights=((feb(24), feb(25)),)),
    stay(8, "direct", feb(27), date(2028, 3, 2), price=D("400"), booked_at=datetime(2028, 2, 20, 2, 30, tzinfo=UTC)),
    stay(9, "airbnb", date(2027, 2, 27), date(2027, 3, 3), price=D("400")),  # last year: 2 of its 4 nights
    stay(10, "airbnb", feb(3), feb(5), price=D("1"), property_id=99),  # another property's: ignored here
]


def test_every_figure_of_one_property_on_the_hand_made_calendar():
    f = property_figures(FLAT, CALENDAR, FEB_2028)
    assert f.nights_in_period == 29
    assert f.nights_blocked == 3
    assert f.nights_available == 26
    assert f.nights_booked == 2 + 5 + 3 + 2 + 3 == 15
    assert f.occupancy == D("0.5769")  # 15 / 26
    assert f.revenue == {"BRL": D("1800")}  # 200 + 1000 + 300 + 300
    assert f.nights_priced == {"BRL": 12}
    assert f.adr("BRL") == D("150.00")  # the 3 unpriced nights are not zeros
    assert f.revpar("BRL") == D("69.23")  # 1800 / 26
    assert (f.nights_unpriced, f.nights_with_stays) == (3, 15)
    assert f.estimated_revenue == {} and f.nights_estimated == 0
    assert f.stays == 5
    assert f.average_stay == D("4.0")  # (6 + 5 + 2 + 3 + 4) / 5
    assert (f.lead_known, f.average_lead_time) == (2, D("19.5"))  # 31 and 8 days
    assert f.cancellations == 1
    assert {s: (p.nights, p.revenue) for s, p in f.platforms.items()} == {
        "airbnb": (5, {"BRL": D("200")}),
        "booking": (7, {"BRL": D("1300")}),
        "direct": (3, {"BRL": D("300")}),
    }
    assert f.nights_share("booking") == D("0.4667")
    assert f.revenue_share("booking", "BRL") == D("0.7222")


def test_the_same_period_last_year_has_no_leap_day():
    previous = FEB_2028.last_year()
    assert previous == Period(date(2027, 2, 1), date(2027, 3, 1)) and previous.nights == 28
    f = property_figures(FLAT, CALENDAR, previous)
    assert (f.nights_booked, f.nights_available, f.occupancy) == (2, 28, D("0.0714"))
    assert f.revenue == {"BRL": D("200")} and f.adr("BRL") == D("100.00")
    assert f.average_stay == D("4.0") and f.average_lead_time is None and f.lead_known == 0


def test_a_stay_crossing_both_edges_counts_its_nights_inside_pro_rata():
    long_stay = stay(1, "vrbo", date(2028, 1, 30), date(2028, 3, 3), price=D("3300"))  # 33 nights, R$ 100 each
    f = property_figures(FLAT, [long_stay], FEB_2028)
    assert (f.nights_booked, f.stays, f.stay_nights) == (29, 1, 33)
    assert f.revenue == {"BRL": D("2900")} and f.adr("BRL") == D("100.00") and f.occupancy == D("1")


def test_a_leap_day_is_a_night_like_any_other():
    leap = property_figures(FLAT, [stay(1, "airbnb", feb(29), date(2028, 3, 1), price=D("90"))], FEB_2028)
    assert (leap.nights_booked, leap.revenue, leap.occupancy) == (1, {"BRL": D("90")}, D("0.0345"))
    assert year_before(feb(29)) == date(2027, 2, 28)
    assert Period(feb(29), date(2028, 3, 1)).last_year() == Period(date(2027, 2, 28), date(2027, 3, 1))


def test_nights_across_a_dst_change_and_lead_time_in_the_propertys_time():
    lisbon = PropertyFacts(3, "Alfama", "EUR", "Europe/Lisbon")
    october = Period(date(2027, 10, 1), date(2027, 11, 1))  # clocks go back at 02:00 on 31/10: a 25-hour night
    # Booked at 23:30 UTC on 29/10, which is already 00:30 on 30/10 in Lisbon (summer time, UTC+1): lead 0 days.
    guest = Stay(1, 3, "airbnb", date(2027, 10, 30), date(2027, 11, 2), price=D("300"),
                 booked_at=datetime(2027, 10, 29, 23, 30, tzinfo=UTC))  # fmt: skip
    f = property_figures(lisbon, [guest], october)
    assert (f.nights_in_period, f.nights_booked, f.occupancy) == (31, 2, D("0.0645"))
    assert f.revenue == {"EUR": D("200")}
    assert (f.lead_known, f.average_lead_time) == (1, D("0"))
    # And in winter time (UTC+0) 23:30 UTC is 23:30 in Lisbon: booked on 16/11, 4 days ahead.
    later = Stay(2, 3, "airbnb", date(2027, 11, 20), date(2027, 11, 22), booked_at=datetime(2027, 11, 16, 23, 30,
                 tzinfo=UTC))  # fmt: skip
    assert property_figures(lisbon, [later], Period(date(2027, 11, 1), date(2027, 12, 1))).average_lead_time == 4


def test_two_currencies_are_summed_apart_and_estimates_kept_apart():
    beach = PropertyFacts(2, "Beach house", "USD", "America/New_York", default_rate=D("100"))
    stays = [
        *CALENDAR,
        stay(20, "airbnb", feb(1), feb(5), price=D("400"), property_id=2),  # USD, the property's currency
        stay(21, "booking", feb(10), feb(12), price=D("300"), currency="EUR", property_id=2),
        stay(22, "vrbo", feb(20), feb(23), property_id=2),  # no price: 3 nights estimated at US$ 100
    ]
    report = build_report([FLAT, beach], stays, FEB_2028)
    b = report.properties[1][1].current
    assert b.revenue == {"USD": D("400"), "EUR": D("300")}
    assert b.adr("USD") == D("100.00") and b.adr("EUR") == D("150.00")
    assert b.revpar("USD") == D("13.79") and b.revpar("EUR") == D("10.34")  # 400 / 29, 300 / 29
    assert (b.nights_unpriced, b.nights_estimated, b.estimated_revenue) == (3, 3, {"USD": D("300")})
    everything = report.total.current
    assert everything.revenue == {"BRL": D("1800"), "USD": D("400"), "EUR": D("300")}
    assert everything.nights_booked == 15 + 9 and everything.nights_available == 26 + 29
    assert everything.occupancy == D("0.4364")
    assert everything.adr("BRL") == D("150.00") and everything.adr("USD") == D("100.00")
    assert everything.revpar("BRL") == D("69.23")  # reais over the flat's available nights only
    assert everything.revpar("USD") == D("13.79")
    assert everything.platforms["booking"].revenue == {"BRL": D("1300"), "EUR": D("300")}
    assert everything.stays == 5 + 3 and everything.cancellations == 1
    assert report.total.last_year.revenue == {"BRL": D("200"), "USD": D("0")}


def test_double_booked_nights_count_once_for_the_property_and_once_per_platform():
    stays = [stay(1, "airbnb", feb(1), feb(5), price=D("400")), stay(2, "booking", feb(3), feb(7), price=D("800"))]
    f = property_figures(FLAT, stays, FEB_2028)
    assert f.nights_booked == 6 and f.platforms["airbnb"].nights == 4 and f.platforms["booking"].nights == 4
    assert f.revenue == {"BRL": D("1200")} and f.adr("BRL") == D("150.00")


def test_a_property_without_stays_has_zero_revenue_and_unknown_adr():
    data = figures_dict(property_figures(FLAT, [], FEB_2028))
    assert data["revenue"] == {"BRL": 0} and data["adr"] == {"BRL": None} and data["revpar"] == {"BRL": 0}
    assert data["occupancy"] == 0 and data["average_stay_nights"] is None and data["average_lead_time_days"] is None
    everything_blocked = property_figures(FLAT, [stay(1, "direct", feb(1), date(2028, 3, 1), kind="block")], FEB_2028)
    assert everything_blocked.nights_available == 0 and everything_blocked.occupancy is None


def test_plain_data_names_every_figure_with_last_year_and_the_difference():
    rows = report_dicts(build_report([FLAT], CALENDAR, FEB_2028))
    assert [r["property_id"] for r in rows] == [1, None]
    flat = rows[0]
    assert flat["period"] == {"from": "2028-02-01", "to": "2028-02-29"}
    assert flat["last_year_period"] == {"from": "2027-02-01", "to": "2027-02-28"}
    figures = flat["figures"]
    assert figures["occupancy"] == 0.5769 and figures["adr"] == {"BRL": 150} and figures["revpar"] == {"BRL": 69.23}
    assert figures["nights_unpriced"] == 3 and figures["estimated_revenue"] is None
    assert figures["platforms"]["booking"] == {
        "nights": 7, "nights_share": 0.4667, "revenue": {"BRL": 1300}, "revenue_share": {"BRL": 0.7222},
    }  # fmt: skip
    assert flat["difference"]["nights_booked"] == 13 and flat["difference"]["revenue"] == {"BRL": 1600}
    assert flat["difference"]["average_lead_time_days"] is None  # unknown last year
    assert rows[1]["figures"] == figures


@pytest.mark.parametrize(
    ("today", "name", "expected"),
    [
        (date(2028, 2, 29), "this_month", (date(2028, 2, 1), date(2028, 3, 1))),
        (date(2028, 1, 15), "last_month", (date(2027, 12, 1), date(2028, 1, 1))),
        (date(2028, 1, 15), "this_year", (date(2028, 1, 1), date(2029, 1, 1))),
        (date(2028, 1, 15), "last_12_months", (date(2027, 1, 1), date(2028, 1, 1))),
    ],
)
def test_standard_periods(today: date, name: str, expected: tuple[date, date]):
    assert standard_periods(today)[name] == Period(*expected)


def test_the_chart_shows_at_least_twelve_months_and_last_years_beside_them():
    assert [p.start for p in FEB_2028.chart_months()][:2] == [date(2027, 3, 1), date(2027, 4, 1)]
    assert len(FEB_2028.chart_months()) == 12 and FEB_2028.chart_months()[-1] == FEB_2028
    report = build_report([FLAT], CALENDAR, FEB_2028)
    january, february = report.months[-2:]
    assert january.month == date(2028, 1, 1) and january.nights == {"airbnb": 4}
    assert february.nights == {"airbnb": 5, "booking": 7, "direct": 3}
    assert february.occupancy == D("0.5769") and february.last_year_occupancy == D("0.0714")
    assert february.last_year_nights == {"airbnb": 2}
    assert report.platforms == ["airbnb", "booking", "direct"]
    with pytest.raises(ValueError):
        Period(feb(2), feb(2))


def test_a_report_kept_as_json_comes_back_the_same():
    import json

    from domain.stats import report_from_raw, report_to_raw

    beach = PropertyFacts(2, "Beach house", "USD", "America/New_York", default_rate=D("100"))
    stays = [*CALENDAR, stay(22, "vrbo", feb(20), feb(23), property_id=2)]
    report = build_report([FLAT, beach], stays, FEB_2028)
    again = report_from_raw(json.loads(json.dumps(report_to_raw(report))))
    assert report_dicts(again) == report_dicts(report)
    assert again.months == report.months and again.properties[1][0] == beach


@pytest.mark.parametrize(
    ("local", "hour", "due"),
    [
        (datetime(2028, 3, 1, 8, 0), None, True),  # 08:00 without a summary hour
        (datetime(2028, 3, 1, 7, 59), None, False),
        (datetime(2028, 3, 1, 10, 59), None, True),  # within the 3 hours of grace
        (datetime(2028, 3, 1, 11, 0), None, False),
        (datetime(2028, 3, 1, 6, 30), 6, True),  # at the daily summary's hour
        (datetime(2028, 3, 2, 8, 0), None, False),  # only on the 1st
    ],
)
def test_the_monthly_summary_is_due_on_the_first_at_the_summary_hour(local: datetime, hour: int | None, due: bool):
    from zoneinfo import ZoneInfo

    from domain.monthly_stats import monthly_due

    zone = ZoneInfo("America/Sao_Paulo")
    period = monthly_due(local.replace(tzinfo=zone), zone, hour)
    assert (period == Period(feb(1), date(2028, 3, 1))) if due else period is None
