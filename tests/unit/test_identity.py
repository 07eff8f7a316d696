"""CPF, CNPJ and NIF checked by their check digits; RG and passports as free text; the host's number by country."""

from __future__ import annotations

import pytest

from domain.identity import (
    cnpj_valid,
    country_of,
    cpf_valid,
    host_number_kind,
    nif_valid,
    parse_host_number,
    parse_person_document,
)
from domain.inputs import InputError


@pytest.mark.parametrize("number", ["123.456.789-09", "12345678909", "529.982.247-25"])
def test_valid_cpfs(number):
    assert cpf_valid(number)


@pytest.mark.parametrize("number", ["111.222.333-44", "111.111.111-11", "abc", "1234567890", "123.456.789-00"])
def test_invalid_cpfs(number):
    assert not cpf_valid(number)


def test_cnpj_and_nif_check_digits():
    assert cnpj_valid("11.222.333/0001-81") and not cnpj_valid("11.222.333/0001-82")
    assert not cnpj_valid("00000000000000")
    assert nif_valid("123456789") and nif_valid("501964843") and not nif_valid("123456780")
    assert not nif_valid("012345678")


def test_countries_from_time_zones():
    assert (country_of("America/Sao_Paulo"), country_of("Europe/Lisbon"), country_of("UTC")) == ("BR", "PT", None)
    assert [host_number_kind(c) for c in ("BR", "PT", "US", None)] == ["cpf_cnpj", "nif", "tax_id", "tax_id"]


def test_host_numbers_by_country():
    assert parse_host_number("12345678909", "BR") == "123.456.789-09"
    assert parse_host_number("11222333000181", "BR") == "11.222.333/0001-81"
    assert parse_host_number("PT 123 456 789", "PT") == "123456789"
    assert parse_host_number("EIN 12-3456789", "US") == "EIN 12-3456789"
    for text, country, code in (("abc", "BR", "cpf_cnpj_format"), ("111.222.333-44", "BR", "cpf_invalid"),
                                ("11.222.333/0001-82", "BR", "cnpj_invalid"), ("123456780", "PT", "nif_invalid")):
        with pytest.raises(InputError) as raised:
            parse_host_number(text, country)
        assert raised.value.code == code, text  # fmt: skip


def test_person_documents():
    assert parse_person_document("cpf 12345678909") == ("CPF", "123.456.789-09")
    assert parse_person_document("12345678909") == ("CPF", "123.456.789-09")
    assert parse_person_document("RG 12.345.678-9") == ("RG", "12.345.678-9")
    assert parse_person_document("Passport X1234567") == ("Passport", "X1234567")
    assert parse_person_document("X1234567") == (None, "X1234567")
    for wrong, code in (("CPF abc", "cpf_invalid"), ("111.222.333-44", "cpf_invalid"),
                        ("Passport " + "9" * 31, "text_too_long"), ("---", "text_empty")):
        with pytest.raises(InputError) as raised:
            parse_person_document(wrong)
        assert raised.value.code == code, wrong  # fmt: skip
