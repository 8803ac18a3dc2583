"""A start decided earlier is checked again against what the transaction started since."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tests.helpers import contact, event, workflow
from tidings.core import LiveVersion, Refused, Start, react
from tidings.core.entry import admit

THANKS = """
id: thanks
name: Thanks
trigger: {event: order_completed}
entry: {reentry: always}
steps:
  - {id: pause, type: wait, for: 1d}
"""


def test_a_journey_started_meanwhile_refuses_the_second_start(now: datetime) -> None:
    wf = workflow(THANKS)
    (decided,) = react(
        event("order_completed", now), contact(), [LiveVersion(wf, 1)], [], now
    ).transitions
    assert isinstance(decided, Start)
    meanwhile = replace(decided.state, id=5)  # an `enroll` step started it first

    outcome = admit(wf, decided, [meanwhile], now)

    assert isinstance(outcome, Refused)
    assert outcome.decision.action == "not_enrolled"
    assert outcome.decision.detail == "already in this workflow"
    assert outcome.decision.workflow_key == "thanks"


def test_nothing_started_meanwhile_keeps_the_start(now: datetime) -> None:
    wf = workflow(THANKS)
    (decided,) = react(
        event("order_completed", now), contact(), [LiveVersion(wf, 1)], [], now
    ).transitions
    assert isinstance(decided, Start)
    assert admit(wf, decided, [], now) is decided
