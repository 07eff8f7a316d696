"""The default templates shipped in templates/ (built by templates/build_templates.py, committed as .docx)."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.documents.render import used_fields

DEFAULT_VERSION = "default-1"  # bump when the default templates change meaning (it is recorded with each document)


def default_file_name(kind: str, locale: str) -> str:
    return f"{kind}_{locale}.docx"


def templates_dir(configured: Path | None = None) -> Path:
    """`configured`, else LUMINA_TEMPLATES_DIR, else templates/ beside the packages, else ./templates."""
    candidates = [configured] if configured else []
    if os.environ.get("LUMINA_TEMPLATES_DIR"):
        candidates.append(Path(os.environ["LUMINA_TEMPLATES_DIR"]))
    candidates += [Path(__file__).resolve().parents[2] / "templates", Path.cwd() / "templates"]
    for path in candidates:
        if (path / default_file_name("authorization", "pt_BR")).exists():
            return path
    raise FileNotFoundError("templates/ with the default .docx templates not found; set LUMINA_TEMPLATES_DIR")


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """The template a document is rendered from: a host's upload (template_id set) or a default."""

    content: bytes
    sha256: str
    version: str  # "default-1", or the uploaded version as text
    template_id: int | None = None

    @property
    def custom(self) -> bool:
        return self.template_id is not None


@cache
def default_template(directory: Path, kind: str, locale: str) -> TemplateSource:
    content = (directory / default_file_name(kind, locale)).read_bytes()
    return TemplateSource(content, hashlib.sha256(content).hexdigest(), DEFAULT_VERSION)


_FIELDS: dict[str, frozenset[str]] = {}
_FIELDS_KEPT = 256
_FIELDS_LOCK = threading.Lock()  # called from worker threads (asyncio.to_thread)


def fields_of(source: TemplateSource) -> frozenset[str]:
    """The fields a template uses, analysed once per template content (keyed by its hash)."""
    with _FIELDS_LOCK:
        found = _FIELDS.get(source.sha256)
    if found is None:
        found = used_fields(source.content)
        with _FIELDS_LOCK:
            if len(_FIELDS) >= _FIELDS_KEPT:
                _FIELDS.pop(next(iter(_FIELDS)))
            _FIELDS[source.sha256] = found
    return found
