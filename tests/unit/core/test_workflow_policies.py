"""A workflow's own policies: merged with the workspace's, decided, validated; and a send
that holds its journey until its message goes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import contact
from tests.unit.core.test_advance import begin, flow
from tidings.core import EnrollmentStatus, WaitKind, advance
from tidings.core.pacing import WorkflowPolicies
from tidings.core.policies import (
    WORKFLOW,
    WORKSPACE,
    Action,
    Circumstances,
    Outgoing,
    Policies,
    Rival,
    decide,
    merge,
)
from tidings.core.validate import validate_workflow

NIGHT = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)
DAY = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
SUBSCRIBED = {"email": "subscribed"}
WORKSPACE_RULES = Policies.model_validate(
    {
        "caps": [{"limit": 1, "per": "1d"}],
        "quiet_hours": {"start": "21:00", "end": "08:00"},
        "after_purchase": {"event": "order_completed", "for": "3d"},
    }
)


def email(workflow_id: int = 7, kind: str = "marketing") -> Outgoing:
    return Outgoing(
        id=10, channel="email", kind=kind, created_at=DAY - timedelta(hours=1),
        workflow_id=workflow_id,
    )  # fmt: skip


def own(**policies: Any) -> WorkflowPolicies:
    return WorkflowPolicies.model_validate(policies)


# ---------------------------------------------------------------- merge


def test_a_transactional_workflow_leaves_out_the_workspaces_pacing_but_keeps_its_own() -> None:
    rules = merge(
        WORKSPACE_RULES, own(transactional=True, quiet_hours={"start": "22:00", "end": "07:00"})
    )
    assert rules.transactional
    assert rules.caps == () and rules.after_purchase == ()
    assert [whose for _, whose in rules.quiet_hours] == [WORKFLOW]


def test_a_workflows_rules_are_added_after_the_workspaces() -> None:
    rules = merge(WORKSPACE_RULES, own(frequency_caps=[{"limit": 2, "per": "7d"}]))
    assert [(cap.limit, whose) for cap, whose in rules.caps] == [(1, WORKSPACE), (2, WORKFLOW)]
    assert merge(WORKSPACE_RULES) == merge(WORKSPACE_RULES, own())


# ---------------------------------------------------------------- decide


def test_transactional_workflow_goes_at_night_and_over_the_cap() -> None:
    facts = Circumstances(consent=SUBSCRIBED, sent=((NIGHT - timedelta(hours=2), "email"),))
    marketing = decide(email(), facts, WORKSPACE_RULES, NIGHT)
    assert marketing.action is Action.DEFER and marketing.policy == WORKSPACE
    verdict = decide(email(), facts, WORKSPACE_RULES, NIGHT, own(transactional=True))
    assert verdict.action is Action.ALLOW
    assert "the workflow is transactional" in verdict.reason


def test_transactional_workflow_skips_the_purchase_window_but_not_consent() -> None:
    bought = Circumstances(consent=SUBSCRIBED, last_purchase_at=DAY - timedelta(hours=1))
    assert decide(email(), bought, WORKSPACE_RULES, DAY).action is Action.DROP
    verdict = decide(email(), bought, WORKSPACE_RULES, DAY, own(transactional=True))
    assert verdict.action is Action.ALLOW
    for consent in ({}, {"email": "unsubscribed"}):
        no = replace(bought, consent=consent)
        refused = decide(email(), no, WORKSPACE_RULES, DAY, own(transactional=True))
        assert refused.action is Action.DROP and refused.rule == "consent"
    listed = replace(bought, suppressed="hard bounce")
    assert decide(email(), listed, Policies(), DAY, own(transactional=True)).rule == "suppression"


def test_a_workflows_quiet_hours_defer_and_name_the_workflow() -> None:
    quiet = own(quiet_hours={"start": "11:00", "end": "13:00"})
    verdict = decide(email(), Circumstances(consent=SUBSCRIBED), Policies(), DAY, quiet)
    assert verdict.action is Action.DEFER
    assert verdict.until == datetime(2026, 6, 10, 13, 0, tzinfo=UTC)
    assert verdict.policy == WORKFLOW and "(the workflow's own policy)" in verdict.reason


def test_a_workflow_cap_counts_its_own_messages_or_all_as_it_says() -> None:
    earlier = ((DAY - timedelta(hours=3), "email"),)
    others_only = Circumstances(consent=SUBSCRIBED, sent=earlier)
    mine = Circumstances(consent=SUBSCRIBED, sent=earlier, sent_in_workflow=earlier)
    cap = own(frequency_caps=[{"limit": 1, "per": "1d"}])
    assert decide(email(), others_only, Policies(), DAY, cap).action is Action.ALLOW
    assert decide(email(), mine, Policies(), DAY, cap).action is Action.DEFER
    everything = own(frequency_caps=[{"limit": 1, "per": "1d", "counts": "all"}])
    assert decide(email(), others_only, Policies(), DAY, everything).action is Action.DEFER


def test_a_workflow_cap_competes_only_with_its_own_workflows_due_messages() -> None:
    rival = Rival(
        id=3, channel="email", priority=9, created_at=DAY - timedelta(hours=2), workflow_id=8
    )
    facts = Circumstances(consent=SUBSCRIBED, rivals=(rival,))
    cap = own(frequency_caps=[{"limit": 1, "per": "1d"}])
    assert decide(email(), facts, Policies(), DAY, cap).action is Action.ALLOW
    same = replace(facts, rivals=(replace(rival, workflow_id=7),))
    assert decide(email(), same, Policies(), DAY, cap).action is Action.DEFER


def test_a_workflows_purchase_window_reads_its_own_event() -> None:
    window = own(after_purchase={"event": "subscription_renewed", "for": "2d"})
    renewed = Circumstances(
        consent=SUBSCRIBED, last_events={"subscription_renewed": DAY - timedelta(days=1)}
    )
    verdict = decide(email(), renewed, Policies(), DAY, window)
    assert verdict.action is Action.DROP and verdict.policy == WORKFLOW
    assert "subscription_renewed" in verdict.reason


def test_transactional_messages_skip_a_workflows_rules_too() -> None:
    quiet = own(quiet_hours={"start": "11:00", "end": "13:00"})
    facts = Circumstances(consent={})
    assert decide(email(kind="transactional"), facts, Policies(), DAY, quiet).action is Action.ALLOW


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("policies", "path", "said"),
    [
        ({"quiet_hours": False}, "policies.quiet_hours", "`quiet_hours: off` cannot switch off"),
        ({"quiet_hours": None}, "policies.quiet_hours", "`quiet_hours: null` cannot switch off"),
        ({"frequency_caps": []}, "policies.frequency_caps", "`frequency_caps: []` cannot"),
        ({"after_purchase": "off"}, "policies.after_purchase", "the workspace's purchase window"),
        ({"skip_quiet_hours": True}, "policies", "`skip_quiet_hours` would loosen"),
    ],
)
def test_loosening_is_a_problem_naming_the_field_and_the_fix(
    policies: dict[str, Any], path: str, said: str
) -> None:
    document = {
        "id": "w",
        "name": "W",
        "trigger": {"event": "signed_up"},
        "templates": {"t": {"subject": "s", "text": "x"}},
        "steps": [{"id": "a", "type": "send", "template": "t"}],
        "policies": policies,
    }
    found, problems = validate_workflow(document)
    assert found is None
    [problem] = problems
    assert problem.path == path and said in problem.message
    assert "transactional: true" in problem.hint


def test_tightening_and_transactional_validate() -> None:
    document = {
        "id": "w",
        "name": "W",
        "trigger": {"event": "signed_up"},
        "templates": {"t": {"subject": "s", "text": "x"}},
        "steps": [{"id": "a", "type": "send", "template": "t", "on_deferral": "hold"}],
        "policies": {
            "transactional": True,
            "frequency_caps": [{"limit": 2, "per": "1w", "channel": "email", "counts": "all"}],
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "after_purchase": {"for": "2d"},
        },
    }
    found, problems = validate_workflow(document)
    assert problems == [] and found is not None and found.policies.transactional


# ---------------------------------------------------------------- hold


def test_a_held_send_keeps_the_journey_until_released_or_its_limit(now: datetime) -> None:
    wf = flow(
        "  - {id: s, type: send, template: other, on_deferral: hold}\n"
        "  - {id: w, type: wait, for: 1h}"
    )
    held = advance(wf, begin(wf, now), contact(), now)
    assert held.effects[0].holds  # type: ignore[union-attr]
    state = held.state
    assert (state.status, state.step_id, state.wait_kind) == (
        EnrollmentStatus.WAITING,
        "s",
        WaitKind.MESSAGE,
    )
    # Still held a day later: only the message's going (or the limit) lets it on
    assert advance(wf, state, contact(), now + timedelta(days=1)).state == state
    # Released by the dispatcher at 08:00: the wait counts from then
    at = now + timedelta(hours=10)
    released = replace(state, wake_at=at, wait_kind=WaitKind.TIMER)
    waiting = advance(wf, released, contact(), at).state
    assert (waiting.step_id, waiting.wake_at) == ("w", at + timedelta(hours=1))
    # Never released: after the limit the journey goes on and says why
    limit = advance(wf, state, contact(), now + timedelta(days=30))
    assert limit.state.step_id == "w"
    assert [d.action for d in limit.decisions][:1] == ["went_on"]


def test_go_on_is_the_default_and_moves_on_at_once(now: datetime) -> None:
    wf = flow("  - {id: s, type: send, template: other}\n  - {id: w, type: wait, for: 1h}")
    done = advance(wf, begin(wf, now), contact(), now)
    assert not done.effects[0].holds  # type: ignore[union-attr]
    assert done.state.step_id == "w"
