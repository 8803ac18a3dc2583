"""Who may decide an approval step, and who is told that it waits.

An approval step's `approvers` names people by email (`lead@shop.example`) and/or a role
(`approver`, `owner`): everyone in the workspace with that role. A step that names nobody
is for every approver and owner. Owners may always decide, named or not, so a journey
never waits on a person who has left; they are told only when the step names their role
or nobody at all. Only approvers and owners decide: a person named by email whose role is
viewer or editor is neither told nor allowed (the inbox would refuse them), and deploying
such a step warns (`undeciding`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tidings.core.problems import Problem
from tidings.core.spec import ApprovalStep, Workflow

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
        """Whether this person (their email, their role in the workspace) may decide: an
        owner, or an approver named or of a role named."""
        if role not in DECIDING_ROLES:
            return False
        return role == OWNER or email.strip().lower() in self.people or role in self.roles

    def recipients(self, members: Iterable[tuple[str, str]]) -> list[str]:
        """Who is told, among the workspace's members (email, role): the people named and
        the members of the roles named. A named address that is no member is not written
        to: it could not log in to decide, and a workflow must not make Tidings mail
        strangers links into the console."""
        found = {e.lower() for e, r in members if self._told(e, r)}
        return sorted(found)

    def _told(self, email: str, role: str) -> bool:
        return role in DECIDING_ROLES and (email.lower() in self.people or role in self.roles)

    def undeciding(self, members: Iterable[tuple[str, str]]) -> list[tuple[str, str | None]]:
        """The people named who could not decide, each with their role: None for no member
        of the workspace, else a role (viewer, editor) that decides no approvals."""
        roles = {e.lower(): r for e, r in members}
        return [
            (email, roles.get(email))
            for email in sorted(self.people)
            if roles.get(email) not in DECIDING_ROLES
        ]

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


def member_problems(workflow: Workflow, members: Iterable[tuple[str, str]]) -> list[Problem]:
    """Warnings for approval steps that name a person who could not decide in this
    workspace (members as (email, role)): they would get no notice, and the step would
    wait for someone else or its timeout."""
    known = list(members)
    found = []
    for i, step in enumerate(workflow.steps):
        if not isinstance(step, ApprovalStep):
            continue
        for email, role in Approvers.of(step.approvers).undeciding(known):
            found.append(
                Problem(
                    f"steps[{i}].approvers",
                    f"{email} is no member of this workspace, so is not told and cannot decide"
                    if role is None
                    else f"{email} is a member with the {role} role, so is not told and"
                    " cannot decide",
                    "invite them as an approver (POST /api/people), or name a role"
                    if role is None
                    else "give them the approver role (PATCH /api/people/{email}), or name a role",
                    severity="warning",
                )
            )
    return found
