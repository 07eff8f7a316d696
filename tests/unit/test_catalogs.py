"""Every string the bot can say is translated, and the catalogs compile."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, _, translations, use_locale

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "__": None, "N_": None, "ngettext": (1, 2)}


def _code_msgids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_every_message_in_the_code_has_a_portuguese_translation():
    catalog = _catalog("pt_BR")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and not m.fuzzy and (m.string if isinstance(m.id, str) else all(m.string))  # every plural form
    }
    missing = sorted(_code_msgids() - translated)
    assert missing == [], "run the catalog update in the README, then translate: " + repr(missing[:10])


def test_english_catalog_knows_every_message():
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog("en") if m.id}
    assert sorted(_code_msgids() - known) == []


def test_placeholders_survive_translation():
    for message in _catalog("pt_BR"):
        if message.id and message.string and isinstance(message.id, str):
            assert sorted(_fields(message.id)) == sorted(_fields(message.string)), message.id


def _fields(text: str) -> list[str]:
    import string

    return [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]


def test_catalogs_compile_and_translate():
    assert {locale: translations(locale).gettext("Main menu") for locale in LOCALES} == {
        "pt_BR": "Menu principal", "en": "Main menu",
    }  # fmt: skip
    with use_locale("pt_BR"):
        assert _("This bot is private.") == "Este bot é particular."
    with use_locale("en"):
        assert _("This bot is private.") == "This bot is private."
