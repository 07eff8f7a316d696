"""PDF through LibreOffice (`soffice --headless --convert-to pdf`), when it is installed.

Each conversion runs in its own temporary folder with its own LibreOffice user profile
(`-env:UserInstallation=file:///tmp/...`): two conversions never share a profile, which LibreOffice does not
allow, and nothing is left behind. The child runs in its own process group, so a timeout kills soffice.bin too.
It is awaited as a subprocess: the event loop keeps serving other chats meanwhile.

LibreOffice runs without a network where the machine allows it (`unshare --net`, a new network namespace with no
interface up): a document that slipped a link past the template checks still fetches nothing. Where namespaces are
not allowed (most containers), it runs as it is and the template checks are the fence; `lumina run` logs which.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import weakref
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


class PdfError(Exception):
    """`reason`: unavailable | timeout | failed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def find_soffice(configured: str) -> str | None:
    """The soffice executable: `configured` as a path or a name on PATH ("" disables PDF)."""
    if not configured:
        return None
    found = shutil.which(configured)
    if found is None and configured == "soffice":
        found = shutil.which("libreoffice")
    return found


@cache
def no_network_prefix() -> tuple[str, ...]:
    """The command that runs a program without any network here: `unshare --net` as root, with a user namespace
    otherwise; () where neither is allowed (checked once, by running it)."""
    unshare = shutil.which("unshare")
    for prefix in ((unshare, "--net"), (unshare, "--net", "--map-root-user")) if unshare else ():
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            break
    return ()


class PdfConverter:
    def __init__(
        self, soffice: str | None, *, timeout: float = 60.0, parallel: int = 2, isolate: bool = True
    ) -> None:  # fmt: skip
        self.soffice = soffice
        self.isolation = no_network_prefix() if soffice and isolate else ()
        self.timeout = timeout
        self.parallel = parallel
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def available(self) -> bool:
        return self.soffice is not None

    def _slot(self) -> asyncio.Semaphore:
        """At most `parallel` LibreOffice processes at once (each takes ~100 MB and a core)."""
        loop = asyncio.get_running_loop()
        if loop not in self._slots:
            self._slots[loop] = asyncio.Semaphore(self.parallel)
        return self._slots[loop]

    async def convert(self, docx: bytes) -> bytes:
        if self.soffice is None:
            raise PdfError("unavailable")
        async with self._slot():
            return await self._convert(self.soffice, docx)

    async def _convert(self, soffice: str, docx: bytes) -> bytes:
        folder = await asyncio.to_thread(_prepare, docx)
        try:
            process = await asyncio.create_subprocess_exec(
                *self.isolation, soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                "--invisible", "--nologo", "--norestore", "--nolockcheck", "--nodefault", "--convert-to", "pdf",
                "--outdir", str(folder), str(folder / "document.docx"),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, env={**os.environ, "HOME": str(folder)},
            )  # fmt: skip
            try:
                output, _ = await asyncio.wait_for(process.communicate(), timeout=self.timeout)
            except TimeoutError:
                _kill_group(process)
                await process.wait()
                raise PdfError("timeout", f"after {self.timeout:g} s") from None
            except asyncio.CancelledError:
                _kill_group(process)
                raise
            pdf = await asyncio.to_thread(_read_pdf, folder)
            if process.returncode != 0 or pdf is None:
                raise PdfError("failed", output.decode(errors="replace")[-300:])
            if not pdf.startswith(PDF_MAGIC):
                raise PdfError("failed", "not a PDF")
            return pdf
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)


def _prepare(docx: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="lumina-pdf-"))
    (folder / "document.docx").write_bytes(docx)
    return folder


def _read_pdf(folder: Path) -> bytes | None:
    target = folder / "document.pdf"
    return target.read_bytes() if target.exists() else None


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
