"""Talking SMTP (aiosmtplib): implicit TLS or STARTTLS chosen by the settings, certificates always verified, and
every failure classified as temporary (retry: 4xx, timeouts, refused or dropped connections) or permanent (5xx,
a certificate that does not verify), with the server's own words."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from domain.mail.config import SmtpConfig


class SmtpFailure(Exception):
    """`permanent`: sending this again will not help. `reason`: a code the chat explains (refused, rejected,
    certificate, auth, network, timeout); the message is the server's answer or the error."""

    def __init__(self, reason: str, detail: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(detail)
        self.reason, self.permanent, self.code = reason, permanent, code


@dataclass(frozen=True, slots=True)
class SmtpResult:
    response: str  # the server's answer to the message, e.g. "250 2.0.0 Ok: queued as 4F2A1"
    refused: dict[str, str] = field(default_factory=dict)  # recipients the server refused (others got it)


def _say(say: Callable[[str], None] | None, step: str, response: aiosmtplib.SMTPResponse | None = None) -> None:
    if say is not None:
        say(f"{step}: {response.code} {response.message}" if response is not None else step)


def _response(error: aiosmtplib.SMTPResponseException) -> str:
    return f"{error.code} {error.message}".strip()


def classify(error: BaseException) -> SmtpFailure:
    """An exception from aiosmtplib (or the network under it) as a SmtpFailure."""
    if isinstance(error, SmtpFailure):
        return error
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        temporary = bool(codes) and all(400 <= c < 500 for c in codes)
        return SmtpFailure("refused", text, permanent=not temporary, code=codes[0] if codes else None)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return SmtpFailure("auth", _response(error), permanent=error.code >= 500, code=error.code)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        temporary = 400 <= error.code < 500
        return SmtpFailure("busy" if temporary else "rejected", _response(error), permanent=not temporary,
                           code=error.code)  # fmt: skip
    cause = error.__cause__ or error.__context__
    for candidate in (error, cause):
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return SmtpFailure("certificate", str(candidate.verify_message or candidate), permanent=True)
        if isinstance(candidate, ssl.SSLError):
            return SmtpFailure("tls", str(candidate), permanent=True)
    if isinstance(error, TimeoutError | aiosmtplib.SMTPTimeoutError):
        return SmtpFailure("timeout", str(error) or "timed out", permanent=False)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return SmtpFailure("unsupported", str(error), permanent=True)
    if isinstance(error, OSError | aiosmtplib.SMTPException):
        return SmtpFailure("network", str(error) or type(error).__name__, permanent=False)
    return SmtpFailure("error", f"{type(error).__name__}: {error}", permanent=False)


async def send_message(
    config: SmtpConfig, message: EmailMessage, recipients: list[str], *, say: Callable[[str], None] | None = None
) -> SmtpResult:
    """Connect, secure, log in, send, quit; `say` hears each step and the server's answer. Raises SmtpFailure."""
    context = config.tls_context()
    client = aiosmtplib.SMTP(
        hostname=config.host, port=config.resolved_port, use_tls=config.security == "tls", start_tls=False,
        tls_context=context if config.security == "tls" else None, timeout=config.timeout,
    )  # fmt: skip
    try:
        _say(say, f"connect to {config.host}:{config.resolved_port} ({config.security})",
             await client.connect())  # fmt: skip
        if config.security == "starttls":
            _say(say, "STARTTLS", await client.starttls(tls_context=context))
        if config.username and config.password:
            _say(say, f"login as {config.username}", await client.login(config.username, config.password))
        refused, answer = await client.send_message(message, sender=config.sender, recipients=recipients)
        _say(say, f"message to {', '.join(recipients)}: {answer}")
        with contextlib.suppress(aiosmtplib.SMTPException):
            await client.quit()  # the message was taken; a rude goodbye changes nothing
    except BaseException as error:
        if isinstance(error, Exception):
            raise classify(error) from error
        raise
    finally:
        if client.is_connected:
            client.close()
    return SmtpResult(answer, {address: f"{r.code} {r.message}" for address, r in refused.items()})
