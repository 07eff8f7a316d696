"""Every message a screen can show reads as one language (issue 14 item 8): no English word left in a Portuguese
answer and no Portuguese word in an English one; no text hidden from extraction (a `_()` inside an f-string is never
extracted, so never translated); plurals right for 0, 1 and 2 in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import ngettext, use_locale

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "__": None, "N_": None, "ngettext": (1, 2)}

# Words that are English and never Portuguese (nor a product or field name a Portuguese text keeps).
ENGLISH = {
    "the", "and", "your", "you", "with", "this", "that", "not", "is", "are", "of", "for", "from", "blocked",
    "booking", "bookings", "reservation", "reservations", "nights", "night", "guest", "guests", "free", "taken",
    "calendar", "calendars", "saved", "cancel", "cancelled", "change", "dates", "date", "day", "today", "tomorrow",
    "property", "properties", "yes", "back", "skip", "open", "settings", "could", "would", "will", "please",
    "what", "which", "when", "who", "how", "here", "there", "anyway", "move", "my", "it", "was", "has", "have",
    "only", "nothing", "none", "again", "now", "first", "last", "next", "before", "after",
}  # fmt: skip
SAME = {"e", "mail", "menu", "link", "links", "pdf", "adr", "revpar", "csv", "xlsx", "check", "in", "out"}  # both
# Words that are Portuguese and never English.
PORTUGUESE = {
    "você", "voce", "não", "nao", "reserva", "reservas", "hóspede", "hóspedes", "noite", "noites", "datas", "para",
    "com", "uma", "bloqueado", "bloqueada", "salvo", "cancelar", "sim", "olá", "hoje", "amanhã", "seu", "sua",
    "está", "são", "também", "então", "já", "até", "ou", "ainda", "aqui",
}  # fmt: skip
# What a text may show in either language: names, codes, examples a host types, fields of a template.
KEEP = re.compile(
    r"\{[^}]*\}|<code>.*?</code>|<[^>]+>|https?://\S+|\S+@\S+|/[a-z_]+\b|[A-Z][a-z]+/[A-Za-z_/]+|"
    r"Booking\.com|Airbnb|VRBO|LibreOffice|Word|PDF|iCal|Wi-Fi|Telegram|LUMINA|"
    r"Rio de Janeiro|Lisboa|São Paulo|Apto \d+|Copacabana|Portaria|12 ago|3 pm",
    re.S,
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]+", KEEP.sub(" ", text))}


def _code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def _catalog(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_no_message_is_hidden_from_extraction_in_an_f_string():
    hidden = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in KEYWORDS
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                ):
                    hidden.append(f"{path.relative_to(ROOT)}:{call.lineno} {call.args[0].value!r}")
    assert hidden == [], "pybabel never extracts these, so they are never translated: " + repr(hidden)


def test_portuguese_answers_have_no_english_words():
    catalog = _catalog("pt_BR")
    wanted = {m if isinstance(m, str) else m[0] for m in _code_messages()}
    english = []
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if not key or key not in wanted:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            leftover = _words(text) & ENGLISH
            if leftover or (text == key and _words(key) - SAME):
                english.append((key, sorted(leftover) or "not translated"))
    assert english == []


def test_english_answers_have_no_portuguese_words():
    portuguese = []
    for message in _code_messages():
        for text in [message] if isinstance(message, str) else list(message):
            leftover = _words(text) & PORTUGUESE
            if leftover:
                portuguese.append((text, sorted(leftover)))
    assert portuguese == []


class _Counted(dict[str, int]):
    """Every placeholder of a plural message is the count ({n}, {days}, {nights}...)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def __missing__(self, _key: str) -> int:
        return self.n


PLURALS = sorted(m for m in _code_messages() if isinstance(m, tuple))


@pytest.mark.parametrize(("singular", "plural"), PLURALS)
def test_plurals_for_zero_one_and_two(singular: str, plural: str):
    for locale in ("pt_BR", "en"):
        with use_locale(locale):
            texts = {n: ngettext(singular, plural, n).format_map(_Counted(n)) for n in (0, 1, 2)}
        for n, text in texts.items():
            assert str(n) in text, (locale, n, text)
        if singular != plural:
            assert texts[1] != texts[2].replace("2", "1"), (locale, texts)  # 2 takes the plural form
        if locale == "en":
            assert texts[0].replace("0", "2") == texts[2], texts  # "0 nights", like 2
        else:
            assert not _words(texts[2]) & ENGLISH, texts


def test_a_zero_count_on_a_screen_is_said_in_words():
    from bot.views.feeds import feed_summary

    with use_locale("pt_BR"):
        text = feed_summary("airbnb", None, 0, 0, None)
    assert "0 reserva" not in text and "nenhuma reserva" in text and "nenhum período bloqueado" in text
    with use_locale("en"):
        assert "no reservations" in feed_summary("airbnb", None, 0, 0, None)
