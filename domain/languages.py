"""The languages LUMINA speaks and their gettext catalogs, in one place: the chat, the settings and the documents
read this list and these catalogs (locales/*/LC_MESSAGES/messages.po, compiled in memory on first use)."""

from __future__ import annotations

import gettext
import io
import os
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("pt_BR", "en")  # the first is the default


def locales_dir() -> Path:
    """locales/ beside the packages (a checkout or editable install), else LUMINA_LOCALES_DIR, else ./locales."""
    candidates = [Path(os.environ["LUMINA_LOCALES_DIR"])] if os.environ.get("LUMINA_LOCALES_DIR") else []
    candidates += [Path(__file__).resolve().parent.parent / "locales", Path.cwd() / "locales"]
    for path in candidates:
        if (path / "pt_BR" / "LC_MESSAGES" / "messages.po").exists():
            return path
    raise FileNotFoundError("locales/ with the .po catalogs not found; set LUMINA_LOCALES_DIR")


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale not in LANGUAGES:
        locale = LANGUAGES[0]
    po_path = locales_dir() / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # compile in memory: no .mo file is ever committed or needed
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Marks a message id for extraction (babel.cfg reads domain/ too); it is translated where it is shown."""
    return message
