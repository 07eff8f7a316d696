"""Why a host's template was refused: one exception, with a code the chat turns into words."""

from __future__ import annotations


class TemplateProblem(Exception):
    """`code`: not_docx | too_large | active | syntax | outside | unknown_fields | render | limits.

    `active`: the file carries something LibreOffice or Word would act on (macros, fields that fetch files, links to
    outside resources); `limits`: checking or rendering it took too much time or memory."""

    def __init__(self, code: str, detail: str = "", *, unknown: tuple[str, ...] = ()) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.unknown = unknown
