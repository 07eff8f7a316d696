"""Reading generated documents back in tests: every paragraph and table cell of a .docx, the text of a PDF, and
small .docx templates made on the fly."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

from docx import Document
from docx.document import Document as DocumentObject
from docx.table import Table


def _table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        for cell in row.cells:
            lines += [p.text for p in cell.paragraphs]
            for inner in cell.tables:
                lines += _table_lines(inner)
    return lines


def docx_lines(content: bytes) -> list[str]:
    """The text of every paragraph and table cell (body, headers and footers), in order."""
    doc: DocumentObject = Document(io.BytesIO(content))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        lines += _table_lines(table)
    for section in doc.sections:
        lines += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return lines


def docx_text(content: bytes) -> str:
    return "\n".join(docx_lines(content))


def table_cells(content: bytes) -> list[list[str]]:
    """Each table row of the body as its cells' text."""
    doc: DocumentObject = Document(io.BytesIO(content))
    return [[cell.text for cell in row.cells] for table in doc.tables for row in table.rows]


def pdf_text(content: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode()


def have_pdf_tools() -> bool:
    return bool((shutil.which("soffice") or shutil.which("libreoffice")) and shutil.which("pdftotext"))


def make_template(*paragraphs: str) -> bytes:
    """A .docx whose body is these paragraphs (Jinja as a host would type it in Word)."""
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def patched_template(replace: dict[str, tuple[bytes, bytes]], extra: dict[str, bytes] | None = None) -> bytes:
    """make_template("MARK") with `old → new` replaced in the named zip parts, plus `extra` parts: for files Word
    makes and python-docx does not (fields, outside links, macros). The paragraph is `<w:r><w:t>MARK</w:t></w:r>`."""
    with zipfile.ZipFile(io.BytesIO(make_template("MARK"))) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    for name, (old, new) in replace.items():
        assert old in parts[name]
        parts[name] = parts[name].replace(old, new)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in {**parts, **(extra or {})}.items():
            archive.writestr(name, content)
    return out.getvalue()


def field_xml(*instruction: str) -> bytes:
    """A complex field whose instruction is split over runs, the way Word saves one that was edited."""
    runs = "".join(f'<w:r><w:instrText xml:space="preserve">{part}</w:instrText></w:r>' for part in instruction)
    return (f'<w:r><w:fldChar w:fldCharType="begin"/></w:r>{runs}<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            '<w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>').encode()  # fmt: skip
