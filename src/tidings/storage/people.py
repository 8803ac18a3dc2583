"""The people and memberships tables: who may log in, and their role in each workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, delete, func, select, update

from tidings.storage.tables import memberships, people, sessions, workspaces


class Role(StrEnum):
    """What a person may do in a workspace; each role includes every role below it."""

    VIEWER = "viewer"  #: reads everything
    APPROVER = "approver"  #: reads, and decides approvals
    EDITOR = "editor"  #: reads, and changes workflows, templates, segments and scoring
    OWNER = "owner"  #: everything: people, keys, settings, erasure and export

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may do.

        Approver and editor are side by side, not above one another: an editor cannot
        decide approvals and an approver cannot edit workflows.
        """
        return self is needed or self is Role.OWNER or needed is Role.VIEWER


@dataclass(frozen=True)
class Person:
    """A person as the API shows them."""

    id: int
    email: str
    name: str
    password_hash: str | None
    disabled: bool


@dataclass(frozen=True)
class Membership:
    """A person's role in one workspace."""

    workspace_id: int
    workspace_key: str
    workspace_name: str
    role: Role


@dataclass(frozen=True)
class Member:
    """A person in one workspace, for lists."""

    email: str
    name: str
    role: Role
    invited: bool
    created_at: datetime


def normalise_email(email: str) -> str:
    """The stored form of an email: trimmed and lower-cased."""
    return email.strip().lower()


def find_person(conn: Connection, email: str) -> Person | None:
    """The person with `email`, or None."""
    row = conn.execute(select(people).where(people.c.email == normalise_email(email))).one_or_none()
    if row is None:
        return None
    return Person(row.id, row.email, row.name, row.password_hash, bool(row.disabled))


def add_person(
    conn: Connection,
    email: str,
    name: str,
    now: datetime,
    *,
    password_hash: str | None = None,
    invite_hash: str | None = None,
) -> int:
    """Create a person and return their id; the caller checks the email is free."""
    return int(
        conn.execute(
            people.insert()
            .values(
                email=normalise_email(email),
                name=name,
                password_hash=password_hash,
                invite_hash=invite_hash,
                created_at=now,
                disabled=False,
            )
            .returning(people.c.id)
        ).scalar_one()
    )


def set_password(conn: Connection, person_id: int, password_hash: str) -> None:
    """Replace a person's password; their sessions end, so a stolen one stops working."""
    conn.execute(update(people).where(people.c.id == person_id).values(password_hash=password_hash))
    conn.execute(delete(sessions).where(sessions.c.person_id == person_id))


def accept_invitation(
    conn: Connection, email: str, invite_hash: str, name: str, password_hash: str
) -> int | None:
    """Set the password of the person invited with `invite_hash`; None when it is used up."""
    row = conn.execute(
        update(people)
        .where(
            people.c.email == normalise_email(email),
            people.c.invite_hash == invite_hash,
            people.c.disabled.is_(False),
        )
        .values(password_hash=password_hash, invite_hash=None, name=name)
        .returning(people.c.id)
    ).one_or_none()
    return None if row is None else int(row.id)


def set_role(
    conn: Connection, person_id: int, workspace_id: int, role: Role, now: datetime
) -> None:
    """Give a person `role` in a workspace, adding the membership if needed."""
    changed = conn.execute(
        update(memberships)
        .where(memberships.c.person_id == person_id, memberships.c.workspace_id == workspace_id)
        .values(role=role.value)
    ).rowcount
    if not changed:
        conn.execute(
            memberships.insert().values(
                person_id=person_id, workspace_id=workspace_id, role=role.value, created_at=now
            )
        )


def memberships_of(conn: Connection, person_id: int) -> list[Membership]:
    """Every workspace the person belongs to, by workspace key."""
    rows = conn.execute(
        select(memberships.c.role, workspaces.c.id, workspaces.c.key, workspaces.c.name)
        .join(workspaces, workspaces.c.id == memberships.c.workspace_id)
        .where(memberships.c.person_id == person_id)
        .order_by(workspaces.c.key)
    )
    return [Membership(r.id, r.key, r.name, Role(r.role)) for r in rows]


def role_in(conn: Connection, person_id: int, workspace_id: int) -> Role | None:
    """The person's role in the workspace, or None when they are not a member."""
    found = conn.execute(
        select(memberships.c.role).where(
            memberships.c.person_id == person_id, memberships.c.workspace_id == workspace_id
        )
    ).scalar_one_or_none()
    return None if found is None else Role(found)


def list_members(conn: Connection, workspace_id: int) -> list[Member]:
    """The workspace's people, by email."""
    rows = conn.execute(
        select(
            people.c.email,
            people.c.name,
            people.c.password_hash,
            people.c.created_at,
            memberships.c.role,
        )
        .join(memberships, memberships.c.person_id == people.c.id)
        .where(memberships.c.workspace_id == workspace_id)
        .order_by(people.c.email)
    )
    return [
        Member(r.email, r.name, Role(r.role), r.password_hash is None, r.created_at) for r in rows
    ]


def count_owners(conn: Connection, workspace_id: int) -> int:
    """How many owners the workspace has."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(memberships)
            .where(
                memberships.c.workspace_id == workspace_id,
                memberships.c.role == Role.OWNER.value,
            )
        ).scalar_one()
    )


def remove_member(conn: Connection, person_id: int, workspace_id: int) -> None:
    """Take a person out of a workspace and end their sessions there.

    A person left in no workspace is deleted, so their email can be invited afresh.
    """
    conn.execute(
        delete(sessions).where(
            sessions.c.person_id == person_id, sessions.c.workspace_id == workspace_id
        )
    )
    conn.execute(
        delete(memberships).where(
            memberships.c.person_id == person_id, memberships.c.workspace_id == workspace_id
        )
    )
    left = conn.execute(
        select(func.count()).select_from(memberships).where(memberships.c.person_id == person_id)
    ).scalar_one()
    if not left:
        conn.execute(delete(sessions).where(sessions.c.person_id == person_id))
        conn.execute(delete(people).where(people.c.id == person_id))
