"""Templates checked and rendered in a worker process: the same answers as in-process, and the CPU, memory and
time limits turn a template that asks for too much into a refusal, after which the next template works."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from domain.documents.context import build_context, sample_data
from domain.documents.problem import TemplateProblem
from domain.documents.render import render_docx
from domain.documents.worker import TemplateWorkers
from tests.support.documents import docx_text, make_template

SAMPLE = build_context("receipt", "pt_BR", sample_data(), today=date(2027, 8, 10))
GOOD = make_template("Recibo de {{ payer_name|upper }}")


def growing(rounds: int, tail: str = "|length") -> bytes:
    """Each round multiplies the text by its own length (+1): 8 rounds of an 11-letter name are ~4.7 GB."""
    return make_template("{{ payer_name" + "|replace('', payer_name)" * rounds + tail + " }}")


@pytest.fixture
def workers(request: pytest.FixtureRequest) -> Iterator[TemplateWorkers]:
    limits = getattr(request, "param", {})
    pool = TemplateWorkers(**limits)
    yield pool
    pool.close()


async def test_answers_are_the_same_as_in_process(workers: TemplateWorkers):
    check = await workers.check(GOOD, "receipt", SAMPLE)
    assert check.used == {"payer_name"} and "Recibo de MARIA SILVA" in docx_text(check.sample)
    assert docx_text(await workers.render(GOOD, SAMPLE)) == docx_text(render_docx(GOOD, SAMPLE))
    with pytest.raises(TemplateProblem) as caught:
        await workers.check(make_template("{{ payer_name }} {{ door_code }}"), "receipt", SAMPLE)
    assert (caught.value.code, caught.value.unknown) == ("unknown_fields", ("door_code",))
    with pytest.raises(TemplateProblem, match="not_docx"):
        await workers.check_file(b"not a zip")


async def _refused_then_recovers(workers: TemplateWorkers, template: bytes) -> TemplateProblem:
    with pytest.raises(TemplateProblem) as caught:
        await workers.check(template, "receipt", SAMPLE)
    assert (await workers.check(GOOD, "receipt", SAMPLE)).used == {"payer_name"}  # a fresh worker took over
    return caught.value


@pytest.mark.parametrize("workers", [{"memory_bytes": 1024 * 2**20}], indirect=True)
async def test_memory_limit(workers: TemplateWorkers):
    problem = await _refused_then_recovers(workers, growing(8))
    assert (problem.code, problem.detail) == ("limits", "memory")


@pytest.mark.parametrize("workers", [{"cpu_seconds": 1, "memory_bytes": 4 * 2**30}], indirect=True)
async def test_cpu_limit(workers: TemplateWorkers):
    problem = await _refused_then_recovers(workers, growing(6, "|sort|length"))  # ~30 s of sorting
    assert problem.code == "limits"


@pytest.mark.parametrize("workers", [{"timeout": 1.0, "memory_bytes": 4 * 2**30}], indirect=True)
async def test_wall_clock_limit(workers: TemplateWorkers):
    problem = await _refused_then_recovers(workers, growing(6, "|sort|length"))
    assert (problem.code, problem.detail) == ("limits", "time")
