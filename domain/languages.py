"""The languages LUMINA speaks, in one place: the chat's catalogs, the settings and the documents read this list."""

from __future__ import annotations

LANGUAGES = ("pt_BR", "en")  # the first is the default


def N_(message: str) -> str:
    """Marks a message id for extraction (babel.cfg reads domain/ too); it is translated where it is shown."""
    return message
