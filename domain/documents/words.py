"""Amounts of money in words, as receipts write them: "mil duzentos e trinta e quatro reais e cinquenta centavos".

num2words does the cardinals; the currency names are ours, because its currency support is uneven (pt_BR knows
only reais, en knows no reais at all) and a receipt must name the right currency in the document's language.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

# (unit singular, unit plural, cent singular, cent plural)
_CURRENCIES: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "pt_BR": {
        "BRL": ("real", "reais", "centavo", "centavos"),
        "USD": ("dólar", "dólares", "centavo", "centavos"),
        "EUR": ("euro", "euros", "centavo", "centavos"),
        "ARS": ("peso argentino", "pesos argentinos", "centavo", "centavos"),
        "CLP": ("peso chileno", "pesos chilenos", "centavo", "centavos"),
        "UYU": ("peso uruguaio", "pesos uruguaios", "centésimo", "centésimos"),
    },
    "en": {
        "BRL": ("real", "reais", "centavo", "centavos"),
        "USD": ("dollar", "dollars", "cent", "cents"),
        "EUR": ("euro", "euros", "cent", "cents"),
        "GBP": ("pound", "pounds", "penny", "pence"),
        "ARS": ("Argentine peso", "Argentine pesos", "centavo", "centavos"),
        "CLP": ("Chilean peso", "Chilean pesos", "centavo", "centavos"),
        "UYU": ("Uruguayan peso", "Uruguayan pesos", "centésimo", "centésimos"),
    },
}
_GENERIC_CENTS = {"pt_BR": ("centavo", "centavos"), "en": ("cent", "cents")}
_AND = {"pt_BR": "e", "en": "and"}
# Portuguese says "um milhão de reais" but "um milhão e cem reais": "de" after a round million, billion...
_PT_BIG = ("milhão", "milhões", "bilhão", "bilhões", "trilhão", "trilhões")
_LANG = {"pt_BR": "pt_BR", "en": "en"}


def cardinal(number: int, locale: str) -> str:
    words = num2words(number, lang=_LANG.get(locale, "en"))
    if locale == "pt_BR":
        words = words.replace(",", "")  # num2words writes "mil, duzentos"; Brazilian usage has no comma
    return str(words)


def amount_in_words(amount: Decimal, currency: str, locale: str) -> str:
    """`Decimal("1234.56"), "BRL", "pt_BR"` → "mil duzentos e trinta e quatro reais e cinquenta e seis centavos"."""
    if amount < 0:
        raise ValueError("negative amount")
    cents_total = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    whole, cents = divmod(cents_total, 100)
    locale = locale if locale in _CURRENCIES else "en"
    generic = (currency, currency, *_GENERIC_CENTS[locale])
    unit, units, cent, cent_plural = _CURRENCIES[locale].get(currency.upper(), generic)
    parts = []
    if whole or not cents:
        words = cardinal(whole, locale)
        name = unit if whole == 1 else units
        if locale == "pt_BR" and words.endswith(_PT_BIG):
            name = "de " + name
        parts.append(f"{words} {name}")
    if cents:
        parts.append(f"{cardinal(cents, locale)} {cent if cents == 1 else cent_plural}")
    return f" {_AND[locale]} ".join(parts)
