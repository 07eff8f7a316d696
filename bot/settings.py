"""All configuration, read once from the environment (prefix LUMINA_) and an optional .env file."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import time
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.languages import LANGUAGES

if TYPE_CHECKING:
    from domain.mail.config import ImapConfig, SmtpConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUMINA_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: SQLite file under data_dir
    telegram_api_base: str | None = None  # e.g. a local Bot API server; tests point it at a fake
    owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Reverse proxies in front of the web app (addresses or networks): only their X-Forwarded-For is believed.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(default_factory=list)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None  # how the platforms reach the web app, e.g. https://lumina.example.com
    default_locale: str = LANGUAGES[0]
    default_timezone: str = "America/Sao_Paulo"
    redis_url: str | None = None  # dialogs (FSM state) in Redis, so several instances share them
    metrics_token: SecretStr | None = None  # when set, /metrics wants "Authorization: Bearer <token>"
    webhook_url: str | None = None  # https://host/path: Telegram posts updates there instead of long polling
    webhook_secret: SecretStr | None = None  # checked in X-Telegram-Bot-Api-Secret-Token (default: from the token)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    # Calendar sync
    sync_interval: int = Field(default=600, ge=10, description="seconds between polls of each feed")
    sync_tick: float = Field(default=30.0, ge=0.5, le=600, description="seconds between looks for due feeds")
    sync_jitter: int = Field(default=60, ge=0, description="max random seconds added per feed")
    allow_private_feeds: bool = False
    feed_max_bytes: int = Field(default=5_000_000, ge=1024)
    feed_concurrency: int = Field(default=20, ge=1)
    feed_per_host: int = Field(default=4, ge=1)
    cancel_after_absences: int = Field(default=2, ge=1, description="successful downloads a stay must be missing from")
    cancel_min_gap_minutes: int = Field(default=60, ge=0, description="minimum time between first and last absence")
    feed_trouble_failures: int = Field(default=3, ge=1)
    feed_stale_hours: int = Field(default=6, ge=1)

    # Alerts: delivery to Telegram, reminders
    delivery_interval: float = Field(default=5.0, gt=0, description="seconds between outbox passes when idle")
    delivery_global_rate: float = Field(default=25.0, gt=0, description="messages per second in all")
    delivery_chat_rate: float = Field(default=1.0, gt=0, description="messages per second per chat")
    delivery_send_timeout: float = Field(default=30.0, gt=0, description="seconds before a send counts as failed")
    # A claimed alert not recorded as sent this long after its claim was held by an instance that died: another
    # instance takes it back. Default: the send timeout + 90 s (3 bounded waits for a rate-limit slot, and a send).
    delivery_lease: float | None = Field(default=None, ge=5)
    checkin_reminder_time: time = time(18, 0)  # the day before check-in, property-local
    checkout_reminder_time: time = time(8, 0)  # the day of check-out, property-local
    outbox_keep_days: int = Field(default=30, ge=1, description="finished alerts are forgotten after this")
    audit_keep_days: int = Field(default=730, ge=30, description="the audit trail is kept this long")

    # Documents
    templates_dir: Path | None = None  # default: templates/ of the installation
    soffice_path: str = "soffice"  # LibreOffice, a name on PATH or a path, for PDFs; "" turns PDF off
    pdf_timeout: float = Field(default=60.0, gt=0, description="seconds a PDF conversion may take")

    # Backups
    backup_dir: Path | None = None  # default: DATA_DIR/backups
    backup_keep_days: int = Field(default=30, ge=1, description="daily backups older than this are deleted")
    backup_hour: int = Field(default=3, ge=0, le=23, description="local hour (default time zone) of the daily backup")

    # E-mail: sending the building's authorizations (SMTP), reading the platforms' reservation mails (IMAP)
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # default: 465 for tls, 587 for starttls, 25 for none
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_security: Literal["tls", "starttls", "none"] = "starttls"
    smtp_ca_file: Path | None = None  # a private CA's certificate(s), PEM; default: the system's
    smtp_timeout: float = Field(default=30.0, gt=0, description="seconds one SMTP exchange may take")
    imap_host: str | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)  # default: 993 (TLS), 143 on loopback without TLS
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_security: Literal["tls", "none"] = "tls"  # "none" only for a loopback host
    imap_ca_file: Path | None = None
    imap_poll: float = Field(default=300.0, ge=5, description="seconds between checks when the server has no IDLE")

    @model_validator(mode="after")
    def _mail_combinations(self) -> Settings:
        from domain.mail.config import check_imap, check_smtp

        problem = check_smtp(self.smtp_config()) if self.smtp_host else None
        problem = problem or (check_imap(self.imap_config()) if self.imap_host else None)
        if problem:
            raise ValueError(problem)
        return self

    def smtp_config(self) -> SmtpConfig | None:
        from domain.mail.config import SmtpConfig

        if not self.smtp_host:
            return None
        return SmtpConfig(
            host=self.smtp_host, port=self.smtp_port, security=self.smtp_security, username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            sender=self.smtp_from or self.smtp_username or "", ca_file=self.smtp_ca_file, timeout=self.smtp_timeout,
        )  # fmt: skip

    def imap_config(self) -> ImapConfig | None:
        from domain.mail.config import ImapConfig

        if not self.imap_host:
            return None
        return ImapConfig(
            host=self.imap_host, port=self.imap_port, security=self.imap_security, username=self.imap_username or "",
            password=self.imap_password.get_secret_value() if self.imap_password else "", folder=self.imap_folder,
            ca_file=self.imap_ca_file, poll=self.imap_poll,
        )  # fmt: skip

    @field_validator("owner_ids", "trusted_proxies", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(";", ",").replace(" ", ",").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("default_locale")
    @classmethod
    def _spoken(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"LUMINA speaks {', '.join(LANGUAGES)}, not {value!r}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        return value

    @property
    def resolved_public_url(self) -> str:
        """Base of the links given out (export feeds): LUMINA_PUBLIC_URL, else the web app's own address."""
        host = f"[{self.http_host}]" if ":" in self.http_host else self.http_host  # an IPv6 literal
        return self.public_url or f"http://{host}:{self.http_port}"

    @property
    def resolved_webhook_secret(self) -> str:
        """What Telegram must send in X-Telegram-Bot-Api-Secret-Token: the setting, or one derived from the token."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        token = self.bot_token.get_secret_value() if self.bot_token else ""
        return hashlib.sha256(f"lumina-webhook:{token}".encode()).hexdigest()

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def public_url_reachable(self) -> bool:
        """Whether Airbnb, Booking.com and VRBO can reach the export links: LUMINA_PUBLIC_URL is set to an address
        outside this machine and its private network (loopback, private ranges, localhost and .local are not)."""
        if not self.public_url:
            return False
        host = (urlsplit(self.public_url).hostname or "").lower()
        local_name = host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan"))
        if local_name or ("." not in host and ":" not in host):  # a machine's own or local network name
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return True  # a name: trusted to be public
        return address.is_global

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lumina.sqlite3').resolve()}"


class SettingsError(Exception):
    """One line naming the bad setting, for people, instead of a pydantic traceback."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a combination of settings (the message names them)
            raise SettingsError(f"Invalid settings: {first['msg'].removeprefix('Value error, ')}") from None
        name = "LUMINA_" + "_".join(str(p) for p in first["loc"][:1]).upper()
        raise SettingsError(f"Invalid setting {name}: {first['msg']}") from None
