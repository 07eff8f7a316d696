"""Documents: the building's guest authorization, check-in instructions and receipts, from .docx templates.

- context: the fields each kind may use, what is missing, the template context (pure)
- answers: reading what the host types for a missing field (pure)
- words: amounts in words for receipts (pure)
- render: docxtpl in a Jinja sandbox; checking a host's own template
- defaults: the default templates in templates/
- pdf: LibreOffice conversion in a subprocess
- service: the database side (snapshots, templates, answers, the record of documents made)
"""

from domain.documents.context import FIELDS, KINDS, LOCALES, DocumentData, Need, Person
from domain.documents.problem import TemplateProblem

__all__ = ["FIELDS", "KINDS", "LOCALES", "DocumentData", "Need", "Person", "TemplateProblem"]
