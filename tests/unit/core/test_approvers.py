"""Who may decide an approval, and who is told it waits."""

from __future__ import annotations

from tests.helpers import problems_of, workflow
from tidings.core.approvers import Approvers, member_problems

MEMBERS = [
    ("lead@shop.example", "approver"),
    ("other@shop.example", "approver"),
    ("boss@shop.example", "owner"),
    ("ed@shop.example", "editor"),
]


def test_named_people_decide_and_are_told_and_owners_may_always_decide() -> None:
    named = Approvers.of(["Lead@Shop.example"])
    assert named.may_decide("lead@shop.example", "approver")
    assert not named.may_decide("other@shop.example", "approver")
    assert named.may_decide("boss@shop.example", "owner")
    assert named.recipients(MEMBERS) == ["lead@shop.example"]
    assert named.describe() == "lead@shop.example or an owner"


def test_a_step_that_names_nobody_is_for_every_approver_and_owner() -> None:
    anyone = Approvers.of([])
    assert anyone.may_decide("other@shop.example", "approver")
    assert not anyone.may_decide("ed@shop.example", "editor")
    assert anyone.recipients(MEMBERS) == [
        "boss@shop.example",
        "lead@shop.example",
        "other@shop.example",
    ]


def test_a_named_role_means_its_members() -> None:
    owners = Approvers.of(["owner", "lead@shop.example"])
    assert owners.recipients(MEMBERS) == ["boss@shop.example", "lead@shop.example"]
    assert not owners.may_decide("other@shop.example", "approver")


def test_an_approver_that_is_neither_a_person_nor_a_role_is_named() -> None:
    found = problems_of(
        """
        id: h
        name: H
        trigger: {event: demo_requested}
        steps:
          - {id: ask, type: approval, message: "ok?", approvers: [sales team, editor], timeout: 2d}
        """
    )
    assert found == [
        "steps[0].approvers[0]: 'sales team' is neither an email address nor a role that"
        " decides (name a person by email (lead@shop.example) or a role: approver or owner)",
        "steps[0].approvers[1]: 'editor' is neither an email address nor a role that"
        " decides (name a person by email (lead@shop.example) or a role: approver or owner)",
    ]


def test_a_named_address_that_is_no_member_is_not_written_to() -> None:
    named = Approvers.of(["lead@shop.example", "stranger@elsewhere.example"])
    assert named.recipients(MEMBERS) == ["lead@shop.example"]


def test_a_named_person_without_a_deciding_role_is_neither_told_nor_allowed() -> None:
    named = Approvers.of(["ed@shop.example", "lead@shop.example"])
    assert named.recipients(MEMBERS) == ["lead@shop.example"]
    assert not named.may_decide("ed@shop.example", "editor")
    assert not named.may_decide("viewer@shop.example", "viewer")
    assert named.undeciding([*MEMBERS, ("viewer@shop.example", "viewer")]) == [
        ("ed@shop.example", "editor")
    ]


def test_deploying_warns_about_a_named_person_who_cannot_decide() -> None:
    wf = workflow(
        """
        id: h
        name: H
        trigger: {event: demo_requested}
        steps:
          - {id: wait, type: wait, for: 1h}
          - id: ask
            type: approval
            message: "ok?"
            approvers: [ed@shop.example, gone@shop.example, lead@shop.example]
            timeout: 2d
        """
    )
    assert [str(p) for p in member_problems(wf, MEMBERS)] == [
        "warning: steps[1].approvers: ed@shop.example is a member with the editor role, so is"
        " not told and cannot decide (give them the approver role"
        " (PATCH /api/people/{email}), or name a role)",
        "warning: steps[1].approvers: gone@shop.example is no member of this workspace, so is"
        " not told and cannot decide (invite them as an approver (POST /api/people), or name"
        " a role)",
    ]
