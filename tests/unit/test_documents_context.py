"""The pure core of documents: who is staying, what is missing, the template context, file names, amounts in words,
and reading what the host types."""

from __future__ import annotations

import dataclasses
from datetime import date, time
from decimal import Decimal

import pytest

from domain.documents.answers import parse_answer, parse_guest_document, parse_info, parse_lines
from domain.documents.context import (
    FIELDS,
    INFO_KEYS,
    KIND_FIELDS,
    KINDS,
    SECRET_INFO,
    DocumentData,
    Need,
    Person,
    build_context,
    file_name,
    needs,
    people,
    sample_data,
    slugify,
)
from domain.documents.words import amount_in_words
from domain.inputs import InputError

BASE = DocumentData(
    property_name="Apto 101",
    property_address="Rua A, 1",
    checkin_time=time(15),
    checkout_time=time(11),
    currency="BRL",
    check_in=date(2027, 8, 12),
    check_out=date(2027, 8, 15),
    info={"host_name": "Ana", "host_document": "", "city": "Rio"},
)
EVERYTHING = frozenset().union(*FIELDS.values())


def data(**changes: object) -> DocumentData:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


# --- who is staying ---------------------------------------------------------------------------------------------


def test_the_main_guest_comes_first_and_is_matched_by_name_whatever_the_accents_and_case():
    rows = (Person("João Pereira", "RG", "1", 10), Person("MARIA  souza", "CPF", "2", 11))
    everyone = people(data(main_guest="Maria Sóuza", guests=rows))
    assert [p.guest_id for p in everyone] == [11, 10]


def test_a_main_guest_known_only_by_name_has_no_row_yet():
    everyone = people(data(main_guest="Maria", guests=(Person("João", None, None, 10),)))
    assert everyone == [Person("Maria"), Person("João", None, None, 10)]
    assert people(data(guests=(Person("João", None, None, 10),)))[0].name == "João"  # no name: the first row
    assert people(data()) == []


# --- what is missing --------------------------------------------------------------------------------------------


def test_nobody_known_asks_the_main_guest_first_and_only():
    assert needs("authorization", EVERYTHING, data()) == [Need("guest_name")]


def test_the_guest_list_needs_the_count_every_document_and_every_companion():
    rows = (Person("Maria", "CPF", "1", 1), Person("João", None, None, 2))
    found = needs("authorization", frozenset({"guests"}), data(main_guest="Maria", guests=rows, guests_count=3))
    assert found == [Need("guest_document", guest_id=2, person="João"), Need("companion")]
    found = needs("authorization", frozenset({"guests"}), data(main_guest="Maria"))
    assert found == [Need("guests_count"), Need("guest_document", person="Maria")]


def test_only_the_fields_a_template_uses_are_asked():
    sparse = data(main_guest="Maria", info={})
    assert needs("receipt", frozenset({"guest_name", "check_in"}), sparse) == []
    assert [n.key for n in needs("receipt", frozenset({"amount_words"}), sparse)] == ["price"]
    assert needs("receipt", frozenset({"host_name", "host_document"}), sparse) == [
        Need("info", info="host_name"), Need("info", info="host_document", skippable=True)]  # fmt: skip


def test_empty_means_there_is_none_and_is_not_asked_again():
    used = frozenset({"vehicle_plate", "wifi_name", "wifi_password", "door_code"})
    unknown = needs("checkin", used, data(main_guest="M"))
    assert [(n.key, n.info, n.skippable) for n in unknown] == [
        ("vehicle_plate", "", True), ("info", "door_code", True), ("info", "wifi_name", True),
        ("info", "wifi_password", True)]  # fmt: skip
    known = data(main_guest="M", vehicle_plate="", info={"door_code": "", "wifi_name": ""})
    assert needs("checkin", used, known) == []  # no car, no code, no Wi-Fi (so no password either)


def test_a_blank_address_is_missing():
    assert needs("authorization", frozenset({"property_address"}), data(property_address="  ")) == [Need("address")]


def test_a_need_survives_fsm_data():
    need = Need("guest_document", guest_id=3, person="Zé", skippable=False)
    assert Need.from_dict(need.as_dict()) == need


# --- the context ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_context_has_exactly_the_kinds_fields_as_plain_data(kind: str):
    context = build_context(kind, "pt_BR", sample_data(), today=date(2027, 8, 10))
    assert set(context) == FIELDS[kind] and len(KIND_FIELDS[kind]) == len(FIELDS[kind])
    for value in context.values():
        assert isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for item in value for v in item.values())
        )


def test_secrets_are_only_in_check_in_instructions():
    for kind in ("authorization", "receipt"):
        assert not set(SECRET_INFO) & set(build_context(kind, "en", sample_data(), today=date(2027, 8, 10)))
    checkin = build_context("checkin", "en", sample_data(), today=date(2027, 8, 10))
    assert (checkin["door_code"], checkin["wifi_password"]) == ("4321", "praia2027")


def test_values_are_written_in_the_documents_language():
    pt = build_context("receipt", "pt_BR", sample_data(), today=date(2027, 8, 10))
    en = build_context("receipt", "en", sample_data(), today=date(2027, 8, 10))
    assert (pt["check_in"], pt["issue_date"], pt["nights_text"]) == ("12/08/2027", "10 de agosto de 2027", "3 noites")
    assert (en["check_in"], en["issue_date"], en["nights_text"]) == ("12 Aug 2027", "10 August 2027", "3 nights")
    assert pt["amount"] == "R$\xa01.234,56" and en["amount"] == "R$1,234.56"
    assert pt["amount_words"] == "mil duzentos e trinta e quatro reais e cinquenta e seis centavos"
    assert pt["guests"][1] == {"name": "João Silva", "document": "RG 12.345.678-9", "document_type": "RG",
                               "document_number": "12.345.678-9"}  # fmt: skip
    assert (pt["payer_name"], pt["payer_document"], pt["check_in_time"]) == ("Maria Silva", "CPF 123.456.789-09",
                                                                            "15:00")  # fmt: skip


def test_guests_count_is_never_less_than_the_people_listed():
    rows = (Person("A", "CPF", "1", 1), Person("B", "CPF", "2", 2))
    context = build_context("authorization", "en", data(guests=rows, guests_count=1), today=date(2027, 8, 1))
    assert context["guests_count"] == "2" and [c["name"] for c in context["companions"]] == ["B"]


def test_platform_names():
    assert build_context("receipt", "pt_BR", data(source="direct"), today=BASE.check_in)["platform"] == "Reserva direta"
    assert build_context("receipt", "en", data(source="booking"), today=BASE.check_in)["platform"] == "Booking.com"


def test_unknown_kind_or_language():
    with pytest.raises(ValueError):
        build_context("contract", "en", BASE, today=BASE.check_in)
    with pytest.raises(ValueError):
        build_context("receipt", "es", BASE, today=BASE.check_in)


# --- file names -------------------------------------------------------------------------------------------------


def test_file_names_are_ascii_slugs_in_the_documents_language():
    assert file_name("authorization", "pt_BR", date(2027, 8, 12), "Apto 101", "docx") == (
        "autorizacao-2027-08-12-apto-101.docx")  # fmt: skip
    assert file_name("receipt", "en", date(2027, 8, 12), "Apto 101", "docx") == "receipt-2027-08-12-apto-101.docx"
    assert file_name("checkin", "pt_BR", date(2027, 8, 12), "Ção/São <Paulo> ☀", "pdf") == (
        "instrucoes-check-in-2027-08-12-cao-sao-paulo.pdf")  # fmt: skip
    assert file_name("receipt", "en", date(2027, 8, 12), "☀☀", "docx") == "receipt-2027-08-12.docx"
    assert slugify("A" * 100) == "a" * 40 and slugify("a -- b") == "a-b"


# --- amounts in words -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "words"),
    [
        ("1234.56", "BRL", "pt_BR", "mil duzentos e trinta e quatro reais e cinquenta e seis centavos"),
        ("1", "BRL", "pt_BR", "um real"),
        ("0.01", "BRL", "pt_BR", "um centavo"),
        ("0.50", "BRL", "pt_BR", "cinquenta centavos"),
        ("0", "BRL", "pt_BR", "zero reais"),
        ("1000000", "BRL", "pt_BR", "um milhão de reais"),
        ("2000000.10", "BRL", "pt_BR", "dois milhões de reais e dez centavos"),
        ("1100000", "BRL", "pt_BR", "um milhão e cem mil reais"),
        ("250", "USD", "pt_BR", "duzentos e cinquenta dólares"),
        ("21.01", "EUR", "pt_BR", "vinte e um euros e um centavo"),
        ("1234.56", "BRL", "en", "one thousand, two hundred and thirty-four reais and fifty-six centavos"),
        ("1", "USD", "en", "one dollar"),
        ("3.05", "GBP", "en", "three pounds and five pence"),
        ("10", "CHF", "en", "ten CHF"),
        ("10.999", "BRL", "en", "eleven reais"),
    ],
)
def test_amount_in_words(amount: str, currency: str, locale: str, words: str):
    assert amount_in_words(Decimal(amount), currency, locale) == words


def test_negative_amounts_have_no_words():
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-1"), "BRL", "pt_BR")


# --- what the host types ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("CPF 123.456.789-09", ("CPF", "123.456.789-09")),
        ("rg 12.345.678-9", ("RG", "12.345.678-9")),
        ("passaporte AB123456", ("Passaporte", "AB123456")),
        ("Passport X1234567", ("Passport", "X1234567")),
        ("123.456.789-09", ("CPF", "123.456.789-09")),  # shaped like a CPF: it is one, and checked
        ("  CNH   0123 4567  ", ("CNH", "0123 4567")),
    ],
)
def test_guest_documents(text: str, parsed: tuple[str | None, str]):
    assert parse_guest_document(text) == parsed


def test_bad_answers_say_why():
    for need, text in (
        (Need("guests_count"), "many"),
        (Need("price"), "a lot"),
        (Need("guest_document"), "---"),
        (Need("guest_name"), "   "),
        (Need("info", info="house_rules"), "x" * 2001),
    ):
        with pytest.raises(InputError):
            parse_answer(need, text)  # fmt: skip


def test_answers_are_tidied_the_way_each_field_needs():
    assert parse_answer(Need("vehicle_plate"), " abc-1d23 ") == "ABC-1D23"
    assert parse_answer(Need("price"), "R$ 1.234,56") == Decimal("1234.56")
    assert parse_answer(Need("guests_count"), "3") == 3
    assert parse_info("house_rules", "  No   parties \n\n  Quiet after 22h ") == "No parties\nQuiet after 22h"
    assert parse_info("wifi_password", "  my  pass ") == "my  pass"  # spaces inside a password matter
    assert parse_lines("a\n b", max_length=10) == "a\nb"
    assert set(INFO_KEYS) == {"host_name", "host_document", "city", *SECRET_INFO}
