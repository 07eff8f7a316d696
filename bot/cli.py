"""The `lumina` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
import sys
import time
from datetime import date
from pathlib import Path

from bot import cli_mail, cli_ops
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from domain.calendar.model import FEED_PLATFORMS

log = logging.getLogger("lumina")

NO_TOKEN = (
    "LUMINA needs a Telegram bot token.\n"
    "1. In Telegram, talk to @BotFather, send /newbot and follow the steps.\n"
    "2. Put the token it gives you in LUMINA_BOT_TOKEN (in the environment or in a .env file).\n"
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    return int(args.handler(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lumina", description="LUMINA, the Telegram assistant for rental hosts.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot, the scheduler and the web app (upgrades the database first)")
    run.set_defaults(handler=_run)

    migrate = commands.add_parser("migrate", help="upgrade the database schema (or downgrade it)")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.add_argument("--downgrade", action="store_true", help="downgrade to --revision (use 'base' for empty)")
    migrate.set_defaults(handler=_migrate)

    sync = commands.add_parser("sync", help="check the calendar feeds now and print what changed")
    sync.add_argument(
        "--property",
        type=int,
        action="append",
        dest="property_ids",
        metavar="ID",
        help="only this property (repeatable)",
    )
    sync.set_defaults(handler=_sync)

    replay = commands.add_parser("replay", help="replay saved downloads of feeds to explain what LUMINA would say")
    replay.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="one folder per feed, files named by UTC fetch time (20251208T073012Z.ics)",
    )
    replay.add_argument("--platform", default="auto", choices=["auto", *FEED_PLATFORMS])
    replay.add_argument("--timezone", default=None, help="the property's time zone (default: LUMINA_DEFAULT_TIMEZONE)")
    replay.add_argument("--json", action="store_true", help="one JSON object per line")
    replay.set_defaults(handler=_replay)
    cli_ops.add_commands(commands)

    stats = commands.add_parser("stats", help="occupancy, ADR, RevPAR and revenue, per property and for all")
    stats.add_argument("--property", type=int, action="append", dest="property_ids", metavar="ID",
                       help="only this property (repeatable)")  # fmt: skip
    stats.add_argument("--from", dest="start", type=_iso_date, metavar="YYYY-MM-DD",
                       help="first night (default: the 1st of this month, or of --to's month)")  # fmt: skip
    stats.add_argument("--to", dest="end", type=_iso_date, metavar="YYYY-MM-DD",
                       help="last night (default: the last of --from's month)")  # fmt: skip
    stats.add_argument("--json", action="store_true", help="one JSON object per property and one for all, per line")
    stats.set_defaults(handler=_stats)
    cli_mail.add_commands(commands)
    return parser


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    url = settings.resolved_database_url
    if args.downgrade:
        migrate.downgrade(url, args.revision)
    else:
        migrate.upgrade(url, args.revision)
    heads = asyncio.run(migrate.current_heads(url))
    print(f"database at revision: {', '.join(heads) or 'base (empty)'}")
    return 0


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    started = time.perf_counter()
    from storage import migrate
    from storage.db import InstanceLockError, single_instance

    url = settings.resolved_database_url
    try:
        with single_instance(url):
            migrate.upgrade(url)
            asyncio.run(_serve(settings, {"migrate": time.perf_counter() - started}))
    except InstanceLockError as exc:
        print(f"lumina run: another LUMINA already runs on this SQLite database (lock {exc}). SQLite serves one "
              "instance; to run several, use PostgreSQL (LUMINA_DATABASE_URL).", file=sys.stderr)  # fmt: skip
        return 2
    return 0


async def _serve(settings: Settings, phases: dict[str, float]) -> None:
    last = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name], last = now - last, now

    from bot.services import build_services
    from bot.web import WebServer

    services = build_services(settings)
    phase("services")
    web = WebServer(services, settings.http_host, settings.http_port)
    await web.start()  # /health answers from here on; /ready says 503 until the bot and scheduler run
    phase("web")

    # aiogram takes seconds to import on a small machine: import it off the event loop so /health keeps answering,
    # with its models built on first use rather than all at once (bot/aiogram_import.py)
    from bot.aiogram_import import import_aiogram

    await asyncio.to_thread(import_aiogram)
    phase("import_aiogram")
    app_module = await asyncio.to_thread(importlib.import_module, "bot.app")
    phase("import_app")
    app = app_module.Application(settings, services=services, web=web)
    phase("build_app")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await app.start()
    phases.update(app.startup_phases)
    log.info(
        "started in %.2f s: %s", sum(phases.values()), ", ".join(f"{name} {secs:.2f}" for name, secs in phases.items())
    )
    try:
        await stop.wait()
    finally:
        await app.stop()


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    migrate.upgrade(settings.resolved_database_url)
    return asyncio.run(_sync_now(settings, args.property_ids))


async def _sync_now(settings: Settings, property_ids: list[int] | None) -> int:
    from bot.services import build_services

    services = build_services(settings)
    try:
        feed_ids = await services.syncer.feeds_of(property_ids)
        outcomes = await services.syncer.sync_feeds(feed_ids)
    finally:
        await services.fetcher.aclose()
        await services.engine.dispose()
    for outcome in sorted(outcomes, key=lambda o: o.feed_id):
        detail = outcome.reason or ", ".join(f"{k}={v}" for k, v in sorted(outcome.counts.items())) or "no changes"
        print(f"feed {outcome.feed_id}: {outcome.outcome} ({detail}), alerts queued: {outcome.alerts}")
    print(f"{len(outcomes)} feeds, {sum(o.outcome == 'failed' for o in outcomes)} failed")
    return 1 if any(o.outcome == "failed" for o in outcomes) else 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.replay import ReplayError, run_replay

    try:
        return asyncio.run(
            run_replay(
                args.dirs,
                platform=args.platform,
                timezone=args.timezone or settings.default_timezone,
                as_json=args.json,
                out=sys.stdout,
            )
        )
    except ReplayError as exc:
        print(f"lumina replay: {exc}", file=sys.stderr)
        return 2


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.stats_cli import StatsError, print_stats
    from storage import migrate

    migrate.upgrade(settings.resolved_database_url)
    try:
        return asyncio.run(
            print_stats(
                settings.resolved_database_url,
                property_ids=args.property_ids,
                start=args.start,
                end=args.end,
                timezone=settings.default_timezone,
                as_json=args.json,
                out=sys.stdout,
            )
        )
    except StatsError as exc:
        print(f"lumina stats: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
