"""The team: who may invite whom, single-use invites, joining, changing a role and removing someone.

The rights of each role (what they see and may do) are enforced where the data is read: `domain.properties.visible`
(VIEW_ROLES see a property's stays, MANAGE_ROLES change them), the alerts' recipients (ALERT_ROLES), the turnovers
(cleaners). Here: the team itself. Owners and co-owners manage everyone on every property (only the owner makes or
removes co-owners); a manager invites, changes and removes the cleaners and viewers of the properties they manage.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import code_digest, find_user
from domain.alerts import AlertKind, add_outbox_rows, outbox_row
from domain.audit import audit
from domain.properties import property_for
from storage.models import INSTALLATION_ROLES, Invite, Outbox, Property, PropertyAccess, User, whole_installation

CO_OWNER = "co_owner"
INVITE_HOURS = (1, 48, 168)  # the validities offered; 48 is the default
DEFAULT_INVITE_HOURS = 48
Problem = Literal["unknown", "expired", "used", "revoked"]


def invitable_roles(user: User, prop: Property | None) -> tuple[str, ...]:
    """The roles `user` may invite to `prop` (None: to the whole installation), given they may manage it."""
    if prop is None:
        return (CO_OWNER,) if user.role == "owner" else ()
    if whole_installation(user):
        return ("manager", "cleaner", "viewer")
    return ("cleaner", "viewer")  # a manager, on a property they manage


def may_change(actor: User, member: User, member_role: str) -> bool:
    """Whether `actor` may change or remove `member` (who holds `member_role`) on a property `actor` manages."""
    if actor.id == member.id or member.role == "owner":
        return False
    if member.role == CO_OWNER:
        return actor.role == "owner"
    return whole_installation(actor) or member_role in ("cleaner", "viewer")


# --- invites ------------------------------------------------------------------------------------------------


async def create_invite(
    session: AsyncSession, inviter: User, role: str, prop: Property | None, *, now: datetime, hours: int
) -> tuple[Invite, str]:
    """A new invite and its code (shown once; only its hash is kept). Raises PermissionError."""
    if role not in invitable_roles(inviter, prop) or hours not in INVITE_HOURS:
        raise PermissionError(role)
    if prop is not None and await property_for(session, inviter, prop.id, manage=True) is None:
        raise PermissionError(prop.id)
    code = secrets.token_urlsafe(18)  # 24 chars of [A-Za-z0-9_-]: a valid t.me ?start= payload
    invite = Invite(
        code_hash=code_digest(code),
        role=role,
        property_ids=[prop.id] if prop is not None else [],
        created_by=inviter.id,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(invite)
    await session.flush()
    after = {"role": role, "expires_at": invite.expires_at.isoformat()}
    await audit(
        session,
        inviter,
        "member.invited",
        "invite",
        invite.id,
        {"after": after},
        now=now,
        property_id=prop.id if prop else None,
    )
    return invite, code


async def pending_invites(
    session: AsyncSession, user: User, prop: Property | None, *, now: datetime
) -> Sequence[Invite]:
    """Invites to `prop` (None: co-owner invites) that can still be used."""
    query = select(Invite).where(Invite.used_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now)
    query = query.order_by(Invite.id)
    invites = (await session.scalars(query)).all()
    wanted = [prop.id] if prop is not None else []
    return [i for i in invites if list(i.property_ids) == wanted and i.role in invitable_roles(user, prop)]


async def revoke_invite(
    session: AsyncSession, user: User, invite_id: int, property_id: int, *, now: datetime
) -> Invite | None:
    """Withdraw an unused invite to `property_id` (0: a co-owner invite), if `user` may make such invites."""
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.used_at is not None or invite.revoked_at is not None:
        return None
    if list(invite.property_ids) != ([property_id] if property_id else []):
        return None
    prop = await _invite_property(session, user, invite)
    if prop is False or invite.role not in invitable_roles(user, prop):
        return None
    invite.revoked_at = now
    await audit(
        session,
        user,
        "member.invite_revoked",
        "invite",
        invite.id,
        {"before": {"role": invite.role}},
        now=now,
        property_id=prop.id if prop else None,
    )
    return invite


async def _invite_property(session: AsyncSession, user: User, invite: Invite) -> Property | None | Literal[False]:
    """The property an invite is for, if `user` manages it; None for a co-owner invite; False otherwise."""
    if not invite.property_ids:
        return None
    prop = await property_for(session, user, int(invite.property_ids[0]), manage=True)
    return prop if prop is not None else False


@dataclass(frozen=True, slots=True)
class Joined:
    user: User
    role: str
    prop: Property | None  # None: co-owner of the whole installation
    invited_by: int | None


async def redeem(
    session: AsyncSession,
    code: str,
    *,
    telegram_id: int,
    first_name: str,
    username: str | None,
    locale: str,
    now: datetime,
) -> Joined | Problem:
    """Use an invite: the person gets its role. An unknown, expired, used or withdrawn code changes nothing."""
    invite = await session.scalar(select(Invite).where(Invite.code_hash == code_digest(code)))
    if invite is None:
        return "unknown"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.used_at is not None:
        return "used"
    if invite.expires_at <= now:
        return "expired"
    prop = await session.get(Property, int(invite.property_ids[0])) if invite.property_ids else None
    if invite.property_ids and (prop is None or prop.archived_at is not None):
        return "expired"  # the property is gone: the invite with it
    user = await find_user(session, telegram_id)
    if user is None:
        user = User(telegram_id=telegram_id, first_name=first_name[:128], username=username, locale=locale)
        session.add(user)
        await session.flush()
    if prop is None:
        if user.role != "owner":
            user.role = CO_OWNER
    elif not whole_installation(user):
        await _set_access(session, user, prop, invite.role)
    invite.used_by, invite.used_at = user.id, now
    details = {"after": {"role": invite.role}, "invite_id": invite.id}
    await audit(
        session, user, "member.joined", "user", user.id, details, now=now, property_id=prop.id if prop else None
    )
    await _tell_joined(session, invite, user, prop, now=now)
    return Joined(user, invite.role, prop, invite.created_by)


async def _set_access(session: AsyncSession, user: User, prop: Property, role: str) -> None:
    access = await session.scalar(
        select(PropertyAccess).where(PropertyAccess.user_id == user.id, PropertyAccess.property_id == prop.id)
    )
    if access is None:
        session.add(PropertyAccess(user_id=user.id, property_id=prop.id, role=role))
    else:
        access.role = role


async def _tell_joined(
    session: AsyncSession, invite: Invite, user: User, prop: Property | None, *, now: datetime
) -> None:
    """The owners, co-owners and whoever invited them hear who joined."""
    query = select(User).where(User.is_active.is_(True), User.id != user.id)
    told = (
        await session.scalars(query.where(or_(User.role.in_(INSTALLATION_ROLES), User.id == invite.created_by)))
    ).all()
    payload = {
        "name": user.first_name,
        "username": user.username,
        "role": invite.role,
        "property": prop.name if prop else None,
    }
    rows = [
        outbox_row(
            person,
            AlertKind.MEMBER_JOINED,
            f"member_joined:{invite.id}:{person.id}",
            now=now,
            payload=payload,
            property_id=prop.id if prop else None,
        )
        for person in told
    ]
    await add_outbox_rows(session, rows)


# --- the people -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    user: User
    role: str  # owner | co_owner | manager | cleaner | viewer


async def members(session: AsyncSession, prop: Property) -> list[Member]:
    """Everyone who can reach `prop`: the owner and co-owners, then its people by role."""
    whole = (await session.scalars(select(User).where(User.role.in_(INSTALLATION_ROLES)).order_by(User.id))).all()
    query = (
        select(User, PropertyAccess.role)
        .join(PropertyAccess, PropertyAccess.user_id == User.id)
        .where(PropertyAccess.property_id == prop.id, User.role.not_in(INSTALLATION_ROLES))
        .order_by(PropertyAccess.role, User.first_name, User.id)
    )
    people = [Member(user, role) for user, role in (await session.execute(query)).all()]
    return [Member(user, user.role) for user in whole] + people


async def co_owners(session: AsyncSession) -> Sequence[User]:
    return (await session.scalars(select(User).where(User.role == CO_OWNER).order_by(User.id))).all()


async def member_of(session: AsyncSession, prop: Property | None, user_id: int) -> Member | None:
    """A person's place on `prop` (None: as co-owner), or None if they have none."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    if prop is None:
        return Member(user, CO_OWNER) if user.role == CO_OWNER else None
    if whole_installation(user):
        return Member(user, user.role)
    role = await session.scalar(
        select(PropertyAccess.role).where(PropertyAccess.user_id == user_id, PropertyAccess.property_id == prop.id)
    )
    return Member(user, role) if role is not None else None


async def looks_after(session: AsyncSession, user: User, property_id: int) -> tuple[bool, Property | None]:
    """Whether `user` looks after the team of a place, and the place: a property they manage, or None for the whole
    installation (id 0: its co-owners, the owner's)."""
    if property_id == 0:
        return user.role == "owner", None
    prop = await property_for(session, user, property_id, manage=True)
    return prop is not None, prop


@dataclass(frozen=True, slots=True)
class Place:
    """A person where someone looks after them: on a property, or as co-owner (prop None)."""

    prop: Property | None
    member: Member


async def place_for(
    session: AsyncSession, user: User, place_and_person: tuple[int, int], *, manage: bool = True
) -> Place | None:
    """The person a team button names, where it names them (property id, 0 for co-ownership), if `user` looks after
    that place and may change that person there; None otherwise (the access lookup answers "expired")."""
    property_id, user_id = place_and_person
    allowed, prop = await looks_after(session, user, property_id)
    found = await member_of(session, prop, user_id) if allowed else None
    if found is None or not may_change(user, found.user, found.role):
        return None
    return Place(prop, found)


async def change_role(
    session: AsyncSession, actor: User, prop: Property, member: Member, role: str, *, now: datetime
) -> bool:
    if role not in invitable_roles(actor, prop) or not may_change(actor, member.user, member.role):
        return False
    await _set_access(session, member.user, prop, role)
    details = {"before": {"role": member.role}, "after": {"role": role}}
    await audit(session, actor, "member.role_changed", "user", member.user.id, details, now=now, property_id=prop.id)
    return True


async def remove(session: AsyncSession, actor: User, prop: Property | None, member: Member, *, now: datetime) -> bool:
    """End `member`'s access to `prop` (None: their co-ownership) at once: their next button press finds nothing,
    and what was still queued for them about it is not delivered."""
    if not may_change(actor, member.user, member.role):
        return False
    if prop is None:
        member.user.role = "viewer"  # no property_access rows: nothing left to see
        gone = select(Property.id)
    else:
        await session.execute(
            delete(PropertyAccess).where(
                PropertyAccess.user_id == member.user.id, PropertyAccess.property_id == prop.id
            )
        )
        gone = select(Property.id).where(Property.id == prop.id)
    await session.execute(
        update(Outbox)
        .where(Outbox.user_id == member.user.id, Outbox.status == "pending", Outbox.property_id.in_(gone))
        .values(status="skipped", last_error="access removed")
        .execution_options(synchronize_session=False)
    )
    details = {"before": {"role": member.role}, "after": None}
    await audit(
        session,
        actor,
        "member.removed",
        "user",
        member.user.id,
        details,
        now=now,
        property_id=prop.id if prop else None,
    )
    return True
