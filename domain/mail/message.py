"""A mail as the building receives it: plain text, the authorization attached, a Message-ID fixed when queued."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

ATTACHMENT_TYPES = {
    ".pdf": ("application", "pdf"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
}


def build_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    attachment: tuple[str, bytes] | None = None,
    reply_to: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies loops
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(body)
    if attachment is not None:
        name, content = attachment
        maintype, subtype = ATTACHMENT_TYPES.get(name[name.rfind("."):].lower(), ("application", "octet-stream"))
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def address_ok(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return "@" in address
