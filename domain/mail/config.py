"""How this installation reaches its mail servers, and the combinations that cannot work (refused at start-up)."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_SMTP_PORTS = {"tls": 465, "starttls": 587, "none": 25}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int | None
    security: Literal["tls", "starttls", "none"]
    username: str | None
    password: str | None
    sender: str
    ca_file: Path | None = None
    timeout: float = 30.0

    @property
    def resolved_port(self) -> int:
        return self.port or DEFAULT_SMTP_PORTS[self.security]

    def tls_context(self) -> ssl.SSLContext | None:
        return tls_context(self.ca_file) if self.security != "none" else None


@dataclass(frozen=True, slots=True)
class ImapConfig:
    host: str
    port: int | None
    security: Literal["tls", "none"]
    username: str
    password: str
    folder: str = "INBOX"
    ca_file: Path | None = None
    poll: float = 300.0
    timeout: float = 30.0  # one command's answer; a dropped connection is noticed within this

    @property
    def resolved_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    def tls_context(self) -> ssl.SSLContext | None:
        return tls_context(self.ca_file) if self.security == "tls" else None


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates and host names are always verified; a private CA is added, never a way around the check."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def check_smtp(config: SmtpConfig | None) -> str | None:
    """One line naming what is wrong with the SMTP settings, or None."""
    if config is None:
        return None
    port, security = config.resolved_port, config.security
    if security == "none" and not is_loopback(config.host):
        return (f"LUMINA_SMTP_SECURITY=none sends passwords and guests' data in clear text: it is allowed only for a "
                f"loopback host, not {config.host!r} (use tls on port 465 or starttls on 587)")  # fmt: skip
    if security == "tls" and port in (25, 587):
        return (f"LUMINA_SMTP_SECURITY=tls (implicit TLS) with LUMINA_SMTP_PORT={port}: that port speaks STARTTLS; "
                "use starttls, or port 465")  # fmt: skip
    if security == "starttls" and port == 465:
        return "LUMINA_SMTP_SECURITY=starttls with LUMINA_SMTP_PORT=465: that port speaks implicit TLS; use tls, or 587"
    if bool(config.username) != bool(config.password):
        return "LUMINA_SMTP_USERNAME and LUMINA_SMTP_PASSWORD go together: set both or neither"
    if not config.sender or "@" not in config.sender:
        return "LUMINA_SMTP_FROM must be an e-mail address (or set LUMINA_SMTP_USERNAME to one)"
    if config.ca_file is not None and not config.ca_file.is_file():
        return f"LUMINA_SMTP_CA_FILE: no such file {str(config.ca_file)!r}"
    return None


def check_imap(config: ImapConfig | None) -> str | None:
    if config is None:
        return None
    if config.security == "none" and not is_loopback(config.host):
        return f"LUMINA_IMAP_SECURITY=none is allowed only for a loopback host, not {config.host!r}"
    if not config.username or not config.password:
        return "LUMINA_IMAP_HOST needs LUMINA_IMAP_USERNAME and LUMINA_IMAP_PASSWORD"
    if config.ca_file is not None and not config.ca_file.is_file():
        return f"LUMINA_IMAP_CA_FILE: no such file {str(config.ca_file)!r}"
    return None
