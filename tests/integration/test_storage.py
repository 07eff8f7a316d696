from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.db import create_engine
from storage.models import Booking, Feed, Property, User
from tests.conftest import reset_postgres_schema

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


async def _property_with_feed(sessions) -> tuple[int, int]:
    async with sessions.begin() as session:
        prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="tok-1")
        session.add(prop)
        await session.flush()
        feed = Feed(property_id=prop.id, url="https://www.airbnb.com/calendar/ical/1.ics", platform="airbnb")
        session.add(feed)
        await session.flush()
        return prop.id, feed.id


def _booking(prop_id: int, feed_id: int | None, uid: str | None, export_uid: str) -> Booking:
    return Booking(
        property_id=prop_id,
        feed_id=feed_id,
        source="airbnb",
        kind="reservation",
        uid=uid,
        export_uid=export_uid,
        check_in=date(2026, 9, 1),
        check_out=date(2026, 9, 5),
    )


async def test_one_booking_per_feed_and_uid(sessions):
    prop_id, feed_id = await _property_with_feed(sessions)
    async with sessions.begin() as session:
        session.add(_booking(prop_id, feed_id, "uid-1@airbnb.com", "e1"))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(_booking(prop_id, feed_id, "uid-1@airbnb.com", "e2"))
    async with sessions.begin() as session:  # direct bookings have no feed and no uid: any number of them
        session.add_all([_booking(prop_id, None, None, "e3"), _booking(prop_id, None, None, "e4")])
    async with sessions() as session:
        assert len((await session.scalars(select(Booking))).all()) == 3


async def test_datetimes_come_back_aware_in_utc(sessions):
    async with sessions.begin() as session:
        session.add(User(telegram_id=42, first_name="Ana", created_at=NOW))
    async with sessions() as session:
        user = await session.scalar(select(User))
        assert user is not None and user.created_at == NOW and user.created_at.tzinfo is not None


async def test_telegram_ids_beyond_32_bits(sessions):
    async with sessions.begin() as session:
        session.add(User(telegram_id=7_000_000_000, first_name="Big"))
    async with sessions() as session:
        assert (await session.scalar(select(User.telegram_id))) == 7_000_000_000


async def test_naive_datetimes_are_refused(sessions):
    with pytest.raises(Exception, match="naive"):
        async with sessions.begin() as session:
            session.add(User(telegram_id=1, first_name="x", created_at=datetime(2026, 1, 1)))


async def test_migrations_downgrade_to_base_and_upgrade_again(migrated_database, tmp_path):
    backend, url = migrated_database
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate.upgrade(url)
    heads = await migrate.current_heads(url)
    assert heads == ["0001"] or len(heads) == 1
    migrate.downgrade(url, "base")
    assert await migrate.current_heads(url) == []
    migrate.upgrade(url)
    assert await migrate.current_heads(url) == heads
    if backend == "postgresql":  # leave the shared database as the session fixture made it
        await reset_postgres_schema(url)
        migrate.upgrade(url)


async def test_sql_parameters_never_reach_the_logs(database_url, caplog):
    """At LUMINA_LOG_LEVEL=DEBUG SQLAlchemy logs every statement: the values (door codes, feed URLs with their
    tokens) stay out, also from error messages."""
    engine = create_engine(database_url, echo=True)
    try:
        with caplog.at_level(logging.DEBUG, logger="sqlalchemy.engine"):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT :secret"), {"secret": "door-code-4711"})
        assert "SELECT" in caplog.text and "door-code-4711" not in caplog.text
    finally:
        await engine.dispose()
