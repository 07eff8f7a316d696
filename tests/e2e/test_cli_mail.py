"""`lumina mail check` and `lumina mail read --dry-run` as an operator runs them (real processes) against a real
SMTP server (aiosmtpd, STARTTLS with a test-made certificate) and a real IMAP server (Dovecot) on loopback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Booking, PlatformMail, Property
from tests.e2e.test_cli import ROOT, env
from tests.support.dovecot import append, dovecot
from tests.support.platform_mails import airbnb_mail, booking_mail
from tests.support.smtp_server import smtp_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def lumina(tmp_path: Path, *args: str, **settings: object) -> subprocess.CompletedProcess[str]:
    extra = {f"LUMINA_{k.upper()}": str(v) for k, v in settings.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env(tmp_path, **extra),
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_mail_check_sends_a_test_message_step_by_step(tmp_path: Path):
    with smtp_server(tmp_path, "starttls") as server:
        done = lumina(tmp_path, "mail", "check", "--to", "me@example.test", **server.settings())
        assert done.returncode == 0, done.stdout + done.stderr
        assert "STARTTLS: 220" in done.stdout and "login as host@example.test: 235" in done.stdout
        assert "SMTP OK: a test message went to me@example.test" in done.stdout
        (received,) = server.handler.received
        assert received.recipients == ["me@example.test"] and received.message["Subject"] == "LUMINA: test message"
        default = lumina(tmp_path, "mail", "check", **server.settings())
        assert default.returncode == 0 and server.handler.received[-1].recipients == ["lumina@example.test"]


def test_mail_check_fails_with_the_servers_answer(tmp_path: Path):
    with smtp_server(tmp_path, "starttls") as server:
        server.handler.rcpt_answer = "550 5.7.1 Relaying denied"
        done = lumina(tmp_path, "mail", "check", "--to", "me@example.test", **server.settings())
    assert done.returncode == 1 and "SMTP FAILED (refused)" in done.stdout
    assert "550 5.7.1 Relaying denied" in done.stdout
    with smtp_server(tmp_path, "tls", certificate_for="mail.other.test") as server:
        done = lumina(tmp_path, "mail", "check", **server.settings())
    assert done.returncode == 1 and "SMTP FAILED (certificate)" in done.stdout
    wrong = lumina(tmp_path, "mail", "check", smtp_host="smtp.example.com", smtp_security="none", smtp_from="a@b.test")
    assert wrong.returncode == 2 and "LUMINA_SMTP_SECURITY=none" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_mail_check_counts_and_read_dry_run_writes_nothing(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'lumina.sqlite3'}"
    migrate.upgrade(url)

    async def seed() -> None:
        engine = create_engine(url)
        async with session_factory(engine).begin() as session:
            prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x", currency="BRL")
            session.add(prop)
            await session.flush()
            session.add(Booking(property_id=prop.id, source="airbnb", kind="reservation", uid="a", export_uid="a@l",
                                check_in=date(2027, 8, 12), check_out=date(2027, 8, 15),
                                reservation_code="HMQX7Z2K4B"))  # fmt: skip
        await engine.dispose()

    asyncio.run(seed())
    with dovecot(tmp_path) as imap:
        asyncio.run(append(imap, airbnb_mail("confirmed", "en"), booking_mail("cancelled", "it"),
                           airbnb_mail(sender="x@evil.test", code="HMEVIL0001")))  # fmt: skip
        settings = {k: v for k, v in imap.settings().items() if v is not None}
        checked = lumina(tmp_path, "mail", "check", **settings)
        assert checked.returncode == 0, checked.stdout
        assert "IMAP OK: 2 platform mail(s) LUMINA can read" in checked.stdout
        dry = lumina(tmp_path, "mail", "read", "--dry-run", **settings)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert "airbnb confirmed HMQX7Z2K4B → booking 1 (filled)" in dry.stdout
        assert "would fill guest_name, guests_count, price" in dry.stdout
        assert "booking cancelled 4127093385 → no stay (unmatched)" in dry.stdout
        assert "UID 3: ignored (unknown_sender)" in dry.stdout and "(dry run: nothing written)" in dry.stdout

    async def written() -> tuple[int, str | None]:
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            mails = len((await session.scalars(select(PlatformMail))).all())
            name = await session.scalar(select(Booking.guest_name))
        await engine.dispose()
        return mails, name

    assert asyncio.run(written()) == (0, None)
