"""Every CallbackData the bot uses, in one place so prefixes never collide. Telegram allows 64 bytes.

Ids in callback data are never trusted: handlers re-check them against the pressing user's access. Their range
is checked when the data is parsed: data out of range (a forged 60-digit id) matches no handler, so the press gets
the "expired" answer and never reaches the database.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from domain.stats import PERIOD_NAMES

Id = Annotated[int, Field(ge=0, le=2**63 - 1)]  # a database id: what SQLite and PostgreSQL's bigint hold
Year = Annotated[int, Field(ge=1900, le=2200)]
Month = Annotated[int, Field(ge=1, le=12)]


class MenuCB(CallbackData, prefix="m"):
    to: str  # menu | properties | bookings | today | upcoming | conflicts | settings | help


class PropertyCB(CallbackData, prefix="p"):
    id: Id
    action: str = "open"  # open | edit | field | archive | archive_yes | feeds | add_feed | calendar


class FeedCB(CallbackData, prefix="f"):
    id: Id
    action: str = "open"  # open | remove | remove_yes | echo


class BookingCB(CallbackData, prefix="b"):
    id: Id
    action: str = "open"  # open | fill | cancel | cancel_yes | edit_dates


class ConflictCB(CallbackData, prefix="c"):
    id: Id
    action: str = "open"  # open | resolve | echo | echo_feed | snooze


class PageCB(CallbackData, prefix="pg"):
    list: str  # upcoming | conflicts | properties
    page: Annotated[int, Field(ge=0, le=100_000)]


class DayCB(CallbackData, prefix="d"):
    """The inline date picker: pick a day, or move to another month (day == 0)."""

    y: Year
    m: Month
    day: Annotated[int, Field(ge=0, le=31)] = 0


class MonthCB(CallbackData, prefix="mo"):
    p: Id  # property id
    y: Year
    m: Month


class KindCB(CallbackData, prefix="k"):
    """A new direct entry for property `id`: action is reservation | block."""

    id: Id
    action: str


class DocCB(CallbackData, prefix="dc"):
    """The documents of booking `id`: action menu | kind | make | skip | stop, with the choices made so far."""

    id: Id
    action: str = "menu"
    kind: str = ""  # authorization | checkin | receipt
    lang: str = ""  # pt_BR | en: the document's language
    fmt: str = ""  # docx | pdf


class DocFileCB(CallbackData, prefix="df"):
    """A document made before (documents.id), sent again unchanged."""

    id: Id


class DocSetupCB(CallbackData, prefix="ds"):
    """Document settings of property `id` (0: pick one): open | pick | info | info_skip | tpl | get | revert |
    revert_yes. `key` is an info field or a document kind; `lang` a template's language."""

    id: Id
    action: str = "open"
    key: str = ""
    lang: str = ""


class UploadCB(CallbackData, prefix="up"):
    """Where an uploaded template goes: property `id`, then `kind`, then `lang`."""

    id: Id
    kind: str = ""
    lang: str = ""


class MailCB(CallbackData, prefix="ml"):
    """The building's e-mail. Booking `id`: send | revise | notnow | again (mail id). Property `id`: open | addr |
    mode | lang | body | body_reset; `arg` the chosen value."""

    id: Id
    action: str = "send"
    arg: str = ""


StatsPeriod = Annotated[str, Field(pattern="^(" + "|".join(PERIOD_NAMES) + ")$")]


class StatsCB(CallbackData, prefix="st"):
    """`p` is a property id (0: all the person may see), re-checked on every press. action: pick (the picker with
    `p` chosen) | show | csv | xlsx."""

    action: str
    p: Id = 0
    per: StatsPeriod = "this_month"


class ExportCB(CallbackData, prefix="exp"):
    """The id is re-checked against the pressing user's access on every press."""

    id: Id
    action: str  # show | rotate | yes | no


class SettingsCB(CallbackData, prefix="set"):
    action: str  # menu | kind | quiet | summary | zone
    value: str = ""  # kind: a preference; quiet: a preset key or "off"; summary: an hour or "off"; zone: a zone or
    # "auto"; "": the submenu


class LanguageCB(CallbackData, prefix="lang"):
    code: str


class OptCB(CallbackData, prefix="o"):
    i: Annotated[int, Field(ge=-1, le=1_000)]  # index into the current step's options; -1 = skip


class TeamCB(CallbackData, prefix="tm"):
    """The team. `p`: a property id (0: the whole installation, i.e. co-owners); `m`: a person's user id or an
    invite id. action: open | invite | role | make | member | set | remove | remove_yes | revoke."""

    action: str = "open"
    p: Id = 0
    m: Id = 0
    role: str = ""
    h: Annotated[int, Field(ge=0, le=1_000)] = 0  # the invite's validity, in hours

    @property
    def place_and_person(self) -> tuple[int, int]:
        """What the access lookup loads for the member buttons (domain.team.place_for)."""
        return self.p, self.m


class AuditCB(CallbackData, prefix="au"):
    """/audit. `p`: a property to filter by (0: all), `u`: a person (0: everyone), `page`; action: show | props |
    people | csv (the period choice) | file (`d` days as CSV)."""

    action: str = "show"
    p: Id = 0
    u: Id = 0
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    d: Annotated[int, Field(ge=0, le=3_650)] = 0


class TurnoverCB(CallbackData, prefix="to"):
    """A cleaner's turnover message `id`: done | skip (no photo)."""

    id: Id
    action: str = "done"
