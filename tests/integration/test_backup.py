"""Backups that restore (issue 16): every table's rows come back equal, SQLite ↔ PostgreSQL either way round, a backup
taken while a sync writes is consistent, a corrupt or cut archive is refused and changes nothing, and a database
that holds data is not overwritten without --force."""

from __future__ import annotations

import asyncio
import gzip
import io
import tarfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy import types as sqltypes

from storage import migrate
from storage.backup import BackupError, create_backup, prune, read_manifest, reset_sequences, restore_backup
from storage.db import create_engine, is_sqlite
from storage.models import Base, Booking, BookingChange, Feed, Property, UTCDateTime
from tests.conftest import PG_URL, _async_url, reset_postgres_schema

NOW = datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)
ROWS = 2  # per table


def _value(table: Table, column: Any, row: int) -> Any:
    """A value of the column's type, different per row (unique columns hold), with characters that travel badly."""
    for fk in column.foreign_keys:
        if fk.column.table is table:
            return 2 if row == 1 else None  # row 1 points forward to row 2: the restore must defer it
        return row
    kind = column.type
    if isinstance(kind, UTCDateTime | sqltypes.DateTime):
        return NOW + timedelta(days=row, microseconds=row)
    if isinstance(kind, sqltypes.Date):
        return date(2027, 2, 28) + timedelta(days=row)
    if isinstance(kind, sqltypes.Time):
        return time(15, row)
    if isinstance(kind, sqltypes.Numeric):
        return Decimal(f"{row}234.56")
    if isinstance(kind, sqltypes.Boolean):
        return row % 2 == 0
    if isinstance(kind, sqltypes.Integer):
        return row * 1_000_000_007 if isinstance(kind, sqltypes.BigInteger) else row
    if isinstance(kind, sqltypes.LargeBinary):
        return bytes([0, 255, row]) * 100
    if isinstance(kind, sqltypes.JSON):
        return {"row": row, "text": "ção 🏠", "list": [1, None, "x"]}
    length = getattr(kind, "length", None) or 200
    return f"{table.name[:6]}-{column.name[:8]}-{row}-ção"[:length]


async def fill(url: str) -> None:
    """ROWS rows in every table, every column set (ids 1..ROWS, so foreign keys point at real rows)."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            rows = [{column.name: _value(table, column, row) for column in table.columns} for row in range(1, ROWS + 1)]
            for row in rows:
                if "id" in row and isinstance(table.c.id.type, sqltypes.Integer):
                    row["id"] = rows.index(row) + 1
            self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
            await conn.execute(table.insert(), [{**row, **{name: None for name in self_refs}} for row in rows])
            for row in rows:
                values = {name: row[name] for name in self_refs if row[name] is not None}
                if values:
                    await conn.execute(table.update().where(table.c.id == row["id"]).values(**values))
        if not is_sqlite(url):
            await reset_sequences(conn)  # the ids were given: new rows must not collide with them
    await engine.dispose()


async def everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in await conn.execute(select(table).order_by(*table.primary_key))]
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


async def empty_sqlite(tmp_path: Path, name: str = "restored.sqlite3") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


@pytest.fixture
async def postgres() -> str:
    if PG_URL is None:
        pytest.skip("LUMINA_TEST_DATABASE_URL is not set")
    url = _async_url(PG_URL)
    await reset_postgres_schema(url)
    return url


async def test_a_backup_restores_every_row_equal(database_url: str, tmp_path: Path):
    await fill(database_url)
    before = await everything(database_url)
    assert all(len(rows) == ROWS for rows in before.values())
    manifest = await create_backup(database_url, tmp_path, now=NOW)
    archive = tmp_path / "lumina-20270304T050607Z.tar.gz"
    assert archive.exists() and manifest.counts == {name: ROWS for name in before}
    assert manifest.native == ("native/lumina.sqlite3" if is_sqlite(database_url) else "native/lumina.pgdump")
    assert read_manifest(archive).sha256 == manifest.sha256 and len(manifest.sha256) == len(before) + 1

    target = await empty_sqlite(tmp_path)
    await restore_backup(target, archive)
    assert await everything(target) == before
    assert await migrate.current_heads(target) == await migrate.current_heads(database_url)


async def test_sqlite_to_postgresql_and_back(tmp_path: Path, postgres: str):
    source = await empty_sqlite(tmp_path, "source.sqlite3")
    await asyncio.to_thread(migrate.upgrade, source)
    await fill(source)
    before = await everything(source)
    await create_backup(source, tmp_path / "a.tar.gz", now=NOW)
    await restore_backup(postgres, tmp_path / "a.tar.gz")
    assert await everything(postgres) == before
    engine = create_engine(postgres)  # the id sequences go on after the restored rows
    async with engine.begin() as conn:
        new_id = await conn.scalar(
            Property.__table__.insert().values(name="n", timezone="UTC", export_token="t-new").returning(Property.id)
        )
    await engine.dispose()
    assert new_id == ROWS + 1
    await create_backup(postgres, tmp_path / "b.tar.gz", now=NOW)
    back = await empty_sqlite(tmp_path, "back.sqlite3")
    await restore_backup(back, tmp_path / "b.tar.gz")
    after = await everything(back)
    assert {name: rows for name, rows in after.items() if name != "properties"} == {
        name: rows for name, rows in before.items() if name != "properties"
    }
    assert after["properties"][:ROWS] == before["properties"] and len(after["properties"]) == ROWS + 1


async def test_a_database_with_data_is_not_overwritten_without_force(database_url: str, tmp_path: Path):
    await fill(database_url)
    await create_backup(database_url, tmp_path / "x.tar.gz", now=NOW)
    with pytest.raises(BackupError, match="already holds data"):
        await restore_backup(database_url, tmp_path / "x.tar.gz")
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(Feed.__table__.delete().where(Feed.id == 2))
    await engine.dispose()
    await restore_backup(database_url, tmp_path / "x.tar.gz", force=True)
    assert len((await everything(database_url))["feeds"]) == ROWS


def _rewrite(archive: Path, change: Any) -> bytes:
    """The archive with one member's bytes changed by `change` (the manifest untouched)."""
    out = io.BytesIO()
    with tarfile.open(archive, "r:gz") as source, tarfile.open(fileobj=out, mode="w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "rows/bookings.jsonl":
                data = change(data)
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out.getvalue()


async def test_corrupt_or_cut_archives_are_refused_and_change_nothing(database_url: str, tmp_path: Path):
    await fill(database_url)
    good = tmp_path / "good.tar.gz"
    await create_backup(database_url, good, now=NOW)
    target = await empty_sqlite(tmp_path)
    await asyncio.to_thread(migrate.upgrade, target)
    raw = good.read_bytes()
    broken = {
        "cut": raw[: len(raw) // 2],
        "garbage": b"not a backup at all",
        "a flipped row": _rewrite(good, lambda data: data.replace(b'"id": 1', b'"id": 7', 1)),
        "a lost row": _rewrite(good, lambda data: data.split(b"\n", 1)[1]),
        "no manifest": gzip.compress(b"\0" * 1024),
    }
    for name, content in broken.items():
        path = tmp_path / f"{name}.tar.gz"
        path.write_bytes(content)
        with pytest.raises(BackupError) as caught:
            await restore_backup(target, path)
        assert "\n" not in str(caught.value), name
        engine = create_engine(target)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(Booking)) == 0, name
        await engine.dispose()


async def test_a_backup_taken_while_a_sync_writes_is_consistent(database_url: str, tmp_path: Path):
    """Writers insert a booking and its change row in one transaction, over and over, while backups are taken:
    every backup holds both rows of each pair or neither."""
    await fill(database_url)
    engine = create_engine(database_url)
    stop = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            async with engine.begin() as conn:
                booking_id = await conn.scalar(
                    Booking.__table__.insert().values(
                        property_id=1, source="direct", kind="reservation", status="active", export_uid=f"w{n}",
                        check_in=date(2027, 5, 1), check_out=date(2027, 5, 3), created_at=NOW, first_seen_at=NOW,
                        last_seen_at=NOW, missing_count=0,
                    ).returning(Booking.id)
                )  # fmt: skip
                change = {"booking_id": booking_id, "at": NOW, "change": "new", "kind": "reservation"}
                await conn.execute(BookingChange.__table__.insert().values(**change))
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    try:
        for i in range(3):
            await asyncio.sleep(0.05)
            manifest = await create_backup(database_url, tmp_path / f"live-{i}.tar.gz", now=NOW)
            target = await empty_sqlite(tmp_path, f"live-{i}.sqlite3")
            await restore_backup(target, tmp_path / f"live-{i}.tar.gz")
            restored = await everything(target)
            written = len(restored["bookings"]) - ROWS
            assert written == len(restored["booking_changes"]) - ROWS == manifest.counts["bookings"] - ROWS
    finally:
        stop.set()
        await task
        await engine.dispose()


def test_old_backups_are_pruned_and_the_newest_kept(tmp_path: Path):
    for day in ("20270101", "20270110", "20270210", "20270214"):
        (tmp_path / f"lumina-{day}T000000Z.tar.gz").write_bytes(b"x")
    (tmp_path / "notes.txt").write_bytes(b"not ours")
    removed = prune(tmp_path, keep_days=30, now=datetime(2027, 2, 15, tzinfo=UTC))
    assert sorted(p.name[7:15] for p in removed) == ["20270101", "20270110"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lumina-20270210T000000Z.tar.gz", "lumina-20270214T000000Z.tar.gz", "notes.txt",
    ]  # fmt: skip
    assert prune(tmp_path, keep_days=0, now=datetime(2030, 1, 1, tzinfo=UTC))[0].name.startswith("lumina-20270210")
    assert (tmp_path / "lumina-20270214T000000Z.tar.gz").exists()  # the newest stays, however old
