"""Why an input was refused, in the user's language, saying what to type instead."""

from __future__ import annotations

from datetime import date

from bot.i18n import _
from bot.views.format import day, esc
from domain.inputs import InputError


def input_error(error: InputError) -> str:
    detail = error.detail
    texts = {
        "date_empty": _("Please type a date, for example 12/08 or 12/08/2027."),
        "date_format": _("I could not read that date. Try 12/08, 12/08/2027, 2027-08-12 or 12 Aug."),
        "date_invalid": _("{text} is not a date that exists. Check the day and the month."),
        "date_past": _("{day} has already passed. Choose today or a later date."),
        "date_pair": _("Send two dates, check-in and check-out, e.g. 12/08 15/08."),
        "checkout_before_checkin": _(
            "The check-out must be at least one day after the check-in. Type the check-in first, e.g. 10/12 15/12."
        ),
        "stay_too_long": _("A stay can be at most {nights} nights."),
        "money_format": _("I could not read that amount. Try 1.234,56 or 1234.56."),
        "money_negative": _("The amount cannot be negative."),
        "money_too_large": _("That amount is too large."),
        "time_format": _("I could not read that time. Try 15:00, 15h or 3 pm."),
        "email_format": _("That does not look like an e-mail address, e.g. portaria@condominio.com.br."),
        "text_empty": _("Please type something."),
        "text_too_long": _("That is too long: {length} characters, at most {max}."),
        "count_range": _("Please type a number from {low} to {high}."),
        "timezone": _("I do not know that time zone. Type a city (e.g. Rio de Janeiro, Lisboa) or a zone such as "
                      "America/Sao_Paulo."),
        "timezone_near": _("I do not know that time zone. Did you mean {suggestions}? You can also type a city, "
                           "e.g. Rio de Janeiro or Lisboa."),
        "cpf_invalid": _("{text} is not a valid CPF: check the digits (e.g. 123.456.789-09)."),
        "cnpj_invalid": _("{text} is not a valid CNPJ: check the digits (e.g. 11.222.333/0001-81)."),
        "cpf_cnpj_format": _("Type a CPF (11 digits, e.g. 123.456.789-09) or a CNPJ (14 digits)."),
        "nif_invalid": _("{text} is not a valid NIF: it has 9 digits and its last one checks the others."),
        "currency": _("Use a three-letter currency code such as BRL, USD or EUR."),
    }
    code = "timezone_near" if error.code == "timezone" and detail.get("suggestions") else error.code
    text = texts.get(code, _("That value is not valid."))
    values = {
        key: day(value) if isinstance(value, date) else esc(value) if isinstance(value, str) else value
        for key, value in detail.items()
    }  # what the person typed comes back escaped: answers are HTML
    return text.format(**values) if values else text
