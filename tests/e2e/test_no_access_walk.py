"""Every button and every command, pressed and typed by a manager, a viewer and a cleaner of another property and by
a stranger, naming a property they have no access to (and its calendar, stays, conflict, document, mail, invite):
each gets a refusal with none of that property's data in it, and nothing of it changes.

The buttons are not listed by hand: every CallbackData class in bot/keyboards/callbacks.py is walked, with the
values its fields take in the routers and views (read from the source), so a new button is covered without anyone
remembering to."""

from __future__ import annotations

import inspect
import re
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiogram.filters.callback_data import CallbackData
from pydantic import ValidationError
from sqlalchemy import select

from bot.commands import COMMANDS
from bot.keyboards import callbacks
from storage.models import Booking, Conflict, Document, Feed, Invite, PlatformMail, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina

BOT = Path(__file__).resolve().parents[2] / "bot"
SECRET_WORDS = ("Forbidden Flat", "Segredo", "777")  # its name, its guest, its price
MANAGER, VIEWER, CLEANER, STRANGER = 8201, 8202, 8203, 8204
FORBIDDEN = 1  # every object of the forbidden property has id 1 (it is made first, in an empty database)
# Values that pass the filters of the fields not being varied (ids aside, which are FORBIDDEN)
DEFAULTS: dict[str, Any] = {"y": 2030, "m": 2, "day": 10, "page": 0, "i": 0, "h": 48, "d": 7, "kind": "authorization",
                            "lang": "en", "fmt": "docx", "key": "authorization", "code": "en", "arg": "1",
                            "role": "viewer", "list": "upcoming", "to": "menu"}  # fmt: skip


def all_callback_classes() -> list[type[CallbackData]]:
    return [
        cls for _name, cls in inspect.getmembers(callbacks, inspect.isclass)
        if issubclass(cls, CallbackData) and cls is not CallbackData
    ]  # fmt: skip


def literals_for(cls: type[CallbackData], source: str) -> set[str]:
    """The string values the code gives this class's fields: in its constructors and in its filters."""
    found: set[str] = set()
    for match in re.finditer(rf"\b{cls.__name__}(?:\.filter)?\(", source):
        chunk = source[match.end() : match.end() + 400]
        found.update(re.findall(r"\"([A-Za-z_][\w]*)\"", chunk.split("\n\n")[0]))
    return found


def presses(source: str) -> dict[str, list[str]]:
    """Per class, the packed callback data to press: each string value on each string field, ids at FORBIDDEN."""
    result: dict[str, list[str]] = {}
    for cls in all_callback_classes():
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = cls.model_fields
        base: dict[str, Any] = {}
        text_fields = []
        for name, info in fields.items():
            hint = hints[name]
            origin = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
            if hint == callbacks.Id:
                base[name] = FORBIDDEN
            elif origin is int:
                base[name] = DEFAULTS[name]
            else:
                text_fields.append(name)
                base[name] = DEFAULTS.get(name, info.default if isinstance(info.default, str) else "")
        packed = set()
        values = sorted(literals_for(cls, source))
        variants = [base] + [{**base, field: value} for field in text_fields for value in values]
        for data in variants:
            try:
                packed.add(cls(**data).pack())
            except (ValidationError, ValueError):
                continue  # a value of another field (a period name on the action, say)
        result[cls.__prefix__] = sorted(packed)
    return result


async def seed(lumina: Lumina) -> None:
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    async with lumina.sessions.begin() as session:
        hidden = Property(name="Forbidden Flat", timezone="America/Sao_Paulo", export_token="walk-1", currency="BRL",
                          building_email="portaria@forbidden.test")  # fmt: skip
        session.add(hidden)
        await session.flush()
        own = Property(name="Own Flat", timezone="America/Sao_Paulo", export_token="walk-2")
        session.add(own)
        await session.flush()
        assert (hidden.id, own.id) == (FORBIDDEN, 2)
        feed = Feed(property_id=hidden.id, url="https://www.airbnb.com/calendar/ical/9.ics", platform="airbnb")
        session.add(feed)
        await session.flush()
        start = date(2030, 2, 10)
        common = {"property_id": hidden.id, "kind": "reservation", "check_in": start, "check_out": start + timedelta(3),
                  "first_seen_at": now, "guest_name": "Maria Segredo", "price": Decimal("777.00")}  # fmt: skip
        airbnb = Booking(feed_id=feed.id, source="airbnb", uid="w1", export_uid="w1-e", reservation_code="HMSECRET",
                         **common)  # fmt: skip
        session.add(airbnb)
        await session.flush()
        direct = Booking(source="direct", uid="w2", export_uid="w2-e", **common)
        session.add(direct)
        await session.flush()
        end = start + timedelta(3)
        session.add(Conflict(property_id=hidden.id, booking_a_id=airbnb.id, booking_b_id=direct.id,
                             klass="double_booking", dates_key="k", overlap_start=start, overlap_end=end,
                             opened_at=now))  # fmt: skip
        session.add(Document(booking_id=airbnb.id, kind="receipt", template_version="default-1",
                             file_name="recibo-segredo.docx", content=b"Maria Segredo 777", sha256="x",
                             created_at=now))  # fmt: skip
        session.add(PlatformMail(folder="INBOX", uidvalidity=1, uid=1, platform="airbnb", event="confirmed",
                                 details={"guest_name": "Maria Segredo"}, status="unmatched", property_id=hidden.id,
                                 created_at=now))  # fmt: skip
        session.add(
            Invite(code_hash="h" * 64, role="viewer", property_ids=[hidden.id], expires_at=now + timedelta(9999))
        )
    for person, role in ((MANAGER, "manager"), (VIEWER, "viewer"), (CLEANER, "cleaner")):
        await lumina.add_member(person, 2, role)


async def snapshot(lumina: Lumina) -> list[Any]:
    """Everything of the forbidden property a refused press might have changed."""
    async with lumina.sessions() as session:
        rows: list[Any] = []
        for model in (Property, Feed, Booking, Conflict, Document, PlatformMail, Invite):
            query = select(model).order_by(model.id)
            if model is Property:
                query = query.where(Property.id == FORBIDDEN)  # the others' own property may change
            for row in (await session.scalars(query)).all():
                rows.append({k: v for k, v in vars(row).items() if not k.startswith("_")})
        return rows


def leaks(lumina: Lumina, mark: int, chat: int) -> list[str]:
    said = []
    for record in lumina.api.requests[mark:]:
        if record.params.get("chat_id") not in (chat, str(chat), None):
            continue
        shown = [record.params.get(key) for key in ("text", "caption", "reply_markup")]
        text = str(shown) + "".join(f.filename + f.content.decode("latin-1") for f in record.files.values())
        said += [word for word in SECRET_WORDS if word in text]
    return said


async def test_every_button_and_command_refuses_a_property_without_access(owner: Lumina, language: str):
    source = "\n".join(path.read_text() for path in BOT.rglob("*.py"))
    walk = presses(source)
    assert set(walk) == {cls.__prefix__ for cls in all_callback_classes()}
    assert all(walk.values()), [prefix for prefix, data in walk.items() if not data]
    await seed(owner)
    before = await snapshot(owner)
    people = (MANAGER, VIEWER, CLEANER, STRANGER)
    screens = {}
    for person in people:
        await owner.say(person, "/help", language_code="en")
        screens[person] = owner.api.sent_messages(person)[-1]["message_id"]
    leaked = []
    for person in people:
        for data_list in walk.values():
            for data in data_list:
                mark = owner.api.mark()
                await owner.press(person, data, message_id=screens[person], language_code="en")
                leaked += [(person, data, word) for word in leaks(owner, mark, person)]
        for command, _description in COMMANDS:
            mark = owner.api.mark()
            await owner.say(person, f"/{command}", language_code="en")
            leaked += [(person, f"/{command}", word) for word in leaks(owner, mark, person)]
            await owner.say(person, "/cancel", language_code="en")
    assert leaked == []
    assert await snapshot(owner) == before
    # the control: the owner, who may see it, pressing the same card does see its data
    await owner.say(OWNER, "/help")
    mark = owner.api.mark()
    await owner.press(OWNER, f"b:{FORBIDDEN}:open", message_id=owner.api.sent_messages(OWNER)[-1]["message_id"])
    assert leaks(owner, mark, OWNER)
    assert sum(len(d) for d in walk.values()) > 60  # the walk really walked
