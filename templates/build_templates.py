"""Builds the default document templates (templates/<kind>_<locale>.docx) with python-docx.

The built .docx files are committed, so an install needs no build step. After changing this script:

    .venv/bin/python templates/build_templates.py          # rewrites templates/*.docx

and bump DEFAULT_VERSION in domain/documents/defaults.py if what the documents say changed. A test builds them
again into a temporary folder and checks that the committed files match this script.

The templates are docxtpl (Jinja) templates: `{{ field }}` prints a field, `{%p if field %}` ... `{%p endif %}`
keeps or drops whole paragraphs, `{%tr for g in guests %}` ... `{%tr endfor %}` repeats a table row. The fields
are the ones domain/documents/context.py gives each kind (the bot lists them when a host uploads a template).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Length, Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
ACCENT = RGBColor(0x1F, 0x38, 0x64)  # dark blue
MUTED = RGBColor(0x59, 0x59, 0x59)
HEADER_FILL = "DCE4F0"
KEY_FILL = "F3F5F9"
LINE = "A6B4C8"
FONT = "Calibri"
FIXED_TIME = datetime(2026, 1, 1)  # document properties: the same bytes meaning on every build
CONTENT_MM = 170  # A4 minus 20 mm margins


# --- building blocks ------------------------------------------------------------------------------------------


def new_document(title: str) -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(18), Mm(18)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.15
    props = doc.core_properties
    props.title, props.author, props.comments, props.subject = title, "", "", ""
    props.last_modified_by, props.keywords, props.category = "", "", ""
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    return doc


def paragraph(
    doc: DocumentObject | _Cell,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    color: RGBColor | None = None,
    align: WD_ALIGN_PARAGRAPH | None = None,
    before: float | None = None,
    after: float | None = None,
    keep_with_next: bool = False,
) -> Paragraph:
    para = doc.add_paragraph()
    if text:
        run = para.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color
    if align is not None:
        para.alignment = align
    fmt = para.paragraph_format
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    fmt.keep_with_next = keep_with_next or None
    return para


def rich(doc: DocumentObject | _Cell, *parts: tuple[str, bool], after: float | None = None) -> Paragraph:
    """A paragraph of runs, each (text, bold)."""
    para = doc.add_paragraph()
    for text, bold in parts:
        para.add_run(text).bold = bold
    if after is not None:
        para.paragraph_format.space_after = Pt(after)
    return para


def tag(doc: DocumentObject | _Cell, text: str) -> None:
    """A paragraph that holds only a docxtpl paragraph tag ({%p ... %}); docxtpl removes it when rendering."""
    doc.add_paragraph(text)


def _border(element: BaseOxmlElement, edges: dict[str, tuple[str, int, str]]) -> None:
    for edge, (style, size, color) in edges.items():
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:val"), style)
        node.set(qn("w:sz"), str(size))
        node.set(qn("w:space"), "1")
        node.set(qn("w:color"), color)
        element.append(node)


def rule(doc: DocumentObject) -> None:
    """A horizontal line: an empty paragraph with a bottom border."""
    para = doc.add_paragraph()
    borders = OxmlElement("w:pBdr")
    _border(borders, {"bottom": ("single", 12, "1F3864")})
    para._p.get_or_add_pPr().append(borders)  # first child: python-docx puts spacing after it, as the schema wants
    para.paragraph_format.space_before = Pt(0)
    para.paragraph_format.space_after = Pt(10)


def title(doc: DocumentObject, text: str, subtitle: str) -> None:
    paragraph(doc, text, bold=True, size=18, color=ACCENT, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    paragraph(doc, subtitle, size=10, color=MUTED, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    rule(doc)


def heading(doc: DocumentObject, text: str) -> None:
    paragraph(doc, text, bold=True, size=11.5, color=ACCENT, before=12, after=4, keep_with_next=True)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


# CT_TblPr children that must follow tblBorders (and, from the fourth on, tblCellMar) in the XML schema's order
_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")


def _table(doc: DocumentObject, rows: int, widths: list[Length]) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    line = ("single", 4, LINE)
    _border(borders, {"top": line, "left": line, "bottom": line, "right": line, "insideH": line, "insideV": line})
    tbl_pr.insert_element_before(borders, *_AFTER_BORDERS)
    margins = OxmlElement("w:tblCellMar")
    for edge, twips in (("top", 50), ("bottom", 50), ("left", 100), ("right", 100)):
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:w"), str(twips))
        node.set(qn("w:type"), "dxa")
        margins.append(node)
    tbl_pr.insert_element_before(margins, *_AFTER_BORDERS[3:])
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid: what LibreOffice follows
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width  # each cell: what Word follows
    return table


def _cell_text(cell: _Cell, text: str, *, bold: bool = False, color: RGBColor | None = None) -> None:
    para = cell.paragraphs[0]
    para.paragraph_format.space_after = Pt(0)
    run = para.add_run(text)
    run.bold = bold
    if color is not None:
        run.font.color.rgb = color


def key_values(doc: DocumentObject, rows: list[tuple[str, str]]) -> None:
    """A two-column table: the label shaded on the left, the value on the right."""
    table = _table(doc, len(rows), [Mm(45), Mm(CONTENT_MM - 45)])
    for row, (key, value) in zip(table.rows, rows, strict=True):
        _shade(row.cells[0], KEY_FILL)
        _cell_text(row.cells[0], key, bold=True, color=ACCENT)
        _cell_text(row.cells[1], value)
    paragraph(doc, after=2)


def loop_table(doc: DocumentObject, headers: list[str], cells: list[str], widths: list[Length], loop: str) -> None:
    """A table with a shaded header row and one row per item: `{%tr for ... %}` rows around the repeated one."""
    table = _table(doc, 4, widths)
    header, opening, repeated, closing = table.rows
    for cell, text in zip(header.cells, headers, strict=True):
        _shade(cell, HEADER_FILL)
        _cell_text(cell, text, bold=True, color=ACCENT)
    _cell_text(opening.cells[0], "{%tr " + loop + " %}")
    for cell, text in zip(repeated.cells, cells, strict=True):
        _cell_text(cell, text)
    _cell_text(closing.cells[0], "{%tr endfor %}")
    paragraph(doc, after=2)


def signature(doc: DocumentObject, place_date: str, lines: list[str], role: str) -> None:
    paragraph(doc, place_date, before=14, after=30)
    paragraph(doc, "_" * 46, align=WD_ALIGN_PARAGRAPH.CENTER, after=0, color=MUTED)
    paragraph(doc, lines[0], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    for line in lines[1:]:
        tag(doc, "{%p if host_document %}")
        paragraph(doc, line, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
        tag(doc, "{%p endif %}")
    paragraph(doc, role, size=9, color=MUTED, align=WD_ALIGN_PARAGRAPH.CENTER)


def footer(doc: DocumentObject, text: str) -> None:
    para = doc.sections[0].footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run(text)
    run.font.size = Pt(8)
    run.font.color.rgb = MUTED


# --- the documents --------------------------------------------------------------------------------------------

TEXTS: dict[str, dict[str, Any]] = {
    "pt_BR": {
        "auth_title": "AUTORIZAÇÃO DE HOSPEDAGEM",
        "auth_to": "À administração e à portaria do condomínio{% if building_contact %} (A/C {{ building_contact }})"
        "{% endif %},",
        "auth_intro": "Eu, {{ host_name }}{% if host_document %}, CPF/CNPJ {{ host_document }}{% endif %}, "
        "responsável pelo imóvel abaixo, autorizo a entrada e a permanência das pessoas relacionadas neste "
        "documento no período indicado.",
        "unit": "1. Imóvel",
        "unit_rows": [("Imóvel", "{{ property_name }}"), ("Endereço", "{{ property_address }}"),
                      ("Responsável", "{{ host_name }}")],
        "stay": "2. Período da hospedagem",
        "stay_rows": [("Entrada", "{{ check_in }}, a partir das {{ check_in_time }}"),
                      ("Saída", "{{ check_out }}, até as {{ check_out_time }}"), ("Duração", "{{ nights_text }}")],
        "guests": "3. Hóspedes ({{ guests_count }})",
        "guest_headers": ["Nº", "Nome completo", "Documento", "Condição"],
        "main": "Titular",
        "companion": "Acompanhante",
        "vehicle": "4. Veículo",
        "vehicle_text": "{% if vehicle_plate %}Placa {{ vehicle_plate }}.{% else %}Os hóspedes não virão de carro."
        "{% endif %}",
        "auth_closing": "Declaro que os hóspedes foram informados do regulamento interno do condomínio e assumo a "
        "responsabilidade pela sua observância durante a estadia.",
        "place_date": "{{ city }}, {{ issue_date }}.",
        "doc_line": "CPF/CNPJ {{ host_document }}",
        "auth_role": "Proprietário(a) / responsável pelo imóvel",
        "checkin_title": "INSTRUÇÕES DE CHECK-IN",
        "hello": "Olá, {{ guest_name }}! Que bom receber você. Aqui está tudo o que você precisa para chegar e "
        "aproveitar a estadia.",
        "address": "Endereço",
        "when": "Datas e horários",
        "when_rows": [("Check-in", "{{ check_in }}, a partir das {{ check_in_time }}"),
                      ("Check-out", "{{ check_out }}, até as {{ check_out_time }}")],
        "access": "Como entrar",
        "door_code": "Código da porta: ",
        "wifi": "Wi-Fi",
        "wifi_rows": [("Rede", "{{ wifi_name }}"), ("Senha", "{{ wifi_password }}")],
        "rules": "Regras da casa",
        "checkout": "Check-out",
        "checkout_text": "Por favor, deixe o imóvel até as {{ check_out_time }} de {{ check_out }}. Obrigado e boa "
        "estadia!",
        "receipt_title": "RECIBO",
        "receipt_amount": "Valor: ",
        "receipt_text": "Recebi de {{ payer_name }}{% if payer_document %} ({{ payer_document }}){% endif %} a "
        "importância de {{ amount }} ({{ amount_words }}), referente à hospedagem no imóvel {{ property_name }}, "
        "situado em {{ property_address }}, no período de {{ check_in }} a {{ check_out }} ({{ nights_text }}).",
        "receipt_rows": [("Pagador", "{{ payer_name }}"), ("Período", "{{ check_in }} a {{ check_out }} "
                         "({{ nights_text }})"), ("Imóvel", "{{ property_name }}"), ("Valor", "{{ amount }}"),
                         ("Por extenso", "{{ amount_words }}")],
        "receipt_closing": "Para clareza, firmo o presente recibo, dando plena quitação do valor recebido.",
        "receipt_role": "Emitente",
    },
    "en": {
        "auth_title": "GUEST AUTHORIZATION",
        "auth_to": "To the building management and front desk{% if building_contact %} (attn. {{ building_contact }})"
        "{% endif %},",
        "auth_intro": "I, {{ host_name }}{% if host_document %}, ID {{ host_document }}{% endif %}, the person "
        "responsible for the unit below, authorize the people listed in this document to enter and stay in it "
        "during the period shown.",
        "unit": "1. Unit",
        "unit_rows": [("Unit", "{{ property_name }}"), ("Address", "{{ property_address }}"),
                      ("Responsible", "{{ host_name }}")],
        "stay": "2. Stay",
        "stay_rows": [("Arrival", "{{ check_in }}, from {{ check_in_time }}"),
                      ("Departure", "{{ check_out }}, by {{ check_out_time }}"), ("Length", "{{ nights_text }}")],
        "guests": "3. Guests ({{ guests_count }})",
        "guest_headers": ["No.", "Full name", "ID document", "Role"],
        "main": "Main guest",
        "companion": "Companion",
        "vehicle": "4. Vehicle",
        "vehicle_text": "{% if vehicle_plate %}Plate {{ vehicle_plate }}.{% else %}The guests are not coming by car."
        "{% endif %}",
        "auth_closing": "I declare that the guests have been told the building's rules and I take responsibility "
        "for their compliance during the stay.",
        "place_date": "{{ city }}, {{ issue_date }}.",
        "doc_line": "ID {{ host_document }}",
        "auth_role": "Owner / person responsible for the unit",
        "checkin_title": "CHECK-IN INSTRUCTIONS",
        "hello": "Hello, {{ guest_name }}! We are glad to welcome you. Here is everything you need to arrive and "
        "enjoy your stay.",
        "address": "Address",
        "when": "Dates and times",
        "when_rows": [("Check-in", "{{ check_in }}, from {{ check_in_time }}"),
                      ("Check-out", "{{ check_out }}, by {{ check_out_time }}")],
        "access": "Getting in",
        "door_code": "Door code: ",
        "wifi": "Wi-Fi",
        "wifi_rows": [("Network", "{{ wifi_name }}"), ("Password", "{{ wifi_password }}")],
        "rules": "House rules",
        "checkout": "Check-out",
        "checkout_text": "Please leave the unit by {{ check_out_time }} on {{ check_out }}. Thank you, and enjoy "
        "your stay!",
        "receipt_title": "RECEIPT",
        "receipt_amount": "Amount: ",
        "receipt_text": "I received from {{ payer_name }}{% if payer_document %} ({{ payer_document }}){% endif %} "
        "the amount of {{ amount }} ({{ amount_words }}) for the stay at {{ property_name }}, "
        "{{ property_address }}, from {{ check_in }} to {{ check_out }} ({{ nights_text }}).",
        "receipt_rows": [("Payer", "{{ payer_name }}"), ("Period", "{{ check_in }} to {{ check_out }} "
                         "({{ nights_text }})"), ("Property", "{{ property_name }}"), ("Amount", "{{ amount }}"),
                         ("In words", "{{ amount_words }}")],
        "receipt_closing": "I issue this receipt in full discharge of the amount received.",
        "receipt_role": "Issuer",
    },
}  # fmt: skip
FOOTER = "{{ property_name }} · {{ property_address }}"


def authorization(locale: str) -> DocumentObject:
    t = TEXTS[locale]
    doc = new_document(t["auth_title"].capitalize())
    title(doc, t["auth_title"], "{{ property_name }}")
    paragraph(doc, t["auth_to"], after=8)
    paragraph(doc, t["auth_intro"], after=6, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    heading(doc, t["unit"])
    key_values(doc, t["unit_rows"])
    heading(doc, t["stay"])
    key_values(doc, t["stay_rows"])
    heading(doc, t["guests"])
    role = "{% if loop.first %}" + t["main"] + "{% else %}" + t["companion"] + "{% endif %}"
    loop_table(doc, t["guest_headers"], ["{{ loop.index }}", "{{ g.name }}", "{{ g.document }}", role],
               [Mm(11), Mm(71), Mm(52), Mm(36)], "for g in guests")  # fmt: skip
    heading(doc, t["vehicle"])
    paragraph(doc, t["vehicle_text"])
    paragraph(doc, t["auth_closing"], before=10, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    signature(doc, t["place_date"], ["{{ host_name }}", t["doc_line"]], t["auth_role"])
    footer(doc, FOOTER)
    return doc


def checkin(locale: str) -> DocumentObject:
    t = TEXTS[locale]
    doc = new_document(t["checkin_title"].capitalize())
    title(doc, t["checkin_title"], "{{ property_name }}")
    paragraph(doc, t["hello"], after=6)
    heading(doc, t["address"])
    paragraph(doc, "{{ property_address }}")
    heading(doc, t["when"])
    key_values(doc, t["when_rows"])
    tag(doc, "{%p if access_instructions or door_code %}")
    heading(doc, t["access"])
    tag(doc, "{%p if access_instructions %}")
    paragraph(doc, "{{ access_instructions }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if door_code %}")
    code = doc.add_paragraph()
    code.add_run(t["door_code"]).bold = True
    code_run = code.add_run("{{ door_code }}")
    code_run.bold, code_run.font.size, code_run.font.color.rgb = True, Pt(14), ACCENT
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if wifi_name %}")
    heading(doc, t["wifi"])
    key_values(doc, t["wifi_rows"])
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if house_rules %}")
    heading(doc, t["rules"])
    paragraph(doc, "{{ house_rules }}")
    tag(doc, "{%p endif %}")
    heading(doc, t["checkout"])
    paragraph(doc, t["checkout_text"])
    paragraph(doc, "{{ host_name }}", bold=True, before=14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    footer(doc, FOOTER)
    return doc


def receipt(locale: str) -> DocumentObject:
    t = TEXTS[locale]
    doc = new_document(t["receipt_title"].capitalize())
    title(doc, t["receipt_title"], "{{ property_name }}")
    amount = paragraph(doc, align=WD_ALIGN_PARAGRAPH.RIGHT, after=10)
    amount.add_run(t["receipt_amount"]).bold = True
    big = amount.add_run("{{ amount }}")
    big.bold, big.font.size, big.font.color.rgb = True, Pt(15), ACCENT
    paragraph(doc, t["receipt_text"], after=10, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    key_values(doc, t["receipt_rows"])
    paragraph(doc, t["receipt_closing"], before=6, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    signature(doc, t["place_date"], ["{{ host_name }}", t["doc_line"]], t["receipt_role"])
    footer(doc, FOOTER)
    return doc


BUILDERS = {"authorization": authorization, "checkin": checkin, "receipt": receipt}


def build(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, builder in BUILDERS.items():
        for locale in TEXTS:
            path = folder / f"{kind}_{locale}.docx"
            builder(locale).save(str(path))
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write the .docx files to")
    for path in build(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
