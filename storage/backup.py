"""Backups that restore: one gzip-compressed tar holding a manifest, every table's rows in a portable form, and the
database's own copy.

    manifest.json            format, LUMINA version, schema revision, dialect, time, rows per table, SHA-256 per member
    rows/<table>.jsonl       every row, one JSON object per line, all tables read in one consistent snapshot
    native/lumina.sqlite3    SQLite: a copy made with SQLite's online backup API (never a file copy of a live database)
    native/lumina.pgdump     PostgreSQL: `pg_dump --format=custom`, when pg_dump is installed

The hosts' own templates and every document sent are rows (document_templates, documents), so they are in the
backup too. Restore reads only the manifest and the rows, so a SQLite backup restores into PostgreSQL and back; the
native copy is for operators' own tools (sqlite3, pg_restore). Restore checks every member's SHA-256 and row count
before it touches the database: a corrupt or cut archive changes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import TypeDecorator

from storage import migrate
from storage.db import create_engine, is_sqlite
from storage.models import Base

FORMAT = 1
MANIFEST = "manifest.json"
SUFFIX = ".tar.gz"
_CHUNK = 1000  # rows per INSERT on restore


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


@dataclass
class Manifest:
    format: int
    lumina_version: str
    revision: str
    dialect: str
    created_at: str
    counts: dict[str, int]
    sha256: dict[str, str] = field(default_factory=dict)
    native: str | None = None  # the member with the database's own copy, if any


def _lumina_version() -> str:
    try:
        return version("lumina")
    except PackageNotFoundError:
        return "unknown"


def backup_name(now: datetime) -> str:
    return f"lumina-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


# --- making one -------------------------------------------------------------------------------------------------


async def create_backup(url: str, target: Path, *, now: datetime) -> Manifest:
    """Write a backup of the database at `url` to `target` (a file, or a folder to put it in). Safe while the bot
    runs and writes: the rows come from one snapshot."""
    if await asyncio.to_thread(target.is_dir):
        target = target / backup_name(now)
    revisions = await migrate.current_heads(url)
    if len(revisions) != 1:
        raise BackupError("the database has no schema yet (run `lumina migrate`)")
    with tempfile.TemporaryDirectory(prefix="lumina-backup-") as tmp:
        work = Path(tmp)
        members: dict[str, Path] = {}
        if is_sqlite(url):
            copy = work / "lumina.sqlite3"
            await asyncio.to_thread(_sqlite_copy, _sqlite_path(url), copy)
            members["native/lumina.sqlite3"] = copy
            counts = await _dump_rows(create_engine(f"sqlite+aiosqlite:///{copy}"), work, members)
        else:
            dump = work / "lumina.pgdump"
            if await asyncio.to_thread(_pg_dump, url, dump):
                members["native/lumina.pgdump"] = dump
            counts = await _dump_rows(create_engine(url), work, members, snapshot=True)
        manifest = Manifest(
            format=FORMAT, lumina_version=_lumina_version(), revision=revisions[0],
            dialect=make_url(url).get_backend_name(), created_at=now.astimezone(UTC).isoformat(), counts=counts,
            native=next((name for name in members if name.startswith("native/")), None),
        )  # fmt: skip
        await asyncio.to_thread(_write_archive, target, manifest, members)
    return manifest


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while other connections read and write."""
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _pg_dump(url: str, target: Path) -> bool:
    """`pg_dump --format=custom` of the database; False when pg_dump is not installed."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return False
    parts = make_url(url)
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    command = [pg_dump, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={parts.database}"]
    command += [f"--host={parts.host or '127.0.0.1'}", f"--port={parts.port or 5432}"]
    command += [f"--username={parts.username}"] if parts.username else []
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:300]}")
    return True


async def _dump_rows(
    engine: AsyncEngine, work: Path, members: dict[str, Path], *, snapshot: bool = False
) -> dict[str, int]:
    counts: dict[str, int] = {}
    try:
        async with engine.connect() as conn:
            if snapshot:  # PostgreSQL: every table read in one snapshot, as of the first query
                await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            for table in Base.metadata.sorted_tables:
                path = work / f"{table.name}.jsonl"
                counts[table.name] = await _dump_table(conn, table, path)
                members[f"rows/{table.name}.jsonl"] = path
    finally:
        await engine.dispose()
    return counts


async def _dump_table(conn: AsyncConnection, table: Table, path: Path) -> int:
    count = 0
    order = [column for column in table.primary_key.columns]
    result = await conn.stream(select(table).order_by(*order))
    with path.open("w", encoding="utf-8") as out:
        async for row in result:
            out.write(json.dumps({key: _encode(value) for key, value in row._mapping.items()}, ensure_ascii=False))
            out.write("\n")
            count += 1
    return count


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _write_archive(target: Path, manifest: Manifest, members: dict[str, Path]) -> None:
    for name, path in members.items():
        manifest.sha256[name] = _sha256(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        data = json.dumps(asdict(manifest), indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        for name, path in members.items():
            archive.add(path, arcname=name)
    partial.replace(target)  # a crash mid-write leaves a .partial, never a backup that looks whole


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prune(folder: Path, *, keep_days: int, now: datetime) -> list[Path]:
    """Delete backups in `folder` older than `keep_days` (by the time in their name); the newest is always kept."""
    found = sorted(folder.glob(f"lumina-*{SUFFIX}"))
    cutoff = now.astimezone(UTC) - timedelta(days=keep_days)
    removed = []
    for path in found[:-1]:
        try:
            made = datetime.strptime(path.name, f"lumina-%Y%m%dT%H%M%SZ{SUFFIX}").replace(tzinfo=UTC)
        except ValueError:
            continue  # not one of ours
        if made < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def latest(folder: Path) -> Path | None:
    found = sorted(folder.glob(f"lumina-*{SUFFIX}")) if folder.is_dir() else []
    return found[-1] if found else None


# --- restoring one ----------------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> Manifest:
    """The archive's manifest, after checking every member against it; BackupError if anything is off."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            manifest = _manifest(tar)
            for name, expected in manifest.sha256.items():
                digest = hashlib.sha256()
                lines = 0
                for block in _member_blocks(tar, name):
                    digest.update(block)
                    lines += block.count(b"\n")
                if digest.hexdigest() != expected:
                    raise BackupError(f"{archive.name}: {name} is damaged (SHA-256 differs)")
                table = name.removeprefix("rows/").removesuffix(".jsonl")
                if name.startswith("rows/") and lines != manifest.counts.get(table):
                    raise BackupError(f"{archive.name}: {name} has {lines} rows, not {manifest.counts.get(table)}")
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError, KeyError) as exc:
        raise BackupError(f"{archive.name} is not a readable LUMINA backup ({type(exc).__name__})") from None
    return manifest


def _manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        raw = json.loads(b"".join(_member_blocks(tar, MANIFEST)))
        manifest = Manifest(**raw)
    except (KeyError, TypeError, json.JSONDecodeError):
        raise BackupError("no valid manifest: not a LUMINA backup") from None
    if manifest.format != FORMAT:
        raise BackupError(f"backup format {manifest.format} is not known to this LUMINA (it reads {FORMAT})")
    missing = [f"rows/{table}.jsonl" for table in manifest.counts if f"rows/{table}.jsonl" not in manifest.sha256]
    if missing:
        raise BackupError(f"the manifest lists no checksum for {missing[0]}")
    return manifest


def _member_blocks(tar: tarfile.TarFile, name: str) -> Iterator[bytes]:
    source = tar.extractfile(name)
    if source is None:
        raise KeyError(name)
    with source:
        yield from iter(lambda: source.read(1 << 20), b"")


async def restore_backup(url: str, archive: Path, *, force: bool = False) -> Manifest:
    """Restore `archive` into the database at `url` (SQLite or PostgreSQL, whichever the backup came from), then
    upgrade it to this LUMINA's schema. Refuses a database that holds data unless `force`."""
    manifest = await asyncio.to_thread(read_manifest, archive)
    unknown = sorted(set(manifest.counts) - set(Base.metadata.tables))
    if unknown:
        raise BackupError(f"the backup has tables this LUMINA does not know ({', '.join(unknown)}): is it newer?")
    if not force and await _holds_data(url):
        raise BackupError("the database already holds data: restore into an empty one, or add --force to replace it")
    await asyncio.to_thread(_reset_schema, url, manifest.revision)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                if manifest.counts.get(table.name):
                    await _load_table(conn, table, archive)
            if not is_sqlite(url):
                await reset_sequences(conn)
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, url)
    return manifest


async def _holds_data(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            existing = await conn.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
            for table in Base.metadata.sorted_tables:
                if table.name in existing and await conn.scalar(select(func.count()).select_from(table)):
                    return True
    finally:
        await engine.dispose()
    return False


def _reset_schema(url: str, revision: str) -> None:
    """An empty schema at the backup's revision: everything dropped (through the migrations), then built again."""
    migrate.downgrade(url, "base")
    migrate.upgrade(url, revision)


async def _load_table(conn: AsyncConnection, table: Table, archive: Path) -> None:
    # A column that refers to its own table (bookings.echo_of_id) is written after every row of the table exists.
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    for row in await asyncio.to_thread(_read_rows, archive, table):
        if self_refs and any(row.get(name) is not None for name in self_refs):
            later.append({"row_id": row["id"], **{name: row[name] for name in self_refs}})
            row = {**row, **{name: None for name in self_refs}}
        batch.append(row)
        if len(batch) >= _CHUNK:
            await conn.execute(table.insert(), batch)
            batch = []
    if batch:
        await conn.execute(table.insert(), batch)
    for values in later:
        row_id = values.pop("row_id")
        await conn.execute(update(table).where(table.c.id == row_id).values(**values))


def _read_rows(archive: Path, table: Table) -> list[dict[str, Any]]:
    decoders = {column.name: _decoder(column.type) for column in table.columns}
    rows = []
    with tarfile.open(archive, "r:gz") as tar:
        for line in b"".join(_member_blocks(tar, f"rows/{table.name}.jsonl")).splitlines():
            raw = json.loads(line)
            unknown = set(raw) - set(decoders)
            if unknown:
                raise BackupError(f"{table.name} has columns this LUMINA does not know ({', '.join(sorted(unknown))})")
            rows.append({name: (None if value is None else decoders[name](value)) for name, value in raw.items()})
    return rows


def _decoder(column_type: Any) -> Any:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return lambda value: value
    if python_type is datetime:
        return datetime.fromisoformat
    if python_type is date:
        return date.fromisoformat
    if python_type is time:
        return time.fromisoformat
    if python_type is Decimal:
        return Decimal
    if python_type is bytes:
        return base64.b64decode
    return lambda value: value


async def reset_sequences(conn: AsyncConnection) -> None:
    """PostgreSQL: the id sequences continue after the restored rows."""
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement in (True, "auto") and table.c.id.primary_key:
            await conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                     f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)")  # fmt: skip
            )
