"""A time zone as a host names it: `Europe/Lisbon`, `lisbon`, `Lisboa`, `Rio de Janeiro`, `São Paulo`. Zone names and
their cities in English and Portuguese (CLDR, through Babel) are known, plus the cities hosts rent in that are not a
zone's name; anything else is answered with the nearest matches. Pure."""

from __future__ import annotations

import difflib
import unicodedata
from functools import cache
from zoneinfo import available_timezones

from babel.dates import get_timezone, get_timezone_location

from domain.inputs import InputError

# Cities that are not the name of their zone (accents stripped, lower case).
CITIES = {
    "rio de janeiro": "America/Sao_Paulo", "rio": "America/Sao_Paulo", "belo horizonte": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo", "curitiba": "America/Sao_Paulo", "porto alegre": "America/Sao_Paulo",
    "florianopolis": "America/Sao_Paulo", "buzios": "America/Sao_Paulo", "paraty": "America/Sao_Paulo",
    "ubatuba": "America/Sao_Paulo", "campos do jordao": "America/Sao_Paulo", "gramado": "America/Sao_Paulo",
    "goiania": "America/Sao_Paulo", "vitoria": "America/Sao_Paulo", "santos": "America/Sao_Paulo",
    "campinas": "America/Sao_Paulo", "niteroi": "America/Sao_Paulo", "angra dos reis": "America/Sao_Paulo",
    "ilhabela": "America/Sao_Paulo", "balneario camboriu": "America/Sao_Paulo",
    "salvador": "America/Bahia", "porto seguro": "America/Bahia", "natal": "America/Fortaleza",
    "joao pessoa": "America/Fortaleza", "sao luis": "America/Fortaleza", "teresina": "America/Fortaleza",
    "jericoacoara": "America/Fortaleza", "porto de galinhas": "America/Recife", "fernando de noronha":
    "America/Noronha", "cuiaba": "America/Cuiaba", "campo grande": "America/Campo_Grande",
    "porto": "Europe/Lisbon", "faro": "Europe/Lisbon", "coimbra": "Europe/Lisbon", "braga": "Europe/Lisbon",
    "cascais": "Europe/Lisbon", "sintra": "Europe/Lisbon", "algarve": "Europe/Lisbon", "lagos": "Europe/Lisbon",
    "funchal": "Atlantic/Madeira", "ponta delgada": "Atlantic/Azores", "barcelona": "Europe/Madrid",
    "new york city": "America/New_York", "nova york": "America/New_York", "nova iorque": "America/New_York",
    "miami": "America/New_York", "orlando": "America/New_York", "boston": "America/New_York",
    "washington": "America/New_York", "san francisco": "America/Los_Angeles", "las vegas": "America/Los_Angeles",
    "londres": "Europe/London", "edinburgh": "Europe/London", "milan": "Europe/Rome", "milao": "Europe/Rome",
    "florence": "Europe/Rome", "florenca": "Europe/Rome", "venice": "Europe/Rome", "veneza": "Europe/Rome",
    "munich": "Europe/Berlin", "munique": "Europe/Berlin", "nice": "Europe/Paris", "punta del este":
    "America/Montevideo", "bariloche": "America/Argentina/Buenos_Aires", "cancun": "America/Cancun",
}  # fmt: skip


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower().replace("_", " "))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@cache
def _index() -> dict[str, str]:
    """Every name a zone goes by → the zone: "europe/lisbon", "lisbon", "lisboa", plus CITIES. Built once."""
    names: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        names.setdefault(_plain(zone), zone)  # every IANA name as written ("UTC", "Etc/GMT+3" too)
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "US/")):
            continue
        names.setdefault(_plain(zone.rsplit("/", 1)[1]), zone)
        for locale in ("en", "pt_BR"):
            try:
                city = get_timezone_location(get_timezone(zone), locale=locale, return_city=True)
            except LookupError:
                continue
            names.setdefault(_plain(city), zone)
    for city, zone in CITIES.items():
        names[city] = zone
    return names


def find_timezone(text: str) -> str:
    """The zone the host means, or InputError("timezone", suggestions=...) with the nearest names."""
    value = _plain(text)
    if not value or len(value) > 60:
        raise InputError("timezone", suggestions="")
    index = _index()
    if value in index:
        return index[value]
    near = difflib.get_close_matches(value, list(index), n=6, cutoff=0.6)
    zones = list(dict.fromkeys(index[name] for name in near))[:3]
    raise InputError("timezone", suggestions=", ".join(zones))
