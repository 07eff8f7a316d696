"""Databases for the tests: SQLite always, PostgreSQL too when LUMINA_TEST_DATABASE_URL is set.

Each backend is migrated once per session with the real Alembic migrations; each test then gets a clean database
(a copy of the migrated SQLite file, or emptied PostgreSQL tables).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.aiogram_import import import_aiogram
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Base

import_aiogram()  # as `lumina run` does: aiogram's models built on first use (bot/aiogram_import.py)

PG_URL = os.environ.get("LUMINA_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

os.environ.setdefault("LUMINA_ALLOW_PRIVATE_FEEDS", "true")


def _async_url(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1] if url.startswith(("postgres://", "postgresql://")) else url


async def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(backend, url) of a database at the newest migration."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        assert PG_URL is not None
        url = _async_url(PG_URL)
        asyncio.run(reset_postgres_schema(url))
    migrate.upgrade(url)
    return request.param, url


@pytest.fixture
async def database_url(migrated_database: tuple[str, str], tmp_path: Path) -> AsyncIterator[str]:
    backend, url = migrated_database
    if backend == "sqlite":
        template = Path(url.split(":///", 1)[1])
        copy = tmp_path / "lumina.sqlite3"
        shutil.copyfile(template, copy)
        yield f"sqlite+aiosqlite:///{copy}"
        return
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run PostgreSQL tests after SQLite ones so the session-scoped databases are set up once each."""
    items.sort(key=lambda item: "postgresql" in item.nodeid)


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """A test that runs the CLI in-process gets its logging set up on the stream pytest captures for that test; put
    the root logger back, or later log lines (aiosmtpd's threads) go to a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
