"""The .docx file a host uploads, before any Jinja is read: a real Word document of sane size, with nothing in it
that Word or LibreOffice would act on by itself.

A .docx is a zip of XML parts. Refused: anything that is not exactly a Word document (a .docm with macros, a .dotx);
zip bombs (the XML is capped separately from images, because XML is what the renderer holds in memory, ~20x its
size); macros and embedded programs (vbaProject, ActiveX, OLE objects); relationships to anything outside the file
(an image "linked" to an address is fetched when the document is opened or converted) except plain hyperlinks,
which only a click follows; and fields other than a short list of harmless ones (INCLUDETEXT "/etc/passwd",
INCLUDEPICTURE "http://…", DDE and the like read files or run programs when LibreOffice updates them).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from lxml import etree

from domain.documents.problem import TemplateProblem

MAX_TEMPLATE_BYTES = 2 * 1024 * 1024
MAX_INFLATED_BYTES = 40 * 1024 * 1024  # all parts of the zip, uncompressed (pictures included)
MAX_XML_BYTES = 8 * 1024 * 1024  # the XML parts, uncompressed: a real template's document.xml is ~50-300 KB
MAX_ZIP_ENTRIES = 2000
DOCX_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Content types of executable or embedded content (matched in lower case).
_ACTIVE_TYPES = ("macroenabled", "vbaproject", "vbadata", "activex", "oleobject", "ms-office.vba")
# Relationship types (their last path segment) that embed or pull in other documents or programs.
_ACTIVE_RELATIONSHIPS = frozenset({
    "oleObject", "package", "control", "vbaProject", "aFChunk", "subDocument", "attachedTemplate", "wordVbaData",
    "activeXControlBinary", "frame",
})  # fmt: skip
# Fields that only compute text from the document itself.
_HARMLESS_FIELDS = frozenset({
    "PAGE", "NUMPAGES", "SECTIONPAGES", "SECTION", "DATE", "TIME", "CREATEDATE", "SAVEDATE", "PRINTDATE",
    "AUTHOR", "TITLE", "SUBJECT", "REF", "PAGEREF", "NOTEREF", "SEQ", "TOC", "HYPERLINK", "SYMBOL", "EQ",
    "FORMTEXT", "FORMCHECKBOX", "FORMDROPDOWN", "MERGEFIELD", "NUMWORDS", "NUMCHARS", "LISTNUM",
})  # fmt: skip
_HYPERLINK_SCHEMES = ("http://", "https://", "mailto:")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def check_docx_file(content: bytes) -> None:
    """A real Word document (.docx), not too large, not a zip bomb, with nothing active in it; raises
    TemplateProblem otherwise: not_docx, too_large, or active with "macros", "external_link" or "field NAME"."""
    if len(content) > MAX_TEMPLATE_BYTES:
        raise TemplateProblem("too_large")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = _parts(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, NotImplementedError, ValueError):
        raise TemplateProblem("not_docx") from None
    except etree.XMLSyntaxError:
        raise TemplateProblem("not_docx", "broken XML") from None
    _check_types(parts["[Content_Types].xml"])
    for name, root in parts.items():
        if name.endswith(".rels"):
            _check_relationships(root)
        elif name.startswith("word/"):
            for instruction in _field_instructions(root):
                word = (instruction.split() or [""])[0].upper()
                if word and word not in _HARMLESS_FIELDS:
                    raise TemplateProblem("active", f"field {word}")


def _parts(archive: zipfile.ZipFile) -> dict[str, etree._Element]:
    """The XML parts (content types, relationships, word/*.xml), parsed; the size limits checked first."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_INFLATED_BYTES:
        raise TemplateProblem("too_large")
    xml = [e for e in entries if e.filename.endswith((".xml", ".rels"))]
    if sum(e.file_size for e in xml) > MAX_XML_BYTES:
        raise TemplateProblem("too_large")
    names = {e.filename for e in entries}
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        raise TemplateProblem("not_docx")
    return {
        e.filename: etree.fromstring(archive.read(e), _PARSER)
        for e in xml
        if e.filename == "[Content_Types].xml" or e.filename.endswith(".rels") or e.filename.startswith("word/")
    }


def _check_types(types: etree._Element) -> None:
    main = [o.get("ContentType") for o in types.iter(f"{_CT}Override") if o.get("PartName") == "/word/document.xml"]
    if main != [DOCX_MAIN_TYPE]:
        raise TemplateProblem("not_docx")  # .docm (macros), .dotx (a Word template) and the like
    for element in types.iter(f"{_CT}Default", f"{_CT}Override"):
        content_type = (element.get("ContentType") or "").lower()
        if any(active in content_type for active in _ACTIVE_TYPES):
            raise TemplateProblem("active", "macros")


def _check_relationships(rels: etree._Element) -> None:
    for rel in rels.iter(f"{_REL}Relationship"):
        kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
        if kind in _ACTIVE_RELATIONSHIPS:
            raise TemplateProblem("active", "macros")
        if (rel.get("TargetMode") or "").lower() == "external":
            target = (rel.get("Target") or "").strip().lower()
            if kind != "hyperlink" or not target.startswith(_HYPERLINK_SCHEMES):
                raise TemplateProblem("active", "external_link")


def _field_instructions(root: etree._Element) -> Iterator[str]:
    """Every field's instruction in a part: simple fields whole, complex fields (begin, instrText runs that may split
    a word, separate, end; possibly nested) put back together."""
    stack: list[list[str]] = []
    for element in root.iter(f"{_W}fldSimple", f"{_W}fldChar", f"{_W}instrText"):
        if element.tag == f"{_W}fldSimple":
            yield element.get(f"{_W}instr") or ""
        elif element.tag == f"{_W}instrText":
            if stack:
                stack[-1].append(element.text or "")
            else:
                yield element.text or ""  # an instruction outside any field: judge it anyway
        else:
            state = element.get(f"{_W}fldCharType")
            if state == "begin":
                stack.append([])
            elif state in ("separate", "end") and stack:
                yield "".join(stack[-1])
                stack[-1] = []  # judged; an "end" after "separate" finds it empty, which is skipped
                if state == "end":
                    stack.pop()
    for pending in stack:
        yield "".join(pending)
