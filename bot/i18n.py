"""gettext for the bot: catalogs compiled in memory from locales/*.po at start, the current locale in a contextvar.

The user's language lives in the database (users.locale); the i18n middleware puts it here for each update.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from babel.support import LazyProxy

from domain.languages import LANGUAGES, translations

LOCALES = LANGUAGES  # one list: domain.languages
DEFAULT_LOCALE = "pt_BR"
_current: ContextVar[str] = ContextVar("lumina_locale", default=DEFAULT_LOCALE)


def normalize_locale(language_code: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Telegram sends IETF tags such as "pt-br", "pt" or "en-US"."""
    if not language_code:
        return default
    code = language_code.lower()
    if code.startswith("pt"):
        return "pt_BR"
    if code.startswith("en"):
        return "en"
    return default


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext_(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def lazy_gettext(message: str) -> LazyProxy:
    """For text defined at import time (filters, command descriptions): translated when it is used."""
    return LazyProxy(gettext_, message, enable_cache=False)


_ = gettext_
__ = lazy_gettext


def N_(message: str) -> str:
    """Marks a string for extraction where it must stay untranslated until use (e.g. in module constants)."""
    return message
