"""Who may decide an approval step, and who is told that it waits.

An approval step's `approvers` names people by email (`lead@shop.example`) and/or a role
(`approver`, `owner`): everyone in the workspace with that role. A step that names nobody
is for every approver and owner. Owners may always decide, named or not, so a journey
never waits on a person who has left; they are told only when the step names their role
or nobody at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: The roles that can decide approvals (an editor cannot: see `Role.allows`).
DECIDING_ROLES = frozenset({"approver", "owner"})
OWNER = "owner"
#: Enough of an email address to tell it from a role; the outbox checks it fully.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Approvers:
    """An approval step's `approvers`, read: the people named, and the roles named."""

    people: frozenset[str]  #: lowercased emails
    roles: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str]) -> Approvers:
        """Read a step's list; entries that are neither are ignored (validation names them)."""
        people = {n.strip().lower() for n in names if _EMAIL.fullmatch(n.strip())}
        roles = {n.strip().lower() for n in names if n.strip().lower() in DECIDING_ROLES}
        return cls(frozenset(people), frozenset(roles) if people or roles else DECIDING_ROLES)

    def may_decide(self, email: str, role: str) -> bool:
        """Whether this person (their email, their role in the workspace) may decide."""
        return role == OWNER or email.strip().lower() in self.people or role in self.roles

    def recipients(self, members: Iterable[tuple[str, str]]) -> list[str]:
        """Who is told, among the workspace's members (email, role): the people named and
        the members of the roles named. A named address that is no member is not written
        to: it could not log in to decide, and a workflow must not make Tidings mail
        strangers links into the console."""
        found = {e.lower() for e, r in members if e.lower() in self.people or r in self.roles}
        return sorted(found)

    def describe(self) -> str:
        """Who may decide, for a refusal: 'lead@shop.example, or an owner'."""
        named = sorted(self.people) + [f"anyone with the {r} role" for r in sorted(self.roles)]
        if OWNER not in self.roles:
            named.append("an owner")
        return ", ".join(named[:-1]) + (" or " if len(named) > 1 else "") + named[-1]


def approver_problem(name: str) -> str | None:
    """Why an `approvers` entry names nobody, or None when it names a person or a role."""
    if _EMAIL.fullmatch(name.strip()) or name.strip().lower() in DECIDING_ROLES:
        return None
    return f"{name!r} is neither an email address nor a role that decides"
