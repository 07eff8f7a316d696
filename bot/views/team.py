"""The team's words and buttons: roles, members, invites."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import N_, _, ngettext
from bot.keyboards.callbacks import MenuCB, PropertyCB, TeamCB
from bot.keyboards.common import button
from bot.views.format import esc, moment
from domain.team import INVITE_HOURS, Member
from storage.models import Invite, Property, User

ROLE_NAMES = {
    "owner": N_("owner"),
    "co_owner": N_("co-owner"),
    "manager": N_("manager"),
    "cleaner": N_("cleaner"),
    "viewer": N_("viewer"),
}
ROLE_RIGHTS = {
    "manager": N_("bookings, documents, double bookings and numbers of this property"),
    "cleaner": N_("only the turnovers: dates and number of guests, no names, phones or prices"),
    "viewer": N_("sees this property's bookings, cannot change anything"),
}


def role_name(role: str) -> str:
    return _(ROLE_NAMES.get(role, role))


def person(user: User) -> str:
    return esc(user.first_name) + (f" (@{esc(user.username)})" if user.username else "")


def overview_text(co_owners: Sequence[User], invites: Sequence[Invite], *, owner: bool, tz: str) -> str:
    lines = ["👥 <b>" + _("Team") + "</b>", _("Choose a property to see who has access and to invite someone.")]
    if owner or co_owners:
        names = ", ".join(person(u) for u in co_owners) or _("none")
        lines += ["", _("Co-owners (every property): {names}").format(names=names)]
    return "\n".join(lines + _invites_lines(invites, tz))


def overview_keyboard(
    props: Sequence[Property], co_owners: Sequence[User], invites: Sequence[Invite], *, owner: bool
) -> InlineKeyboardMarkup:
    rows = [[button(f"🏠 {p.name[:40]}", TeamCB(p=p.id))] for p in props]
    if owner:
        label = "👤 {name} · " + role_name("co_owner")
        rows += [[button(label.format(name=u.first_name[:30]), TeamCB(action="member", m=u.id))] for u in co_owners]
        rows.append([button(_("➕ Invite a co-owner"), TeamCB(action="hours", role="co_owner"))])
    rows += _withdraw_rows(invites, 0)
    rows.append([button(_("☰ Menu"), MenuCB(to="menu"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def team_text(prop: Property, people: Sequence[Member], invites: Sequence[Invite], *, tz: str) -> str:
    lines = [f"👥 <b>{esc(prop.name)}</b>"]
    lines += [f"• {person(m.user)} · {role_name(m.role)}" for m in people]
    return "\n".join(lines + _invites_lines(invites, tz))


def team_keyboard(prop: Property, changeable: Sequence[Member], invites: Sequence[Invite]) -> InlineKeyboardMarkup:
    rows = [[button(_("➕ Invite someone"), TeamCB(action="invite", p=prop.id))]]
    for m in changeable:
        label = f"👤 {m.user.first_name[:30]} · {role_name(m.role)}"
        rows.append([button(label, TeamCB(action="member", p=prop.id, m=m.user.id))])
    rows += _withdraw_rows(invites, prop.id)
    rows.append([button(_("🏠 Property"), PropertyCB(id=prop.id)), button(_("👥 Team"), MenuCB(to="team"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _invites_lines(invites: Sequence[Invite], tz: str) -> list[str]:
    if not invites:
        return []
    line = _("• {role}, valid until {until}")
    return ["", _("Invitations not used yet:")] + [
        line.format(role=role_name(i.role), until=moment(i.expires_at, tz)) for i in invites
    ]


def _withdraw_rows(invites: Sequence[Invite], property_id: int) -> list[list[InlineKeyboardButton]]:
    """`property_id` 0: co-owner invitations, withdrawn from the overview."""
    label = _("✖️ Withdraw the {role} invitation")
    return [
        [button(label.format(role=role_name(i.role)), TeamCB(action="revoke", p=property_id, m=i.id))] for i in invites
    ]


def roles_text(prop: Property | None) -> str:
    where = esc(prop.name) if prop is not None else _("the whole installation")
    return _("Invite someone to {where} as:").format(where=f"<b>{where}</b>")


def roles_keyboard(prop: Property, roles: Sequence[str]) -> InlineKeyboardMarkup:
    rows = [
        [button(f"{role_name(r)}: {_(ROLE_RIGHTS[r])}"[:64], TeamCB(action="hours", p=prop.id, role=r))] for r in roles
    ]
    rows.append([button(_("⬅️ Back"), TeamCB(p=prop.id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def hours_text(role: str) -> str:
    return _("How long may the {role} invitation be used? It works once.").format(role=role_name(role))


def hours_label(hours: int) -> str:
    if hours % 24 == 0:
        return ngettext("{n} day", "{n} days", hours // 24).format(n=hours // 24)
    return ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def hours_keyboard(property_id: int, role: str) -> InlineKeyboardMarkup:
    row = [button(hours_label(h), TeamCB(action="make", p=property_id, role=role, h=h)) for h in INVITE_HOURS]
    return InlineKeyboardMarkup(inline_keyboard=[row, [button(_("⬅️ Back"), TeamCB(p=property_id))]])


def invite_text(link: str, role: str, prop: Property | None, until: datetime, tz: str) -> str:
    where = esc(prop.name) if prop is not None else _("every property")
    return _(
        "Forward this link (or the QR code) to the person you invite. It makes them {role} of {where}, works once "
        "and until {until}:\n{link}"
    ).format(role=role_name(role), where=f"<b>{where}</b>", until=moment(until, tz), link=esc(link))


def member_text(member: Member, prop: Property | None) -> str:
    where = esc(prop.name) if prop is not None else _("every property")
    return _("{person} is {role} of {where}.").format(
        person=person(member.user), role=role_name(member.role), where=f"<b>{where}</b>"
    )


def member_keyboard(member: Member, prop: Property | None, roles: Sequence[str]) -> InlineKeyboardMarkup:
    p = prop.id if prop is not None else 0
    rows = [
        [button(_("Make {role}").format(role=role_name(r)), TeamCB(action="set", p=p, m=member.user.id, role=r))]
        for r in roles
        if r != member.role
    ]
    rows.append([button(_("🗑 Remove"), TeamCB(action="remove", p=p, m=member.user.id))])
    rows.append([button(_("⬅️ Back"), TeamCB(p=p) if p else MenuCB(to="team"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def remove_question(member: Member, prop: Property | None) -> str:
    where = esc(prop.name) if prop is not None else _("every property")
    return _("Remove {person} from {where}? Their access ends at once.").format(
        person=person(member.user), where=f"<b>{where}</b>"
    )


def remove_keyboard(member: Member, prop: Property | None) -> InlineKeyboardMarkup:
    p = prop.id if prop is not None else 0
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("🗑 Yes, remove"), TeamCB(action="remove_yes", p=p, m=member.user.id)),
                button(_("✖️ Keep"), TeamCB(action="member", p=p, m=member.user.id)),
            ]
        ]
    )


INVITE_PROBLEMS = {
    "expired": N_("This invitation has expired. Ask the person who sent it for a new one."),
    "used": N_("This invitation was already used. Ask the person who sent it for a new one."),
    "revoked": N_("This invitation was withdrawn. Ask the person who sent it for a new one."),
}


def joined_text(role: str, prop: Property | None) -> str:
    where = esc(prop.name) if prop is not None else _("every property")
    return _("Welcome! You are now {role} of {where}.").format(role=role_name(role), where=f"<b>{where}</b>")
