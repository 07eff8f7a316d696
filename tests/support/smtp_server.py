"""A real SMTP server on loopback (aiosmtpd) for the mail tests: plain, STARTTLS or implicit TLS with a certificate
the test makes (trustme), optional login, and scripted answers (421/451/550...) for the failure tests."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER, PASSWORD = "host@example.test", "app-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    # Scripted answers to DATA, one per attempt, e.g. ["451 4.3.0 try later"]; then "250" for the rest.
    data_answers: list[str] = field(default_factory=list)
    rcpt_answer: str | None = None  # e.g. "550 5.1.1 no such user"
    data_attempts: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        if self.data_answers:
            answer = self.data_answers.pop(0)
            if not answer.startswith("250"):
                return answer
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued"


def _authenticate(server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and \
        auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok)


@dataclass
class SmtpServer:
    host: str
    port: int
    security: str
    handler: Handler
    ca_file: Path | None

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for load_settings()."""
        values: dict[str, Any] = {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": self.security,
                                  "smtp_from": "LUMINA <lumina@example.test>"}  # fmt: skip
        if self.security != "none":
            values |= {"smtp_username": USER, "smtp_password": PASSWORD, "smtp_ca_file": self.ca_file}
        return values | extra


@contextmanager
def smtp_server(tmp_path: Path, security: str = "none", *, host: str = "127.0.0.1",
                certificate_for: str = "127.0.0.1") -> Iterator[SmtpServer]:  # fmt: skip
    """`security`: none | starttls | tls. `certificate_for`: the name the server's certificate is issued to (a
    wrong one makes the client refuse it)."""
    handler = Handler()
    port = free_port()
    ca_file: Path | None = None
    kwargs: dict[str, Any] = {}
    if security != "none":
        ca = trustme.CA()
        cert = ca.issue_cert(certificate_for)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        ca_file = tmp_path / f"ca-{port}.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        kwargs["authenticator"] = _authenticate
        if security == "starttls":
            kwargs |= {"tls_context": context, "require_starttls": True}
        else:
            kwargs |= {"ssl_context": context, "auth_require_tls": False}
    controller = Controller(handler, hostname=host, port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer(host, port, security, handler, ca_file)
    finally:
        controller.stop()
