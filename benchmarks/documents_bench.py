"""Documents benchmark: the time to make one document, from the template to the recorded .docx (and PDF).

Setup: a freshly migrated SQLite database in a temporary directory, 10 properties (host details and check-in
secrets set) with 10 reservations each (two guests with documents, plate, price): 100 bookings.

Phases, each over the 100 bookings:
  render   docxtpl in the sandbox only: `render_docx(template, context)`, per kind and language
  service  what a button press costs without Telegram: a session, the access checks, `prepare` (snapshot, active
           template, fields used, what is missing, context, render in a thread), `record`, commit
  check    a host's upload: `check_template` (zip checks, static checks of every part, sample render), once per kind
  pdf      LibreOffice conversions (`--pdf N`, default 6; skipped when soffice is not installed), one at a time and
           two at a time

    .venv/bin/python benchmarks/documents_bench.py             # ~1 min here, most of it the PDF phase
    .venv/bin/python benchmarks/documents_bench.py --pdf 0     # without PDFs
    .venv/bin/python benchmarks/documents_bench.py --json /tmp/documents.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.bookings import booking_for  # noqa: E402
from domain.documents import service  # noqa: E402
from domain.documents.context import KINDS, LOCALES, build_context, sample_data  # noqa: E402
from domain.documents.defaults import default_template, templates_dir  # noqa: E402
from domain.documents.pdf import PdfConverter, find_soffice  # noqa: E402
from domain.documents.render import check_template, render_docx  # noqa: E402
from domain.properties import property_for  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.models import Booking, Guest, Property, User  # noqa: E402

NOW = datetime(2027, 8, 1, 13, 0, tzinfo=UTC)
PROPERTIES, PER_PROPERTY = 10, 10
INFO = {"host_name": "Ana Lima", "host_document": "987.654.321-00", "city": "Rio de Janeiro",
        "access_instructions": "Retire a chave na portaria.", "door_code": "4321", "wifi_name": "Apto",
        "wifi_password": "praia2027", "house_rules": "Sem festas.\nSilêncio após 22h."}  # fmt: skip


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {"n": len(ms), "median_ms": statistics.median(ms), "p95_ms": ms[int(len(ms) * 0.95) - 1],
            "mean_ms": statistics.fmean(ms), "total_s": sum(ms) / 1000}  # fmt: skip


def line(label: str, figures: dict[str, float]) -> str:
    return (f"{label:<44} median {figures['median_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
            f"mean {figures['mean_ms']:7.1f} ms  ({figures['n']} docs, {figures['total_s']:.2f} s)")  # fmt: skip


async def seed(url: str) -> tuple[int, list[int]]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        owner = User(telegram_id=1, first_name="Ana", role="owner")
        session.add(owner)
        bookings = []
        for p in range(PROPERTIES):
            prop = Property(name=f"Apto {101 + p} Copacabana", address=f"Av. Atlântica, {1700 + p} – Rio de Janeiro",
                            timezone="America/Sao_Paulo", export_token=f"{p}-x", currency="BRL",
                            building_contact_name="Portaria", private_info=INFO)  # fmt: skip
            session.add(prop)
            await session.flush()
            for b in range(PER_PROPERTY):
                check_in = date(2027, 8, 2) + timedelta(days=4 * b)
                booking = Booking(property_id=prop.id, source="airbnb", kind="reservation", uid=f"{p}-{b}",
                                  export_uid=f"{p}-{b}@lumina", check_in=check_in,
                                  check_out=check_in + timedelta(days=3), guest_name=f"Hóspede {p}-{b} da Silva",
                                  guests_count=2, vehicle_plate="ABC1D23", price=Decimal("1234.56"),
                                  currency="BRL")  # fmt: skip
                session.add(booking)
                await session.flush()
                session.add_all([
                    Guest(booking_id=booking.id, position=0, full_name=f"Hóspede {p}-{b} da Silva",
                          document_type="CPF", document_number="123.456.789-09"),
                    Guest(booking_id=booking.id, position=1, full_name="João Pereira", document_type="RG",
                          document_number="12.345.678-9"),
                ])  # fmt: skip
                bookings.append(booking.id)
        owner_id = owner.id
    await engine.dispose()
    return owner_id, bookings


def bench_render(directory: Path) -> dict[str, dict[str, dict[str, float]]]:
    results = {}
    for kind in KINDS:
        for locale in LOCALES:
            source = default_template(directory, kind, locale)
            context = build_context(kind, locale, sample_data(), today=NOW.date())
            render_docx(source.content, context)  # warm-up
            walls, cpus = [], []
            for _ in range(100):
                started, cpu = time.perf_counter(), time.process_time()
                render_docx(source.content, context)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu)
            results[f"{kind}/{locale}"] = {"wall": summary(walls), "cpu": summary(cpus)}
    return results


async def bench_service(url: str, owner_id: int, bookings: list[int], directory: Path) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    results: dict[str, Any] = {}
    for kind in KINDS:
        walls, cpus, sizes = [], [], []
        for booking_id in bookings:
            started, cpu = time.perf_counter(), time.process_time()
            async with sessions() as session:
                user = await session.get(User, owner_id)
                assert user is not None
                booking = await booking_for(session, user, booking_id, manage=True)
                assert booking is not None
                prop = await property_for(session, user, booking.property_id, manage=True)
                assert prop is not None
                outcome = await service.prepare(session, booking, prop, kind, "pt_BR", directory=directory, now=NOW)
                assert isinstance(outcome, service.Rendered), outcome
                await service.record(session, booking, outcome, content=outcome.docx, name=outcome.file_name,
                                     user=user, now=NOW)  # fmt: skip
                await session.commit()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            sizes.append(len(outcome.docx))
        results[kind] = {"wall": summary(walls), "cpu": summary(cpus), "bytes": statistics.fmean(sizes)}
    await engine.dispose()
    return results


def bench_check(directory: Path) -> dict[str, float]:
    results = {}
    for kind in KINDS:
        source = default_template(directory, kind, "pt_BR")
        sample = build_context(kind, "pt_BR", sample_data(), today=NOW.date())
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            check_template(source.content, kind, sample)
            timings.append(time.perf_counter() - started)
        results[kind] = statistics.median(timings) * 1000
    return results


async def bench_pdf(directory: Path, count: int) -> dict[str, Any]:
    soffice = find_soffice("soffice")
    if soffice is None or count <= 0:
        return {"skipped": "LibreOffice not installed" if soffice is None else "--pdf 0"}
    docs = [render_docx(default_template(directory, KINDS[i % 3], "pt_BR").content,
                        build_context(KINDS[i % 3], "pt_BR", sample_data(), today=NOW.date()))
            for i in range(count)]  # fmt: skip
    sequential = PdfConverter(soffice, timeout=120, parallel=1)
    timings = []
    for doc in docs:
        started = time.perf_counter()
        await sequential.convert(doc)
        timings.append(time.perf_counter() - started)
    parallel = PdfConverter(soffice, timeout=120, parallel=2)
    started = time.perf_counter()
    await asyncio.gather(*(parallel.convert(doc) for doc in docs))
    both = time.perf_counter() - started
    # the event loop stays free while soffice runs: the largest gap between ticks of a 10 ms timer
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last - 0.01)
            last = now

    stop = asyncio.Event()
    task = asyncio.create_task(ticker(stop))
    await sequential.convert(docs[0])
    stop.set()
    await task
    return {"one_at_a_time": summary(timings), "two_at_a_time_per_doc_ms": both / count * 1000,
            "max_loop_stall_ms": max(gaps) * 1000, "soffice": soffice}  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pdf", type=int, default=6, help="PDF conversions to time (0: none)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    directory = templates_dir()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lumina-docbench-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        migrate.upgrade(url)
        owner_id, bookings = await seed(url)
        print(f"{len(bookings)} bookings in {PROPERTIES} properties; templates from {directory}\n")

        figures["render"] = bench_render(directory)
        print("render only (docxtpl + sandbox, sample booking), 100 runs each:")
        for name, values in figures["render"].items():
            print("  " + line(f"{name} (wall)", values["wall"]))
            print("  " + line(f"{name} (CPU)", values["cpu"]))

        figures["service"] = await bench_service(url, owner_id, bookings, directory)
        print("\nservice: session + access checks + prepare + record + commit, pt_BR, one document per booking:")
        for kind, values in figures["service"].items():
            print("  " + line(f"{kind} (wall)", values["wall"]))
            print("  " + line(f"{kind} (CPU, all threads)", values["cpu"]) + f"  {values['bytes'] / 1024:.0f} KiB")

        figures["check"] = bench_check(directory)
        print("\nchecking an upload (zip, static checks, sample render), median of 10:")
        for kind, value in figures["check"].items():
            print(f"  {kind:<44} {value:7.1f} ms")

        figures["pdf"] = await bench_pdf(directory, args.pdf)
        print("\nPDF (LibreOffice, a fresh profile per conversion):")
        if "skipped" in figures["pdf"]:
            print(f"  skipped: {figures['pdf']['skipped']}")
        else:
            pdf = figures["pdf"]
            print("  " + line("one at a time", pdf["one_at_a_time"]))
            print(f"  {'two at a time (wall per document)':<44} {pdf['two_at_a_time_per_doc_ms']:7.1f} ms")
            print(f"  {'largest event-loop stall during one':<44} {pdf['max_loop_stall_ms']:7.1f} ms")
    figures["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nru_maxrss: {figures['ru_maxrss_mb']:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    asyncio.run(main())
