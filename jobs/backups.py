"""The daily backup: an archive in the backup folder, the old ones pruned, and the owners told once when it fails
(again only after a backup has worked)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.alerts import AlertKind
from domain.outbox import queue_owner_alert
from jobs.clock import Clock
from storage import repositories
from storage.backup import backup_name, create_backup, prune
from storage.models import AppState

log = logging.getLogger("lumina.backup")

FAILING = "backup_failing_since"  # app_state key: set at the first failure, cleared by the next good backup


class BackupJob:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], url: str, folder: Path, *, keep_days: int, clock: Clock,
        on_alerts: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self._sessions, self._url, self._folder, self._keep_days = sessions, url, folder, keep_days
        self._clock, self._on_alerts = clock, on_alerts

    async def scheduled(self) -> Path | None:
        """The daily run: only the instance that claims today's backup makes it (several may run on one database)."""
        now = self._clock()
        async with self._sessions.begin() as session:
            claimed = await repositories.claim_occurrence(session, "backup", now.date().isoformat())
        if not claimed:
            log.info("today's backup is another instance's")
            return None
        return await self.run()

    async def run(self) -> Path | None:
        """One backup now; the archive, or None when it failed (logged, and the owners told)."""
        now = self._clock()
        try:
            await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)
            target = self._folder / backup_name(now)
            manifest = await create_backup(self._url, target, now=now)
            removed = await asyncio.to_thread(prune, self._folder, keep_days=self._keep_days, now=now)
        except Exception as exc:  # noqa: BLE001 - a full disk, a dead database: tell, never crash the scheduler
            log.exception("backup failed", extra={"folder": str(self._folder)})
            await self._failed(now, f"{type(exc).__name__}: {exc}"[:300])
            return None
        log.info("backup written", extra={"archive": str(target), "rows": sum(manifest.counts.values()),
                                          "pruned": len(removed)})  # fmt: skip
        async with self._sessions.begin() as session:
            state = await session.get(AppState, FAILING)
            if state is not None:
                await session.delete(state)
        return target

    async def _failed(self, now: datetime, error: str) -> None:
        try:
            async with self._sessions.begin() as session:
                if await session.get(AppState, FAILING) is not None:
                    return  # the owners were told when this run of failures began
                session.add(AppState(key=FAILING, value=now.isoformat(), updated_at=now))
                await queue_owner_alert(
                    session, AlertKind.BACKUP_FAILED, f"backup_failed:{now:%Y%m%dT%H%M%S}", now=now,
                    payload={"error": error, "folder": str(self._folder)},
                )  # fmt: skip
        except Exception:  # noqa: BLE001 - the database itself may be what failed
            log.exception("could not record the failed backup")
            return
        if self._on_alerts is not None:
            self._on_alerts()
