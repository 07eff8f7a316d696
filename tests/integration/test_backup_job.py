"""The daily backup job: an archive in the folder, old ones pruned, and the owners told once per run of failures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from jobs.backups import BackupJob
from storage.backup import read_manifest
from storage.models import Outbox, User
from tests.support.clock import FakeClock


async def test_backups_are_made_pruned_and_failures_told_once(database_url: str, sessions, tmp_path: Path):
    async with sessions.begin() as session:
        session.add_all([User(telegram_id=7001, first_name="Ana", role="owner", locale="en"),
                         User(telegram_id=7002, first_name="Bia", role="viewer", locale="en")])  # fmt: skip
    clock = FakeClock(datetime(2027, 1, 1, 6, 0, tzinfo=UTC))
    woken: list[bool] = []
    folder = tmp_path / "backups"
    job = BackupJob(sessions, database_url, folder, keep_days=2, clock=clock, on_alerts=lambda: woken.append(True))

    first = await job.run()
    assert first is not None and read_manifest(first).counts["users"] == 2
    for _ in range(3):
        clock.advance(days=1)
        await job.run()
    assert sorted(p.name for p in folder.iterdir()) == [
        "lumina-20270102T060000Z.tar.gz", "lumina-20270103T060000Z.tar.gz", "lumina-20270104T060000Z.tar.gz",
    ]  # fmt: skip

    broken = BackupJob(sessions, database_url, tmp_path / "file", keep_days=2, clock=clock,
                       on_alerts=lambda: woken.append(True))  # fmt: skip
    (tmp_path / "file").write_text("a file where the folder should be")
    for _ in range(2):  # two nights of failures: one alert, to the owner only
        clock.advance(days=1)
        assert await broken.run() is None
    async with sessions() as session:
        alerts = (await session.scalars(select(Outbox))).all()
    assert [(a.kind, a.chat_id) for a in alerts] == [("backup_failed", 7001)] and woken == [True]
    assert "FileExistsError" in alerts[0].payload["error"] or "NotADirectoryError" in alerts[0].payload["error"]

    clock.advance(days=1)
    assert await job.run() is not None  # works again: the next failure is news
    clock.advance(days=1)
    await broken.run()
    async with sessions() as session:
        assert len((await session.scalars(select(Outbox))).all()) == 2


async def test_the_daily_backup_is_made_by_one_instance(database_url: str, sessions, engine, tmp_path: Path):
    import asyncio

    from storage.db import session_factory

    clock = FakeClock(datetime(2027, 1, 1, 6, 0, tzinfo=UTC))
    jobs = [BackupJob(factory, database_url, tmp_path / "backups", keep_days=30, clock=clock)
            for factory in (sessions, session_factory(engine))]  # fmt: skip
    for day in range(2):
        made = await asyncio.gather(*(job.scheduled() for job in jobs))
        assert sum(path is not None for path in made) == 1, made
        assert len(list((tmp_path / "backups").iterdir())) == day + 1
        clock.advance(hours=1)
        assert await jobs[0].scheduled() is None  # the same day again: already made
        clock.advance(days=1)
