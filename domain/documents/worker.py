"""Checking and rendering templates in worker processes with CPU-time, memory and wall-clock limits.

A host's template is untrusted: the sandbox and the static check (domain.documents.render) refuse what reaches
outside the data, but a small file can still ask for a lot of work (a zip of repetitive XML, a long chain of
filters). In a worker process that work is bounded: RLIMIT_AS caps its memory (a MemoryError is a refusal),
RLIMIT_CPU its CPU time per call (SIGXCPU ends it), and a wall-clock timeout kills it. A worker that dies is
replaced on the next call; the bot only sees TemplateProblem("limits").

Workers are started on first use (~0.5 s) and then kept: each call costs a round trip over a pipe (~1 ms), not a
process start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import resource
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from domain.documents.package import check_docx_file
from domain.documents.problem import TemplateProblem
from domain.documents.render import TemplateCheck, check_template, render_docx

log = logging.getLogger(__name__)

CPU_SECONDS = 20
MEMORY_BYTES = 1536 * 2**20  # address space of a worker; an idle one maps ~250 MB
TIMEOUT = 30.0
_ROOT = Path(__file__).resolve().parents[2]  # where `domain` can be imported from

_TASKS: dict[str, Callable[..., Any]] = {"file": check_docx_file, "check": check_template, "render": render_docx}


class TemplateWorkers:
    """`processes` workers, shared by the event loops and threads of this process."""

    def __init__(
        self, *, processes: int = 1, cpu_seconds: int = CPU_SECONDS, memory_bytes: int = MEMORY_BYTES,
        timeout: float = TIMEOUT,
    ) -> None:  # fmt: skip
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all = [_Worker(cpu_seconds, memory_bytes, timeout) for _ in range(processes)]
        for worker in self._all:
            self._idle.put(worker)

    async def check_file(self, content: bytes) -> None:
        """package.check_docx_file in a worker (it parses the file's XML)."""
        await self._call("file", content)

    async def check(self, content: bytes, kind: str, sample: dict[str, Any]) -> TemplateCheck:
        """render.check_template in a worker. Raises TemplateProblem, "limits" when a limit was hit."""
        result: TemplateCheck = await self._call("check", content, kind, sample)
        return result

    async def render(self, content: bytes, context: dict[str, Any]) -> bytes:
        """render.render_docx in a worker. Raises TemplateProblem ("render" or "limits") when it cannot."""
        result: bytes = await self._call("render", content, context)
        return result

    async def _call(self, task: str, *args: Any) -> Any:
        return await asyncio.to_thread(self._call_blocking, task, args)

    def _call_blocking(self, task: str, args: tuple[Any, ...]) -> Any:
        worker = self._idle.get()  # waits in this thread for a free worker
        try:
            return worker.call(task, args)
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        for worker in self._all:
            worker.stop()


class _Worker:
    """One worker process, `python -m domain.documents.worker`, spoken to with pickles over its stdin and stdout.
    A plain subprocess rather than multiprocessing: nothing of the parent (its threads, its __main__) is copied or
    imported again, so it behaves the same under `lumina run`, pytest and a benchmark script."""

    def __init__(self, cpu_seconds: int, memory_bytes: int, timeout: float) -> None:
        self._limits = (cpu_seconds, memory_bytes)
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._pipes: tuple[Connection, Connection] | None = None

    def call(self, task: str, args: tuple[Any, ...]) -> Any:
        to_child, from_child = self._connection()
        try:
            to_child.send((task, args))
            if not from_child.poll(self._timeout):
                self.stop()
                log.warning("template work killed after %s s", self._timeout, extra={"task": task})
                raise TemplateProblem("limits", "time")
            status, value = from_child.recv()
        except (EOFError, OSError):  # killed by SIGXCPU (the CPU limit) or by the kernel
            self.stop()
            log.warning("template worker died", extra={"task": task})
            raise TemplateProblem("limits", "stopped") from None
        if status == "ok":
            return value
        if status == "problem":
            code, detail, unknown = value
            raise TemplateProblem(code, detail, unknown=unknown)
        if status == "memory":
            self.stop()
            raise TemplateProblem("limits", "memory")
        raise TemplateProblem("render", value)

    def _connection(self) -> tuple[Connection, Connection]:
        if self._process is None or self._pipes is None or self._process.poll() is not None:
            self.stop()
            cpu_seconds, memory_bytes = self._limits
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(cpu_seconds), str(memory_bytes)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=_ROOT,
            )  # fmt: skip
            assert process.stdin is not None and process.stdout is not None
            self._pipes = (
                Connection(os.dup(process.stdin.fileno()), readable=False),
                Connection(os.dup(process.stdout.fileno()), writable=False),
            )
            process.stdin.close()
            process.stdout.close()
            self._process = process
        return self._pipes

    def stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self._process.wait(5)
        for pipe in self._pipes or ():
            pipe.close()
        self._process, self._pipes = None, None


def _serve(requests: Connection, replies: Connection, cpu_seconds: int, memory_bytes: int) -> None:
    """The worker's loop: one task at a time, each with `cpu_seconds` more CPU time than it had used."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            task, args = requests.recv()
        except (EOFError, OSError):
            return  # the bot stopped
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime) + cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        try:
            replies.send(("ok", _TASKS[task](*args)))
        except TemplateProblem as problem:
            replies.send(("problem", (problem.code, problem.detail, problem.unknown)))
        except MemoryError:
            replies.send(("memory", None))
            os._exit(1)  # a process that ran out of memory is not trusted with the next template
        except Exception as exc:  # a stored template that no longer renders, a bug: a reason, not a dead worker
            replies.send(("error", type(exc).__name__))


if __name__ == "__main__":
    # Replies go to the original stdout; anything printed by a library goes to stderr instead.
    _replies = os.dup(1)
    os.dup2(2, 1)
    _serve(Connection(0, writable=False), Connection(_replies, readable=False), int(sys.argv[1]), int(sys.argv[2]))
