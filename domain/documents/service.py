"""Documents with the database: snapshots of bookings, the active template, the answers to missing fields, the
hosts' templates and the record of every document made (so it can be sent again byte for byte)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.booking_fields import display_guest
from domain.bookings import add_guest, booking_for, guests_of, set_detail
from domain.documents.context import (
    INFO_KEYS,
    DocumentData,
    Need,
    Person,
    build_context,
    file_name,
    needs,
    people,
    sample_data,
)
from domain.documents.defaults import TemplateSource, default_template, fields_of
from domain.documents.render import TemplateCheck
from domain.documents.worker import TemplateWorkers
from domain.properties import update_property
from domain.time import property_today
from storage.models import Booking, Document, DocumentTemplate, Guest, Property, User

RECENT = 5  # documents offered under "send again"


def property_info(prop: Property) -> dict[str, str]:
    """The host's details and the property's secrets (Property.private_info), only the keys we know, as text."""
    stored = prop.private_info or {}
    return {key: str(stored[key]) for key in INFO_KEYS if stored.get(key) is not None}


async def document_data(session: AsyncSession, booking: Booking, prop: Property) -> DocumentData:
    rows = await guests_of(session, booking)
    return DocumentData(
        property_name=prop.name,
        property_address=prop.address or "",
        checkin_time=prop.checkin_time,
        checkout_time=prop.checkout_time,
        currency=booking.currency or prop.currency,
        check_in=booking.check_in,
        check_out=booking.check_out,
        source=booking.source,
        building_contact=prop.building_contact_name,
        info=property_info(prop),
        main_guest=display_guest(booking),
        guests=tuple(Person(g.full_name, g.document_type, g.document_number, g.id) for g in rows),
        guests_count=booking.guests_count,
        vehicle_plate=booking.vehicle_plate,
        price=booking.price,
        reservation_code=booking.reservation_code,
        guest_phone=booking.guest_phone,
        guest_email=booking.guest_email,
    )


# --- templates ------------------------------------------------------------------------------------------------


async def active_upload(session: AsyncSession, property_id: int, kind: str, locale: str) -> DocumentTemplate | None:
    query = select(DocumentTemplate).where(
        DocumentTemplate.property_id == property_id,
        DocumentTemplate.kind == kind,
        DocumentTemplate.locale == locale,
        DocumentTemplate.active.is_(True),
    )
    return await session.scalar(query.order_by(DocumentTemplate.version.desc()).limit(1))


async def active_template(
    session: AsyncSession, property_id: int, kind: str, locale: str, directory: Path
) -> TemplateSource:
    """The host's current upload for this property, kind and language, else the default."""
    upload = await active_upload(session, property_id, kind, locale)
    if upload is None:
        return default_template(directory, kind, locale)
    return TemplateSource(upload.content, upload.sha256, str(upload.version), upload.id)


@dataclass(frozen=True, slots=True)
class UploadInfo:
    kind: str
    locale: str
    version: int
    created_at: datetime


async def active_uploads(session: AsyncSession, property_id: int) -> dict[tuple[str, str], UploadInfo]:
    """(kind, locale) → the host's template in use, for the property's templates screen (no file contents)."""
    rows = await session.execute(
        select(DocumentTemplate.kind, DocumentTemplate.locale, DocumentTemplate.version, DocumentTemplate.created_at)
        .where(DocumentTemplate.property_id == property_id, DocumentTemplate.active.is_(True))
        .order_by(DocumentTemplate.version)
    )
    return {(kind, locale): UploadInfo(kind, locale, version, at) for kind, locale, version, at in rows.all()}


# Every template, the host's and ours, is read and rendered in a worker process with CPU, memory and time limits.
WORKERS = TemplateWorkers()


async def check_file(content: bytes) -> None:
    """Raises TemplateProblem unless `content` is a Word document with nothing active in it."""
    await WORKERS.check_file(content)


async def check_upload(content: bytes, kind: str, locale: str) -> TemplateCheck:
    """Raises TemplateProblem, saying why the template cannot be used."""
    sample = build_context(kind, locale, sample_data(), today=sample_data().check_in)
    return await WORKERS.check(content, kind, sample)


async def store_template(
    session: AsyncSession, prop: Property, kind: str, locale: str, content: bytes, *, user: User, now: datetime
) -> DocumentTemplate:
    """A checked upload becomes the active template (version + 1); the earlier ones are kept, inactive."""
    last = await session.scalar(
        select(func.max(DocumentTemplate.version)).where(
            DocumentTemplate.property_id == prop.id, DocumentTemplate.kind == kind, DocumentTemplate.locale == locale
        )
    )
    await _deactivate(session, prop.id, kind, locale)
    template = DocumentTemplate(
        property_id=prop.id, kind=kind, locale=locale, version=(last or 0) + 1, content=content,
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by=user.id, active=True, created_at=now,
    )  # fmt: skip
    session.add(template)
    await session.flush()
    await audit(session, user, "template.uploaded", "property", prop.id,
                {"kind": kind, "locale": locale, "version": template.version, "sha256": template.sha256},
                now=now)  # fmt: skip
    return template


async def revert_template(
    session: AsyncSession, prop: Property, kind: str, locale: str, *, user: User, now: datetime
) -> bool:
    """Back to the default template; the uploads stay in the database, inactive. False if none was in use."""
    if await active_upload(session, prop.id, kind, locale) is None:
        return False
    await _deactivate(session, prop.id, kind, locale)
    await audit(session, user, "template.reverted", "property", prop.id, {"kind": kind, "locale": locale}, now=now)
    return True


async def _deactivate(session: AsyncSession, property_id: int, kind: str, locale: str) -> None:
    await session.execute(
        update(DocumentTemplate)
        .where(DocumentTemplate.property_id == property_id, DocumentTemplate.kind == kind,
               DocumentTemplate.locale == locale, DocumentTemplate.active.is_(True))
        .values(active=False)
    )  # fmt: skip


# --- making a document ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Missing:
    need: Need
    remaining: int  # how many things are missing in all, this one included


@dataclass(frozen=True, slots=True)
class Rendered:
    kind: str
    locale: str
    template: TemplateSource
    docx: bytes
    file_name: str  # of the .docx


async def prepare(
    session: AsyncSession, booking: Booking, prop: Property, kind: str, locale: str, *, directory: Path, now: datetime
) -> Missing | Rendered:
    """The document rendered, or the first thing to ask for: a document is never made with blanks."""
    data = await document_data(session, booking, prop)
    source = await active_template(session, prop.id, kind, locale, directory)
    used = await asyncio.to_thread(fields_of, source)
    missing = needs(kind, used, data)
    if missing:
        return Missing(missing[0], len(missing))
    context = build_context(kind, locale, data, today=property_today(prop, now))
    docx = await WORKERS.render(source.content, context)
    return Rendered(kind, locale, source, docx, file_name(kind, locale, booking.check_in, prop.name, "docx"))


async def record(
    session: AsyncSession, booking: Booking, rendered: Rendered, *, content: bytes, name: str, user: User,
    now: datetime,
) -> Document:  # fmt: skip
    """Keep what was sent (`content`: the .docx or its PDF) so it can be sent again unchanged."""
    document = Document(
        booking_id=booking.id, kind=rendered.kind, template_id=rendered.template.template_id,
        template_version=rendered.template.version, file_name=name, content=content,
        sha256=hashlib.sha256(content).hexdigest(), created_by=user.id, created_at=now,
    )  # fmt: skip
    session.add(document)
    await session.flush()
    await audit(session, user, "document.created", "booking", booking.id,
                {"document_id": document.id, "kind": rendered.kind, "locale": rendered.locale,
                 "template": rendered.template.version, "sha256": document.sha256}, now=now)  # fmt: skip
    return document


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    kind: str
    file_name: str
    created_at: datetime


async def recent_documents(session: AsyncSession, booking_id: int, *, limit: int = RECENT) -> list[DocumentInfo]:
    rows = await session.execute(
        select(Document.id, Document.kind, Document.file_name, Document.created_at)
        .where(Document.booking_id == booking_id)
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
    )
    return [DocumentInfo(*row) for row in rows.all()]


async def document_for(session: AsyncSession, user: User, document_id: int) -> Document | None:
    """The stored document if this user may manage its booking's property; None for any other reason."""
    document = await session.get(Document, document_id)
    if document is None or await booking_for(session, user, document.booking_id, manage=True) is None:
        return None
    return document


# --- answers to what was missing ------------------------------------------------------------------------------


async def apply_answer(
    session: AsyncSession, booking: Booking, prop: Property, need: Need, value: Any, *, user: User, now: datetime
) -> None:
    """Store the answer to `need` where it belongs (the booking, a guest, the property); `value` from parse_answer,
    or "" for a skipped (skippable) question."""
    if need.key in ("guest_name", "guests_count", "price", "vehicle_plate"):
        await set_detail(session, booking, need.key, value, user=user, now=now)
    elif need.key == "companion":
        await add_guest(session, booking, full_name=value, document_type=None, document_number=None, user=user,
                        now=now)  # fmt: skip
    elif need.key == "guest_document":
        document_type, number = value
        await _set_document(session, booking, prop, need.guest_id, document_type, number, user=user, now=now)
    elif need.key == "address":
        await update_property(session, prop, "address", value, user=user, now=now)
    elif need.key == "info":
        await set_property_info(session, prop, need.info, value, user=user, now=now)
    else:
        raise ValueError(need.key)


async def _set_document(
    session: AsyncSession, booking: Booking, prop: Property, guest_id: int | None, document_type: str | None,
    number: str, *, user: User, now: datetime,
) -> None:  # fmt: skip
    if guest_id is None:  # the main guest has no Guest row yet: add them, with the name the booking has
        everyone = people(await document_data(session, booking, prop))
        name = everyone[0].name if everyone else display_guest(booking)
        if not name:
            raise ValueError("no main guest")
        await add_guest(session, booking, full_name=name, document_type=document_type, document_number=number,
                        user=user, now=now)  # fmt: skip
        return
    guest = await session.get(Guest, guest_id)
    if guest is None or guest.booking_id != booking.id:
        raise LookupError(guest_id)
    guest.document_type, guest.document_number = document_type, number
    await audit(session, user, "booking.guest_document", "booking", booking.id, {"guest_id": guest.id}, now=now)


async def set_property_info(
    session: AsyncSession, prop: Property, key: str, value: str, *, user: User, now: datetime
) -> None:
    """One of the host's details or the property's secrets; "" records that there is none (no Wi-Fi, say).
    The audit log records which field changed, never its value."""
    if key not in INFO_KEYS:
        raise ValueError(key)
    stored = dict(prop.private_info or {})
    changed = stored.get(key) != value
    stored[key] = value
    if key == "wifi_name" and value == "":
        stored["wifi_password"] = ""
    prop.private_info = stored  # a new dict: JSON columns do not track changes inside
    await audit(session, user, "property.private_info", "property", prop.id, {"field": key, "changed": changed},
                now=now)  # fmt: skip
