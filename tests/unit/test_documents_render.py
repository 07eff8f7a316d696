"""Rendering the default templates (every value where it belongs, in both languages, in .docx and PDF), the builder
that makes them, and the fences around a host's own template."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import io
import socket
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from jinja2.exceptions import SecurityError

from domain.documents.context import KINDS, LOCALES, build_context, sample_data
from domain.documents.defaults import DEFAULT_VERSION, default_template, fields_of, templates_dir
from domain.documents.package import MAX_TEMPLATE_BYTES, check_docx_file
from domain.documents.pdf import PdfConverter, PdfError, find_soffice, no_network_prefix
from domain.documents.problem import TemplateProblem
from domain.documents.render import check_template, render_docx, used_fields
from tests.support.documents import (
    docx_lines,
    docx_text,
    field_xml,
    have_pdf_tools,
    make_template,
    patched_template,
    pdf_text,
    table_cells,
)

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2027, 8, 10)
SAMPLE = sample_data()

# What each document must show for the sample booking, per language (the table cells and paragraphs hold them).
EXPECTED = {
    ("authorization", "pt_BR"): ["AUTORIZAÇÃO DE HOSPEDAGEM", "Apto 101 Copacabana", "Av. Atlântica, 1702",
                                 "Ana Lima", "987.654.321-00", "12/08/2027, a partir das 15:00",
                                 "15/08/2027, até as 11:00", "3 noites", "Maria Silva", "CPF 123.456.789-09",
                                 "João Silva", "RG 12.345.678-9", "Titular", "Acompanhante", "Placa ABC1D23",
                                 "Rio de Janeiro, 10 de agosto de 2027.", "A/C Portaria", "Hóspedes (2)"],
    ("authorization", "en"): ["GUEST AUTHORIZATION", "Apto 101 Copacabana", "Av. Atlântica, 1702", "Ana Lima",
                              "987.654.321-00", "12 Aug 2027, from 15:00", "15 Aug 2027, by 11:00", "3 nights",
                              "Maria Silva", "CPF 123.456.789-09", "João Silva", "RG 12.345.678-9", "Main guest",
                              "Companion", "Plate ABC1D23", "Rio de Janeiro, 10 August 2027.", "attn. Portaria",
                              "Guests (2)"],
    ("checkin", "pt_BR"): ["INSTRUÇÕES DE CHECK-IN", "Olá, Maria Silva!", "Av. Atlântica, 1702",
                           "12/08/2027, a partir das 15:00", "15/08/2027, até as 11:00", "Retire a chave na portaria.",
                           "4321", "Apto101", "praia2027", "Sem festas. Silêncio após 22h.", "Ana Lima"],
    ("checkin", "en"): ["CHECK-IN INSTRUCTIONS", "Hello, Maria Silva!", "Av. Atlântica, 1702",
                        "12 Aug 2027, from 15:00", "15 Aug 2027, by 11:00", "Retire a chave na portaria.", "4321",
                        "Apto101", "praia2027", "Sem festas. Silêncio após 22h.", "Ana Lima"],
    ("receipt", "pt_BR"): ["RECIBO", "Recebi de Maria Silva (CPF 123.456.789-09)", "R$\xa01.234,56",
                           "mil duzentos e trinta e quatro reais e cinquenta e seis centavos",
                           "12/08/2027 a 15/08/2027 (3 noites)", "Rio de Janeiro, 10 de agosto de 2027.", "Ana Lima",
                           "CPF/CNPJ 987.654.321-00", "Emitente"],
    ("receipt", "en"): ["RECEIPT", "I received from Maria Silva (CPF 123.456.789-09)", "R$1,234.56",
                        "one thousand, two hundred and thirty-four reais and fifty-six centavos",
                        "12 Aug 2027 to 15 Aug 2027 (3 nights)", "Rio de Janeiro, 10 August 2027.", "Ana Lima",
                        "ID 987.654.321-00", "Issuer"],
}  # fmt: skip


def render(kind: str, locale: str, data: Any = SAMPLE) -> bytes:
    source = default_template(templates_dir(), kind, locale)
    return render_docx(source.content, build_context(kind, locale, data, today=TODAY))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_value_is_in_place(kind: str, locale: str):
    text = docx_text(render(kind, locale))
    for value in EXPECTED[(kind, locale)]:
        assert value in text, value
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_guests_table_has_one_row_per_guest(locale: str):
    rows = table_cells(render("authorization", locale))
    guests = [row for row in rows if len(row) == 4]
    main, companion = ("Titular", "Acompanhante") if locale == "pt_BR" else ("Main guest", "Companion")
    assert guests[1:] == [
        ["1", "Maria Silva", "CPF 123.456.789-09", main],
        ["2", "João Silva", "RG 12.345.678-9", companion],
    ]


def test_what_there_is_none_of_leaves_no_empty_section():
    none = {"wifi_name": "", "wifi_password": "", "door_code": "", "house_rules": "", "host_document": ""}
    bare = dataclasses.replace(SAMPLE, vehicle_plate="", info={**SAMPLE.info, **none})
    checkin = docx_text(render("checkin", "en", bare))
    assert "Wi-Fi" not in checkin and "Door code" not in checkin and "House rules" not in checkin
    assert "Getting in" in checkin  # there are still instructions to get in
    authorization = docx_text(render("authorization", "pt_BR", bare))
    assert "Os hóspedes não virão de carro." in authorization and "CPF/CNPJ" not in authorization


def test_people_typing_xml_characters_do_not_break_the_document():
    tricky = dataclasses.replace(SAMPLE, main_guest='Ana <b>&amp;</b> "Zé"', guests=())
    lines = docx_lines(render("receipt", "en", tricky))
    assert any('Ana <b>&amp;</b> "Zé"' in line for line in lines)


def test_multi_line_values_become_lines():
    rules = dataclasses.replace(SAMPLE, info={**SAMPLE.info, "house_rules": "No parties\nQuiet after 22h"})
    doc = Document(io.BytesIO(render("checkin", "en", rules)))
    xml = doc.element.xml
    assert "No parties" in xml and "<w:br/>" in xml


def test_the_committed_templates_are_what_the_builder_builds(tmp_path: Path):
    spec = importlib.util.spec_from_file_location("build_templates", ROOT / "templates" / "build_templates.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    built = builder.build(tmp_path)
    assert sorted(p.name for p in built) == sorted(f"{k}_{loc}.docx" for k in KINDS for loc in LOCALES)
    for path in built:
        with zipfile.ZipFile(path) as fresh, zipfile.ZipFile(ROOT / "templates" / path.name) as committed:
            for part in ("word/document.xml", "word/footer1.xml", "word/styles.xml"):
                if part in fresh.namelist():
                    assert fresh.read(part) == committed.read(part), f"{path.name} {part}: run build_templates.py"


@pytest.mark.parametrize("kind", KINDS)
def test_default_templates_pass_the_checks_hosts_templates_get(kind: str):
    for locale in LOCALES:
        source = default_template(templates_dir(), kind, locale)
        assert source.version == DEFAULT_VERSION
        check = check_template(source.content, kind, build_context(kind, locale, SAMPLE, today=TODAY))
        assert check.used == fields_of(source) == used_fields(source.content)


# --- hosts' templates -------------------------------------------------------------------------------------------


def sample(kind: str = "receipt") -> dict[str, Any]:
    return build_context(kind, "pt_BR", SAMPLE, today=TODAY)


def refused(content: bytes, kind: str = "receipt") -> TemplateProblem:
    with pytest.raises(TemplateProblem) as caught:
        check_template(content, kind, sample(kind))
    return caught.value


@pytest.mark.parametrize(
    "jinja",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ guest_name.__class__ }}",
        "{{ guest_name['__class__'] }}",
        "{% set k = '__cla' ~ 'ss__' %}{{ guest_name[k] }}",
        "{{ guest_name|attr('__class__') }}",
        "{{ guest_name.upper() }}",
        "{{ guest_name.format(1) }}",
        "{% include 'other.xml' %}",
        "{% import 'macros.xml' as m %}",
        "{% from 'macros.xml' import x %}",
        "{% extends 'base.xml' %}",
        "{% macro m() %}{{ m() }}{% endmacro %}",
        "{% autoescape false %}{{ guest_name }}{% endautoescape %}",
        "{{ guest_name * 100000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{% for x in range(10**9) %}x{% endfor %}",
        "{% for c in guest_name %}{% for d in guest_name %}x{% endfor %}{% endfor %}",
        "{% for a in guests %}{% for b in guests %}{% for c in guests %}x{% endfor %}{% endfor %}{% endfor %}",
        "{{ guests|map(attribute='name')|join }}",
        "{{ guest_name|safe }}",
        "{{ _private }}",
        "{{ guest_name is callable }}",
    ],
)
def test_templates_that_reach_outside_their_data_are_refused(jinja: str):
    assert refused(make_template("Recibo de {{ payer_name }}", jinja)).code == "outside"


def test_parts_other_than_the_body_are_checked_too():
    doc = Document()
    doc.add_paragraph("{{ payer_name }}")
    doc.sections[0].header.paragraphs[0].text = "{{ ''.__class__ }}"
    out = io.BytesIO()
    doc.save(out)
    assert refused(out.getvalue()).code == "outside"
    doc = Document()
    doc.core_properties.title = "{{ cycler.__init__.__globals__ }}"
    out = io.BytesIO()
    doc.save(out)
    assert refused(out.getvalue()).code == "outside"


def test_unknown_fields_are_named():
    problem = refused(make_template("{{ payer_name }} {{ hospede_cpf }} {{ door_code }}"), "receipt")
    assert (problem.code, problem.unknown) == ("unknown_fields", ("door_code", "hospede_cpf"))  # no secrets here
    problem = refused(make_template("{% for g in guests %}{{ g.nmae }}{% endfor %}"), "authorization")
    assert (problem.code, problem.unknown) == ("unknown_fields", (".nmae",))


def test_mistakes_in_the_fields_are_reported():
    problem = refused(make_template("{{ payer_name }"))
    assert problem.code == "syntax" and problem.detail
    assert refused(make_template("{% if payer_name %}no end")).code == "syntax"
    assert refused(make_template("{{ payer_name|nofilter }}")).code == "outside"


def test_a_template_whose_rendering_breaks_the_document_is_refused():
    problem = refused(make_template("{{ payer_name|int(0) // 0 }}"))
    assert problem.code == "render"


def test_an_accepted_template_comes_with_its_sample_rendering():
    check = check_template(make_template("Recibo de {{ payer_name|upper }}: {{ amount }}"), "receipt", sample())
    assert check.used == {"payer_name", "amount"}
    assert "Recibo de MARIA SILVA: R$\xa01.234,56" in docx_text(check.sample)


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_only_real_docx_files_are_read():
    with pytest.raises(TemplateProblem, match="not_docx"):
        check_docx_file(b"%PDF-1.4 not a zip")
    with pytest.raises(TemplateProblem, match="not_docx"):
        check_docx_file(_zip({"hello.txt": b"hi"}))
    with zipfile.ZipFile(io.BytesIO(make_template("x"))) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    types = parts["[Content_Types].xml"].replace(b"document.main+xml", b"document.macroEnabled.main+xml")
    docm = _zip({**parts, "[Content_Types].xml": types})
    with pytest.raises(TemplateProblem, match="not_docx"):
        check_docx_file(docm)  # a .docm renamed .docx: macros are never accepted
    with pytest.raises(TemplateProblem, match="too_large"):
        check_docx_file(b"PK" + b"\0" * MAX_TEMPLATE_BYTES)
    bomb = _zip({"[Content_Types].xml": b"x", "word/document.xml": b"\0" * (41 * 1024 * 1024)})
    assert len(bomb) < MAX_TEMPLATE_BYTES
    with pytest.raises(TemplateProblem, match="too_large"):
        check_docx_file(bomb)
    check_docx_file(make_template("fine"))


def in_body(xml: bytes) -> bytes:
    """A template whose only paragraph is this Word XML."""
    return patched_template({"word/document.xml": (b"<w:r><w:t>MARK</w:t></w:r>", xml)})


def with_link(kind: str, target: str) -> bytes:
    """A template with an outside relationship of this kind (an image "linked", a hyperlink)."""
    link = (f'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'{kind}" Target="{target}" TargetMode="External"/></Relationships>').encode()  # fmt: skip
    return patched_template({"word/_rels/document.xml.rels": (b"</Relationships>", link)})


MACROS = b'<Override PartName="/word/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (lambda: in_body(field_xml(" INCLUDE", 'TEXT "/etc/passwd" ')), "field INCLUDETEXT"),
        (lambda: in_body(b'<w:fldSimple w:instr=" INCLUDEPICTURE &quot;http://169.254.169.254/x.png&quot; \\d">'
                         b"<w:r><w:t>x</w:t></w:r></w:fldSimple>"), "field INCLUDEPICTURE"),
        (lambda: in_body(field_xml('DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc"')), "field DDEAUTO"),
        (lambda: with_link("image", "http://169.254.169.254/x.png"), "external_link"),
        (lambda: with_link("hyperlink", "file:///etc/passwd"), "external_link"),
        (lambda: patched_template({"[Content_Types].xml": (b"</Types>", MACROS)}, {"word/vbaProject.bin": b"\0" * 64}),
         "macros"),
    ],
)  # fmt: skip
def test_files_with_active_content_are_refused(content, detail):
    with pytest.raises(TemplateProblem) as caught:
        check_docx_file(content())
    assert (caught.value.code, caught.value.detail) == ("active", detail)


def test_harmless_fields_and_plain_hyperlinks_are_accepted():
    check_docx_file(in_body(field_xml(" PA", "GE ") + field_xml("NUMPAGES \\* MERGEFORMAT")))
    check_docx_file(with_link("hyperlink", "https://example.org/rules"))


def test_the_main_part_must_be_exactly_a_word_document():
    with pytest.raises(TemplateProblem, match="not_docx"):
        check_docx_file(patched_template({"[Content_Types].xml": (b"document.main+xml", b"document.main+xml.x")}))


def test_repetitive_xml_that_inflates_past_the_xml_cap_is_too_large():
    padding = b"<w:p/>" * (9 * 1024 * 1024 // 6)  # 9 MB of XML, a few KB compressed: the 38 MiB probe, smaller
    bomb = in_body(padding)
    assert len(bomb) < 100_000
    with pytest.raises(TemplateProblem, match="too_large"):
        check_docx_file(bomb)


@pytest.mark.parametrize(
    "jinja",
    [
        "{{ '%0100000000d' % 1 }}",
        "{{ guest_name % 1 }}",
        "{% set a = guest_name %}{{ a }}",
        "{% set a %}x{% endset %}{{ a }}",
        "{{ guests.pop }}",
        "{{ self }}",
        "{% for g in guests %}{{ loop }}{% endfor %}",
        "{% for g in guests %}{{ g }}{% endfor %}",
        "{{ guests }}",
        "{{ guest_name" + "|replace('', guest_name)" * 3 + " }}",  # 20,000 characters
    ],
)
def test_templates_print_only_bounded_plain_values(jinja: str):
    assert refused(make_template(jinja), "authorization").code == "outside"


def test_the_sandbox_holds_even_without_the_static_check():
    with pytest.raises(SecurityError):
        render_docx(make_template("{{ ''.__class__.__mro__[1].__subclasses__() }}"), {})
    with pytest.raises(SecurityError, match="unsafe"):
        render_docx(make_template("{{ cycler.__init__.__globals__ }}"), {})
    with pytest.raises(SecurityError, match="not a value"):
        render_docx(make_template("{{ guests.pop }}"), {"guests": []})
    with pytest.raises(SecurityError, match="formatting"):
        render_docx(make_template("{{ '%0100000000d' % 1 }}"), {})


# --- PDF --------------------------------------------------------------------------------------------------------

pdf_tools = pytest.mark.skipif(not have_pdf_tools(), reason="LibreOffice (soffice) and pdftotext are not installed")


@pdf_tools
@pytest.mark.parametrize("locale", LOCALES)
def test_the_pdf_has_every_value_too(locale: str):
    converter = PdfConverter(find_soffice("soffice"), timeout=120)

    async def convert_all() -> list[bytes]:
        return list(await asyncio.gather(*(converter.convert(render(kind, locale)) for kind in KINDS)))

    for kind, pdf in zip(KINDS, asyncio.run(convert_all()), strict=True):
        text = " ".join(pdf_text(pdf).split())
        for value in EXPECTED[(kind, locale)]:
            assert " ".join(value.replace("\xa0", " ").split()) in text, (kind, value)


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-soffice"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_a_conversion_that_hangs_is_killed(tmp_path: Path):
    marker = tmp_path / "child.pid"
    soffice = _script(tmp_path, f"sleep 30 & echo $! > {marker}; wait")
    converter = PdfConverter(soffice, timeout=0.5)
    with pytest.raises(PdfError) as caught:
        asyncio.run(converter.convert(b"docx"))
    assert caught.value.reason == "timeout"
    child = int(marker.read_text())
    for _ in range(100):  # the whole group went, not only the shell
        if not _alive(child):
            break
        time.sleep(0.02)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_a_failed_conversion_and_no_libreoffice(tmp_path: Path):
    with pytest.raises(PdfError) as caught:
        asyncio.run(PdfConverter(_script(tmp_path, "echo broken >&2; exit 3")).convert(b"docx"))
    assert caught.value.reason == "failed" and "broken" in str(caught.value)
    fake_pdf = _script(tmp_path, 'for a; do out="$a"; done; cp "$out" "$(dirname "$out")/document.pdf"')
    with pytest.raises(PdfError, match="not a PDF"):
        asyncio.run(PdfConverter(fake_pdf).convert(b"not a pdf"))
    assert asyncio.run(PdfConverter(fake_pdf).convert(b"%PDF-1.7 tiny")) == b"%PDF-1.7 tiny"
    assert find_soffice("") is None and find_soffice("/nonexistent/soffice") is None
    with pytest.raises(PdfError, match="unavailable"):
        asyncio.run(PdfConverter(None).convert(b"docx"))


@pytest.mark.skipif(not no_network_prefix(), reason="this machine does not allow network namespaces (unshare --net)")
def test_libreoffice_runs_without_network(tmp_path: Path):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        marker = tmp_path / "network"
        probe = (f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)' 2>/dev/null "
                 f"&& echo reached > {marker} || echo cut off > {marker}; "
                 'for a; do out="$a"; done; echo "%PDF-1.7" > "$(dirname "$out")/document.pdf"')  # fmt: skip
        soffice = _script(tmp_path, probe)
        asyncio.run(PdfConverter(soffice).convert(b"docx"))
        assert marker.read_text().strip() == "cut off"
        asyncio.run(PdfConverter(soffice, isolate=False).convert(b"docx"))
        assert marker.read_text().strip() == "reached"  # the probe itself works
