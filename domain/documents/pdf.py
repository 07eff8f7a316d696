"""PDF through LibreOffice (`soffice --headless --convert-to pdf`), when it is installed.

Each conversion runs in its own temporary folder with its own LibreOffice user profile
(`-env:UserInstallation=file:///tmp/...`): two conversions never share a profile, which LibreOffice does not
allow, and nothing is left behind. The child runs in its own process group, so a timeout kills soffice.bin too.
It is awaited as a subprocess: the event loop keeps serving other chats meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import weakref
from pathlib import Path

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


class PdfConverter:
    def __init__(self, soffice: str | None, *, timeout: float = 60.0, parallel: int = 2) -> None:
        self.soffice = soffice
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
                soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--invisible",
                "--nologo", "--norestore", "--nolockcheck", "--nodefault", "--convert-to", "pdf",
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
