"""Rendering .docx templates with docxtpl, in a sandbox, and checking a host's own template before it is accepted.

A template is Jinja inside Word XML. A host's template is untrusted code, so it is held to four fences:

1. the file itself (domain.documents.package): a real .docx, not a zip bomb, with no macros, outside links or
   fields that read files;
2. a static check of every Jinja part docxtpl renders (body, headers, footers, footnotes, document properties):
   no underscored names or attributes, no function or method calls, no include/import/extends, no macros, no
   `{% set %}` (nothing can grow a string round after round), no autoescape switches, no repetition or `%`
   operators (`'%0100000000d' % 1` is 100 MB), only a short list of filters and tests, and loops only over the
   lists we give (`guests`, `companions`), at most two deep;
3. rendering in jinja2's SandboxedEnvironment with no globals and StrictUndefined, with plain data only (strings
   and lists of dicts of strings), printing only plain values of bounded length, so whatever slips past the check
   still cannot reach an object's internals, show a repr (`{{ guests.pop }}`, `{{ loop }}`) or print a blank;
4. checking and rendering a host's template in a worker process with CPU, memory and time limits
   (domain.documents.worker), so what all of that still lets through costs a refusal, not the bot.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from docx.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from domain.documents.context import FIELDS, LIST_FIELDS
from domain.documents.package import check_docx_file
from domain.documents.problem import TemplateProblem

MAX_LOOP_DEPTH = 2
MAX_PRINTED = 10_000  # characters one {{ … }} may print: a field is a name or an address, not a book
FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
CORE_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")  # the ones docxtpl renders

ALLOWED_FILTERS = frozenset({
    "capitalize", "count", "d", "default", "e", "escape", "first", "int", "join", "last", "length", "lower",
    "replace", "reverse", "round", "sort", "string", "title", "trim", "truncate", "upper", "wordcount",
})  # fmt: skip
ALLOWED_TESTS = frozenset({
    "==", "!=", "<", "<=", ">", ">=", "boolean", "defined", "divisibleby", "eq", "equalto", "even", "false", "ge",
    "greaterthan", "gt", "in", "integer", "le", "lessthan", "lower", "lt", "ne", "none", "number", "odd", "sameas",
    "sequence", "string", "true", "undefined", "upper",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class TemplateCheck:
    """An accepted template: the fields it uses, and its rendering of the sample booking (to show the host)."""

    used: frozenset[str]
    sample: bytes


def _printable(value: Any) -> Any:
    """What `{{ … }}` may print: text and numbers of bounded length, never an object's repr."""
    if isinstance(value, Undefined):
        return value  # StrictUndefined fails when printed, naming the field
    if value is not None and not isinstance(value, str | int | float):
        raise SecurityError(f"prints a {type(value).__name__}, not a value")
    if isinstance(value, str) and len(value) > MAX_PRINTED:
        raise SecurityError(f"prints {len(value)} characters")
    return value


class _Sandbox(SandboxedEnvironment):
    """No `%` formatting on strings at run time either (the static check refuses the operator)."""

    intercepted_binops = frozenset({"%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting is not allowed")
        return super().call_binop(context, operator, left, right)


def sandbox(undefined: type[StrictUndefined] = StrictUndefined) -> SandboxedEnvironment:
    """A Jinja environment with no globals, few filters and tests, strict about undefined names."""
    return _restrict(_Sandbox(undefined=undefined, autoescape=True, finalize=_printable))


def _restrict(env: SandboxedEnvironment) -> SandboxedEnvironment:
    env.globals.clear()  # no range, cycler, joiner, lipsum, dict, namespace
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.tests = {name: t for name, t in env.tests.items() if name in ALLOWED_TESTS}
    return env


class _CompiledOnce(_Sandbox):
    """The sandbox, compiling each distinct source once. docxtpl hands every part of a template to from_string()
    on every render, and the parts are the same XML each time: compiling them was a third of a render's time.
    Keyed by the whole source's hash, so two templates never share code; thread-safe (renders run in threads)."""

    KEPT = 32

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=True, finalize=_printable)
        self._compiled: OrderedDict[bytes, Template] = OrderedDict()
        self._lock = threading.Lock()

    def from_string(self, source: str | nodes.Template, globals: Any = None, template_class: Any = None) -> Template:
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        key = hashlib.sha256(source.encode()).digest()
        with self._lock:
            template = self._compiled.get(key)
            if template is not None:
                self._compiled.move_to_end(key)
                return template
        template = super().from_string(source)
        with self._lock:
            self._compiled[key] = template
            while len(self._compiled) > self.KEPT:
                self._compiled.popitem(last=False)
        return template


_SHARED = _restrict(_CompiledOnce())


# --- what the template contains --------------------------------------------------------------------------------


def _sources(tpl: DocxTemplate) -> Iterator[str]:
    """The Jinja source of every part docxtpl renders, patched the way docxtpl patches it."""
    document = tpl.get_docx()
    yield tpl.patch_xml(tpl.xml_to_string(document.element.body))
    for rel in document.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and not rel.is_external and rel.target_part.blob:
            yield tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    for part in document.part.package.parts:
        if part.content_type == FOOTNOTES_TYPE:
            yield tpl.patch_xml(part.blob.decode("utf-8"))
    for name in CORE_PROPERTIES:
        yield getattr(document.core_properties, name) or ""


def _violations(node: nodes.Node, *, depth: int = 0) -> Iterator[str]:
    """What in a parsed template reaches for more than the data it is given (nothing: an empty iterator)."""
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        yield f".{node.attr}"
    elif isinstance(node, nodes.Getitem) and not (
        isinstance(node.arg, nodes.Const) and not str(node.arg.value).startswith("_")
    ):
        yield "[…]"
    elif isinstance(node, nodes.Name) and node.name.startswith("_"):
        yield node.name
    elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
        yield "{% " + type(node).__name__.lower() + " %}"
    elif isinstance(node, nodes.Call | nodes.CallBlock):
        yield "()"
    elif isinstance(node, nodes.Macro):
        yield "{% macro %}"
    elif isinstance(node, nodes.EvalContextModifier):
        yield "{% autoescape %}"
    elif isinstance(node, nodes.Mul | nodes.Pow):
        yield "*"
    elif isinstance(node, nodes.Mod):
        yield "%"
    elif isinstance(node, nodes.Assign | nodes.AssignBlock):
        yield "{% set %}"
    elif isinstance(node, nodes.Filter | nodes.FilterBlock) and getattr(node, "name", None) not in ALLOWED_FILTERS:
        yield f"|{getattr(node, 'name', '?')}"
    elif isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
        yield f"is {node.name}"
    elif isinstance(node, nodes.For):
        iterable = node.iter
        while isinstance(iterable, nodes.Filter) and iterable.node is not None:
            iterable = iterable.node
        if not (isinstance(iterable, nodes.Name) and iterable.name in LIST_FIELDS):
            yield "{% for %}"
        if depth + 1 > MAX_LOOP_DEPTH:
            yield "{% for %} {% for %} {% for %}"
        for child in node.iter_child_nodes():
            yield from _violations(child, depth=depth + 1)
        return
    for child in node.iter_child_nodes():
        yield from _violations(child, depth=depth)


def used_fields(content: bytes) -> frozenset[str]:
    """The top-level names a (checked) template uses: what must be filled in before it renders without blanks."""
    tpl = DocxTemplate(io.BytesIO(content))
    try:
        env = sandbox()
        names = set(tpl.get_undeclared_template_variables(jinja_env=env))
        for source in _sources(tpl):
            names |= meta.find_undeclared_variables(env.parse(source))  # footnotes and properties too
        return frozenset(names)
    finally:
        _release(tpl)


def check_template(content: bytes, kind: str, sample: dict[str, Any]) -> TemplateCheck:
    """Accept a host's template for `kind` or raise TemplateProblem saying why not. `sample` is the sample context."""
    check_docx_file(content)
    tpl = DocxTemplate(io.BytesIO(content))
    try:
        sources = list(_sources(tpl))
    except Exception as exc:  # python-docx refuses what is not a Word document
        raise TemplateProblem("not_docx", str(exc)[:200]) from None
    finally:
        _release(tpl)
    env = sandbox()
    names: set[str] = set()
    outside: set[str] = set()
    trees = []
    for source in sources:
        try:
            trees.append(env.parse(source))
        except TemplateSyntaxError as exc:
            raise TemplateProblem("syntax", _plain_message(exc.message)) from None
        outside.update(_violations(trees[-1]))
    if outside:
        raise TemplateProblem("outside", " ".join(sorted(outside)))
    try:
        for tree in trees:
            names |= meta.find_undeclared_variables(tree)  # compiles: unknown filters and tests fail here
    except TemplateSyntaxError as exc:
        raise TemplateProblem("syntax", _plain_message(exc.message)) from None
    unknown = tuple(sorted(name for name in names if name not in FIELDS[kind]))
    if unknown:
        raise TemplateProblem("unknown_fields", unknown=unknown)
    rendered = _render_sample(content, sample)
    return TemplateCheck(frozenset(names), rendered)


class _Recording(StrictUndefined):
    """StrictUndefined that remembers the name it failed on (an attribute of a guest, say)."""

    seen: list[str] = []

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        if self._undefined_name:
            self.seen.append(str(self._undefined_name))
        return super()._fail_with_undefined_error(*args, **kwargs)

    __str__ = __iter__ = __bool__ = __len__ = _fail_with_undefined_error


def _render_sample(content: bytes, sample: dict[str, Any]) -> bytes:
    seen: list[str] = []
    recording = type("Recording", (_Recording,), {"seen": seen})
    try:
        rendered = _render(content, sample, sandbox(recording))
    except SecurityError:
        raise TemplateProblem("outside") from None
    except UndefinedError as exc:
        if seen:
            raise TemplateProblem("unknown_fields", unknown=tuple(sorted({"." + name for name in seen}))) from None
        raise TemplateProblem("render", _plain_message(str(exc))) from None
    except TemplateError as exc:
        raise TemplateProblem("render", _plain_message(str(exc))) from None
    except MemoryError:
        raise  # the worker's memory limit: domain.documents.worker answers it
    except Exception as exc:  # broken XML after rendering, a recursion, anything else: refuse the template
        raise TemplateProblem("render", type(exc).__name__) from None
    probe = DocxTemplate(io.BytesIO(rendered))
    try:
        probe.get_docx()  # what Word will open: the rendered XML must still be a document
    except Exception as exc:
        raise TemplateProblem("render", type(exc).__name__) from None
    finally:
        _release(probe)
    return rendered


def render_docx(content: bytes, context: dict[str, Any]) -> bytes:
    """The document: `content` (a checked template) rendered with `context` (plain data) in the sandbox."""
    return _render(content, context, _SHARED)


def _render(content: bytes, context: dict[str, Any], env: SandboxedEnvironment) -> bytes:
    tpl = DocxTemplate(io.BytesIO(content))
    try:
        tpl.render(context, jinja_env=env, autoescape=True)
        out = io.BytesIO()
        tpl.save(out)
        return out.getvalue()
    finally:
        _release(tpl)


def _release(tpl: DocxTemplate) -> None:
    """Break python-docx's reference cycles (package <-> parts <-> relationships) so the parts' lxml trees are freed
    at once. Left to the cyclic GC, a render's ~130 KB of garbage waits for a full collection: a process making
    documents grew from 100 to 250 MB before one came, and a full collection costs ~150 ms in the bot."""
    document = tpl.__dict__.get("docx")
    if document is not None:
        package = document.part.package
        for part in list(package.iter_parts()):
            part.__dict__.clear()
        package.__dict__.clear()
        document.__dict__.clear()
    tpl.__dict__.clear()


def _plain_message(message: str | None) -> str:
    return " ".join((message or "").split())[:200]
