"""The step log explains where each contact went and why; approvals pause journeys."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.api.people import add_member
from tests.integration.conftest import Store
from tests.integration.journeys import (
    HANDOFF,
    deploy,
    enrollment_states,
    identify,
    rows,
    subscriber,
    tick,
    track,
)
from tidings.runtime.approvals import decide_approval
from tidings.storage.people import Role
from tidings.storage.step_log import contact_story

ROUTED = """
id: routed
name: Routed
trigger: {event: cart_abandoned}
templates:
  big: {subject: "Big cart", text: "discount"}
  small: {subject: "Small cart", text: "reminder"}
steps:
  - {id: pause, type: wait, for: 1h}
  - {id: size, type: branch, branches: [{when: "event.value >= 100", next: big}], else: small}
  - {id: big, type: send, template: big, next: done}
  - {id: small, type: send, template: small}
  - {id: done, type: exit, reason: finished}
"""


def test_the_story_tells_trigger_branch_values_and_holds(store: Store) -> None:
    deploy(store, ROUTED)
    subscriber(store, "rich")
    identify(store, "nomail", consent={"email": "subscribed"})
    track(store, "rich", "cart_abandoned", value=250)
    track(store, "nomail", "cart_abandoned", value=20)
    tick(store, timedelta(hours=1))
    with store.engine.connect() as conn:
        rich = contact_story(conn, 1)
        nomail = contact_story(conn, 2)
    assert [(line.step_id, line.action) for line in rich] == [
        (None, "enrolled"),
        ("pause", "waiting"),
        ("size", "branched"),
        ("big", "queued"),
        ("done", "exited"),
    ]
    branched = rich[2]
    assert branched.workflow_key == "routed"
    assert branched.detail == "arm 1 (event.value >= 100) -> big"
    assert branched.data["values"] == {"event.value": 250}
    held = [line for line in nomail if line.action == "held"]
    assert [(h.step_id, h.detail) for h in held] == [("small", "the contact has no email address")]


def test_an_approved_journey_goes_on_and_the_request_is_closed(store: Store) -> None:
    add_member(store, "lead@example.com", Role.APPROVER)  # the approver the step names
    deploy(store, HANDOFF)
    subscriber(store, "lead")
    track(store, "lead", "demo_requested")
    assert rows(store, "SELECT status, message FROM approvals") == [
        ("pending", "Call lead@example.com?")
    ]
    status = decide_approval(
        store.engine, store.clock, store.catalog, 1, approved=True, by="lead@example.com"
    )
    assert status == "exited"
    assert rows(store, "SELECT status, decided_by FROM approvals") == [
        ("approved", "lead@example.com")
    ]
    # The approver's notice, then the message approving let through.
    assert rows(store, "SELECT channel, recipient, subject FROM messages ORDER BY id") == [
        ("alert:email", "lead@example.com", None),
        ("email", "lead@example.com", "A rep will call"),
    ]


def test_an_unanswered_request_expires_and_the_journey_leaves(store: Store) -> None:
    deploy(store, HANDOFF)
    subscriber(store, "lead")
    track(store, "lead", "demo_requested")
    tick(store, timedelta(days=2))
    assert rows(store, "SELECT status FROM approvals") == [("expired",)]
    assert enrollment_states(store) == [("exited", "ask", "approval timed out")]
