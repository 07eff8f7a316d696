"""Every CallbackData the bot uses, in one place so prefixes never collide. Telegram allows 64 bytes.

Ids in callback data are never trusted: handlers re-check them against the pressing user's access.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class MenuCB(CallbackData, prefix="m"):
    to: str  # menu | properties | bookings | today | upcoming | conflicts | settings | help


class PropertyCB(CallbackData, prefix="p"):
    id: int
    action: str = "open"  # open | edit | field | archive | archive_yes | feeds | add_feed | calendar


class FeedCB(CallbackData, prefix="f"):
    id: int
    action: str = "open"  # open | remove | remove_yes | echo


class BookingCB(CallbackData, prefix="b"):
    id: int
    action: str = "open"  # open | fill | cancel | cancel_yes | edit_dates


class ConflictCB(CallbackData, prefix="c"):
    id: int
    action: str = "open"  # open | resolve | echo | echo_feed | snooze


class PageCB(CallbackData, prefix="pg"):
    list: str  # upcoming | conflicts | properties
    page: int


class DayCB(CallbackData, prefix="d"):
    """The inline date picker: pick a day, or move to another month (day == 0)."""

    y: int
    m: int
    day: int = 0


class MonthCB(CallbackData, prefix="mo"):
    p: int  # property id
    y: int
    m: int


class KindCB(CallbackData, prefix="k"):
    """A new direct entry for property `id`: action is reservation | block."""

    id: int
    action: str


class DocCB(CallbackData, prefix="dc"):
    """The documents of booking `id`: action menu | kind | make | skip | stop, with the choices made so far."""

    id: int
    action: str = "menu"
    kind: str = ""  # authorization | checkin | receipt
    lang: str = ""  # pt_BR | en: the document's language
    fmt: str = ""  # docx | pdf


class DocFileCB(CallbackData, prefix="df"):
    """A document made before (documents.id), sent again unchanged."""

    id: int


class DocSetupCB(CallbackData, prefix="ds"):
    """Document settings of property `id` (0: pick one): open | pick | info | info_skip | tpl | get | revert |
    revert_yes. `key` is an info field or a document kind; `lang` a template's language."""

    id: int
    action: str = "open"
    key: str = ""
    lang: str = ""


class UploadCB(CallbackData, prefix="up"):
    """Where an uploaded template goes: property `id`, then `kind`, then `lang`."""

    id: int
    kind: str = ""
    lang: str = ""
