"""The operator's `lumina` commands: backups, and properties and feeds in bulk (a manager with 200 units does not add
them one by one in a chat). The same validation as the chat: time zones, currencies, feed URLs."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from domain.feeds import FeedError, add_feed, normalize_url
from domain.inputs import InputError, parse_currency, parse_text
from domain.properties import PropertyDraft, create_property
from domain.timezones import find_timezone
from storage import migrate
from storage.backup import BackupError, create_backup, restore_backup
from storage.db import create_engine, session_factory
from storage.models import Feed, Property, User

Handler = Callable[[Settings, argparse.Namespace], int]


def add_commands(commands: Any) -> None:
    """Register the operator's commands on `lumina`'s subparsers."""
    backup = commands.add_parser("backup", help="write a backup archive (safe while the bot runs)")
    backup.add_argument("path", nargs="?", type=Path, help="file or folder (default: LUMINA_BACKUP_DIR)")
    backup.set_defaults(handler=_backup)

    restore = commands.add_parser("restore", help="restore a backup archive into the configured database")
    restore.add_argument("path", type=Path)
    restore.add_argument("--force", action="store_true", help="replace a database that already holds data")
    restore.set_defaults(handler=_restore)

    prop = commands.add_parser("property", help="add or list properties").add_subparsers(dest="action", required=True)
    add = prop.add_parser("add", help="add a property")
    add.add_argument("name")
    add.add_argument("--timezone", default=None, help="IANA zone (default: LUMINA_DEFAULT_TIMEZONE)")
    add.add_argument("--currency", default="BRL")
    add.add_argument("--owner", type=int, default=None, metavar="TELEGRAM_ID", help="recorded as its creator")
    add.set_defaults(handler=_property_add)
    listing = prop.add_parser("list", help="list the properties")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_property_list)

    feed = commands.add_parser("feed", help="add or list calendar feeds").add_subparsers(dest="action", required=True)
    add_feed_ = feed.add_parser("add", help="add a platform's export link to a property")
    add_feed_.add_argument("property_id", type=int)
    add_feed_.add_argument("url")
    add_feed_.set_defaults(handler=_feed_add)
    feeds = feed.add_parser("list", help="list the feeds and their health")
    feeds.add_argument("--json", action="store_true")
    feeds.set_defaults(handler=_feed_list)

    imports = commands.add_parser("import", help="add properties and feeds from a CSV file (name, time zone, "
                                                 "currency, feed URLs separated by spaces)")  # fmt: skip
    imports.add_argument("file", type=Path)
    imports.set_defaults(handler=_import)


def _database(settings: Settings, work: Callable[[AsyncSession], Coroutine[Any, Any, int]]) -> int:
    """Migrate, then run `work` in one transaction."""
    url = settings.resolved_database_url
    migrate.upgrade(url)

    async def run() -> int:
        engine = create_engine(url)
        try:
            async with session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _now() -> datetime:
    return datetime.now(UTC)


# --- backups ------------------------------------------------------------------------------------------------------


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    target = args.path or settings.resolved_backup_dir
    if target == settings.resolved_backup_dir:
        target.mkdir(parents=True, exist_ok=True)
    try:
        manifest = asyncio.run(create_backup(settings.resolved_database_url, target, now=_now()))
    except BackupError as exc:
        print(f"lumina backup: {exc}", file=sys.stderr)
        return 1
    rows = sum(manifest.counts.values())
    print(f"backup written: {target} ({rows} rows in {len(manifest.counts)} tables, schema {manifest.revision})")
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        manifest = asyncio.run(restore_backup(settings.resolved_database_url, args.path, force=args.force))
    except BackupError as exc:
        print(f"lumina restore: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{table} {count}" for table, count in manifest.counts.items() if count)
    print(f"restored {args.path.name} (taken {manifest.created_at} from {manifest.dialect}, schema "
          f"{manifest.revision}, now upgraded to this LUMINA's): {counts or 'no rows'}")  # fmt: skip
    return 0


# --- properties and feeds -------------------------------------------------------------------------------------


async def _owner(session: AsyncSession, telegram_id: int | None) -> User | None:
    if telegram_id is None:
        return await session.scalar(select(User).where(User.role == "owner").order_by(User.id).limit(1))
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise InputError("owner")
    return user


def _draft(name: str, timezone: str, currency: str) -> PropertyDraft:
    return PropertyDraft(
        name=parse_text(name, max_length=120, field="name"), timezone=find_timezone(timezone),
        currency=parse_currency(currency),
    )  # fmt: skip


def _property_add(settings: Settings, args: argparse.Namespace) -> int:
    try:
        draft = _draft(args.name, args.timezone or settings.default_timezone, args.currency)
    except InputError as exc:
        print(f"lumina property add: invalid {exc.code}", file=sys.stderr)
        return 2

    async def work(session: AsyncSession) -> int:
        try:
            user = await _owner(session, args.owner)
        except InputError:
            print(f"lumina property add: no user with Telegram id {args.owner}", file=sys.stderr)
            return 2
        prop = await create_property(session, draft, user=user, now=_now())
        print(f"property {prop.id}: {prop.name} ({prop.timezone}, {prop.currency})")
        return 0

    return _database(settings, work)


def _property_list(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> int:
        props = (await session.scalars(select(Property).where(Property.archived_at.is_(None)).order_by(Property.id)))
        rows = [{"id": p.id, "name": p.name, "timezone": p.timezone, "currency": p.currency} for p in props]
        _print(rows, args.json, "{id}\t{name}\t{timezone}\t{currency}")
        return 0

    return _database(settings, work)


async def _add_feed(session: AsyncSession, property_id: int, url: str) -> Feed:
    prop = await session.get(Property, property_id)
    if prop is None or prop.archived_at is not None:
        raise FeedError("no_property")
    return await add_feed(session, prop, url, user=await _owner(session, None), now=_now())


def _feed_add(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> int:
        try:
            feed = await _add_feed(session, args.property_id, args.url)
        except FeedError as exc:
            print(f"lumina feed add: {exc.code}", file=sys.stderr)
            return 2
        print(f"feed {feed.id}: {feed.platform} for property {feed.property_id} (first sync within a minute of "
              "`lumina run`, or now with `lumina sync`)")  # fmt: skip
        return 0

    return _database(settings, work)


def _feed_list(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> int:
        feeds = await session.scalars(select(Feed).order_by(Feed.property_id, Feed.id))
        rows = [
            {"id": f.id, "property_id": f.property_id, "platform": f.platform, "enabled": f.enabled,
             "health": "trouble" if f.in_trouble else "failing" if f.consecutive_failures else "ok" if
             f.last_success_at else "new", "last_success_at": f.last_success_at.isoformat() if f.last_success_at
             else None, "last_error": f.last_error, "consecutive_failures": f.consecutive_failures}
            for f in feeds
        ]  # fmt: skip
        _print(rows, args.json, "{id}\t{property_id}\t{platform}\t{health}\t{last_error}")
        return 0

    return _database(settings, work)


def _print(rows: list[dict[str, Any]], as_json: bool, line: str) -> None:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        print(line.format(**row))


def _import(settings: Settings, args: argparse.Namespace) -> int:
    """name, time zone, currency, feed URLs: idempotent on the name (an existing property gets the missing feeds).
    A bad row is reported with its line number and the others are imported."""
    try:
        lines = list(csv.reader(args.file.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeError, csv.Error) as exc:
        print(f"lumina import: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2

    async def work(session: AsyncSession) -> int:
        by_name = {p.name: p for p in await session.scalars(select(Property).where(Property.archived_at.is_(None)))}
        user = await _owner(session, None)
        problems = created = feeds_added = 0
        for number, row in enumerate(lines, start=1):
            if not row or (number == 1 and row[0].strip().lower() == "name"):
                continue  # blank lines and the header
            cells = [*row, "", "", ""][:4]
            try:
                draft = _draft(cells[0], cells[1] or settings.default_timezone, cells[2] or "BRL")
                urls = [normalize_url(url) for url in cells[3].split()]
            except (InputError, FeedError) as exc:
                print(f"line {number}: invalid {exc.code}: {row}", file=sys.stderr)
                problems += 1
                continue
            prop = by_name.get(draft.name)
            if prop is None:
                prop = by_name[draft.name] = await create_property(session, draft, user=user, now=_now())
                created += 1
            known = set(await session.scalars(select(Feed.url).where(Feed.property_id == prop.id)))
            for url in dict.fromkeys(urls):  # a feed already there is skipped
                if url in known:
                    continue
                try:
                    await add_feed(session, prop, url, user=user, now=_now())
                except FeedError as exc:
                    print(f"line {number}: {exc.code}: {url}", file=sys.stderr)
                    problems += 1
                    break
                feeds_added += 1
        print(f"{created} properties and {feeds_added} feeds added, {problems} lines refused")
        return 1 if problems else 0

    return _database(settings, work)
