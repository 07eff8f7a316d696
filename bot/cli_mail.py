"""`lumina mail check` and `lumina mail read --dry-run`: the operator's way to see the mail settings work, step by
step, with the servers' own answers."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from bot.settings import Settings
from domain.mail.building import new_message_id
from domain.mail.message import build_message
from jobs.smtp import SmtpFailure, send_message


def add_commands(commands: Any) -> None:
    mail = commands.add_parser("mail", help="check the e-mail settings; read the platforms' mails")
    actions = mail.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="send one test message and, when IMAP is set, count the platform mails")
    check.add_argument("--to", default=None, help="where the test message goes (default: LUMINA_SMTP_FROM)")
    check.set_defaults(handler=_check)
    read = actions.add_parser("read", help="read the platforms' reservation mails (IMAP)")
    read.add_argument("--dry-run", action="store_true", help="print what each mail would fill in; write nothing")
    read.set_defaults(handler=_read)


def _say(line: str) -> None:
    print(f"  {line}", flush=True)


def _check(settings: Settings, args: argparse.Namespace) -> int:
    smtp, imap = settings.smtp_config(), settings.imap_config()
    if smtp is None and imap is None:
        print("Neither LUMINA_SMTP_HOST nor LUMINA_IMAP_HOST is set: nothing to check.")
        return 2
    failed = False
    if smtp is not None:
        to = args.to or smtp.sender.rpartition("<")[2].rstrip(">")
        print(f"SMTP: {smtp.host}:{smtp.resolved_port} ({smtp.security})")
        now = datetime.now(UTC)
        message = build_message(
            sender=smtp.sender, recipients=[to], subject="LUMINA: test message",
            body="This is a test message from LUMINA (lumina mail check). Nothing to do.\n",
            message_id=new_message_id(smtp.sender), date=now,
        )  # fmt: skip
        try:
            asyncio.run(send_message(smtp, message, [to], say=_say))
            print(f"SMTP OK: a test message went to {to}")
        except SmtpFailure as failure:
            print(f"SMTP FAILED ({failure.reason}): {failure}")
            failed = True
    if imap is not None:
        from jobs.imap import check_imap

        print(f"IMAP: {imap.host}:{imap.resolved_port} ({imap.security}), folder {imap.folder}")
        try:
            count = asyncio.run(check_imap(imap, say=_say))
            print(f"IMAP OK: {count} platform mail(s) LUMINA can read")
        except Exception as error:  # noqa: BLE001 - the operator reads the reason
            print(f"IMAP FAILED: {error}")
            failed = True
    return 1 if failed else 0


def _read(settings: Settings, args: argparse.Namespace) -> int:
    imap = settings.imap_config()
    if imap is None:
        print("LUMINA_IMAP_HOST is not set.")
        return 2
    from jobs.imap import read_dry_run

    try:
        return asyncio.run(read_dry_run(settings.resolved_database_url, imap, dry_run=args.dry_run, out=print))
    except Exception as error:  # noqa: BLE001
        print(f"IMAP FAILED: {error}")
        return 1
