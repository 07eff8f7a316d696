"""A real IMAP server on loopback for the mail tests: Dovecot from the distribution's packages (installed by
.ci/run), started with a throwaway configuration, user and Maildir, optionally with TLS on a certificate the test
makes. Tests skip, saying why, only when Dovecot is not installed."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.support.smtp_server import free_port

USER, PASSWORD = "host@example.test", "imap-secret"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if Path(p).exists()), None)


@dataclass
class Dovecot:
    host: str
    port: int
    security: str
    ca_file: Path | None

    def settings(self, **extra: object) -> dict[str, object]:
        values: dict[str, object] = {
            "imap_host": self.host, "imap_port": self.port, "imap_security": self.security, "imap_username": USER,
            "imap_password": PASSWORD, "imap_ca_file": self.ca_file,
        }  # fmt: skip
        return values | extra


@contextmanager
def dovecot(tmp_path: Path, *, tls: bool = False) -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's test server needs root here (it drops to its own users)")
    root = tmp_path / "dovecot"
    for name in ("run", "state", "home"):
        (root / name).mkdir(parents=True, exist_ok=True)
    mail_user = pwd.getpwnam("dovecot")
    os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    for parent in [root, *root.parents]:  # Dovecot's users must reach the home folder
        if str(parent) in ("/", "/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o755)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    ssl_lines = "ssl = no\n"
    ca_file = None
    if tls:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_and_cert_chain_pem.write_to_path(str(root / "server.pem"))
        ca_file = root / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        ssl_lines = f"ssl = required\nssl_cert = <{root}/server.pem\nssl_key = <{root}/server.pem\n"
    config = root / "dovecot.conf"
    config.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {0 if tls else port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port if tls else 0}
  }}
}}
""")
    subprocess.run([binary, "-c", str(config)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=30)  # the daemon keeps inherited pipes open: never capture them
    pid_file = root / "run" / "master.pid"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        yield Dovecot("127.0.0.1", port, "tls" if tls else "none", ca_file)
    finally:
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 15)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)


async def append(server: Dovecot, *messages: bytes, folder: str = "INBOX") -> None:
    """Put messages in the mailbox over IMAP, as a mail server delivering them would."""
    import aioimaplib

    if server.security == "tls":
        from domain.mail.config import tls_context

        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(host=server.host, port=server.port,
                                                         ssl_context=tls_context(server.ca_file))  # fmt: skip
    else:
        client = aioimaplib.IMAP4(host=server.host, port=server.port)
    await client.wait_hello_from_server()
    await client.login(USER, PASSWORD)
    for message in messages:
        response = await client.append(message, mailbox=folder)
        assert response.result == "OK", response
    await client.logout()
