from datetime import date, time
from decimal import Decimal

import pytest

from domain.inputs import (
    InputError,
    parse_date,
    parse_date_pair,
    parse_email,
    parse_money,
    parse_stay,
    parse_text,
    parse_time,
)

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/08", date(2027, 8, 12)),  # no year: the next 12 August
        ("12/08/2027", date(2027, 8, 12)),
        ("12/8/27", date(2027, 8, 12)),
        ("2027-08-12", date(2027, 8, 12)),
        ("12 ago", date(2027, 8, 12)),
        ("12 de agosto", date(2027, 8, 12)),
        ("12 Agosto 2027", date(2027, 8, 12)),
        ("Aug 12", date(2027, 8, 12)),
        ("aug 12, 2027", date(2027, 8, 12)),
        ("12.08.2027", date(2027, 8, 12)),
        ("30/11", date(2026, 11, 30)),
        ("29/11", date(2026, 11, 29)),  # today counts
        ("1 dez", date(2026, 12, 1)),
        ("29/02", date(2028, 2, 29)),  # the next 29 February that exists
    ],
)
def test_dates_people_type(typed, expected):
    assert parse_date(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("31/02", "date_invalid"),
        ("31/02/2027", "date_invalid"),
        ("13/13", "date_invalid"),
        ("tomorrowish", "date_format"),
        ("", "date_empty"),
        ("12 foo", "date_format"),
        ("x" * 5000, "date_format"),
    ],
)
def test_dates_that_do_not_exist(typed, code):
    with pytest.raises(InputError) as error:
        parse_date(typed, today=TODAY)
    assert error.value.code == code


def test_stay_checkout_without_year_wraps_into_next_year():
    stay = parse_stay("28/12", "03/01", today=TODAY)
    assert (stay.check_in, stay.check_out, stay.nights) == (date(2026, 12, 28), date(2027, 1, 3), 6)


@pytest.mark.parametrize(
    ("a", "b", "code"),
    [
        ("12/08/2027", "10/08/2027", "checkout_before_checkin"),
        ("12/08/2027", "12/08/2027", "checkout_before_checkin"),
        ("01/11/2026", "05/11/2026", "date_past"),
        ("01/01/2027", "01/01/2029", "stay_too_long"),
    ],
)
def test_wrong_stays(a, b, code):
    with pytest.raises(InputError) as error:
        parse_stay(a, b, today=TODAY)
    assert error.value.code == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234,5", "1234.50"),
        ("R$ 1.234", "1234.00"),
        ("1234", "1234.00"),
        ("R$1.234.567,89", "1234567.89"),
        ("0,99", "0.99"),
        ("350", "350.00"),
        ("€ 99.9", "99.90"),
    ],
)
def test_money(typed, expected):
    assert parse_money(typed) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("abc", "money_format"),
        ("-5", "money_negative"),
        ("1.23.4,5", "money_format"),
        ("99999999999", "money_too_large"),
    ],
)
def test_wrong_money(typed, code):
    with pytest.raises(InputError) as error:
        parse_money(typed)
    assert error.value.code == code


def test_times_emails_and_text():
    assert [parse_time(t) for t in ("15:00", "15h", "15h30", "9", "09.30")] == [
        time(15),
        time(15),
        time(15, 30),
        time(9),
        time(9, 30),
    ]
    with pytest.raises(InputError):
        parse_time("25:00")
    assert parse_email(" portaria@condominio.com.br ") == "portaria@condominio.com.br"
    with pytest.raises(InputError):
        parse_email("not an email")
    assert parse_text("  Apto   101 ", max_length=20) == "Apto 101"
    with pytest.raises(InputError) as error:
        parse_text("x" * 5000, max_length=120)
    assert error.value.code == "text_too_long" and error.value.detail == {"max": 120, "length": 5000}


@pytest.mark.parametrize("typed", ["12/08 15/08", "12 ago 15 ago", "12/08 - 15/08", "12/08 to 15/08",
                                   "12/08 a 15/08", "2027-08-12 2027-08-15", "12 de agosto até 15 de agosto"])
def test_date_pairs(typed):
    from domain.inputs import parse_date_pair

    stay = parse_date_pair(typed, today=TODAY)
    assert (stay.check_in, stay.check_out) == (date(2027, 8, 12), date(2027, 8, 15))


@pytest.mark.parametrize(("typed", "code"), [("15/08 12/08/2027", "checkout_before_checkin"), ("hello", "date_pair"),
                                             ("31/02 03/03", "date_invalid")])
def test_wrong_date_pairs(typed, code):
    from domain.inputs import parse_date_pair

    with pytest.raises(InputError) as error:
        parse_date_pair(typed, today=TODAY)
    assert error.value.code == code


def test_reversed_yearless_dates_are_an_error_not_a_year_long_stay():
    today = date(2026, 12, 3)
    with pytest.raises(InputError) as raised:
        parse_date_pair("15/12 10/12", today=today)
    assert raised.value.code == "checkout_before_checkin"
    assert parse_date_pair("28/12 03/01", today=today).nights == 6  # across New Year: next year's January
    assert parse_date("07/19/2027", today=today) == date(2027, 7, 19)  # only month first makes sense


@pytest.mark.parametrize(
    ("typed", "hour", "minute"),
    [("3 pm", 15, 0), ("3pm", 15, 0), ("3:30 PM", 15, 30), ("11 a.m.", 11, 0), ("12 am", 0, 0), ("12pm", 12, 0)],
)
def test_am_pm_times(typed, hour, minute):
    assert parse_time(typed) == time(hour, minute)


def test_time_zones_by_iana_name_city_or_near_miss():
    from domain.timezones import find_timezone

    assert find_timezone("UTC") == "UTC" and find_timezone("america/sao paulo") == "America/Sao_Paulo"
    assert find_timezone("Lisboa") == find_timezone("lisbon") == "Europe/Lisbon"
    with pytest.raises(InputError) as caught:
        find_timezone("Lisbn")
    assert "Europe/Lisbon" in caught.value.detail["suggestions"]
