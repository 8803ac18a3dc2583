"""Workflow conditions on the contact's past: the behaviour rules segments have, read from
the history the shell puts on the contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers import contact, event, problems_of, workflow
from tidings.core import EnrollmentState, EnrollmentStatus, advance
from tidings.core.history import HistoryNeed, history_need, summable, workflow_rules
from tidings.core.schema import Schema
from tidings.core.spec import Workflow

BRANCH = """
id: browse
name: Browse
trigger: {event: product_viewed}
steps:
  - id: which
    type: branch
    branches:
      - when: 'performed product_viewed where event.product_id == trigger.product_id at least 2 times within 3d'
        next: keen
      - {when: 'total event.revenue of order_completed within 90d > 200', next: big}
      - {when: 'last order_completed more than 30d ago', next: lapsed}
    else: other
  - {id: keen, type: exit, reason: keen}
  - {id: big, type: exit, reason: big}
  - {id: lapsed, type: exit, reason: lapsed}
  - {id: other, type: exit, reason: other}
"""


def begin(wf: Workflow, now: datetime, **props: Any) -> EnrollmentState:
    return EnrollmentState(
        id=1,
        workflow_key=wf.id,
        version=1,
        contact_id=1,
        status=EnrollmentStatus.ACTIVE,
        step_id=wf.steps[0].id,
        entered_at=now,
        trigger=event("product_viewed", now, product_id="p1", **props),
    )


def arm(now: datetime, *history: tuple[str, timedelta, dict[str, Any]]) -> str | None:
    wf = workflow(BRANCH)
    past = tuple(event(name, now - ago, i, **props) for i, (name, ago, props) in enumerate(history))
    return advance(wf, begin(wf, now), contact(history=past), now).state.exit_reason


def test_a_branch_counts_views_of_the_triggering_product_within_the_window(
    now: datetime,
) -> None:
    p1 = {"product_id": "p1"}
    assert (
        arm(now, ("product_viewed", timedelta(days=1), p1), ("product_viewed", timedelta(0), p1))
        == "keen"
    )
    # Another product's views, and views older than three days, do not count.
    assert (
        arm(
            now,
            ("product_viewed", timedelta(days=4), p1),
            ("product_viewed", timedelta(hours=1), {"product_id": "p2"}),
            ("product_viewed", timedelta(0), p1),
        )
        == "other"
    )


def test_a_branch_sums_revenue_within_the_window(now: datetime) -> None:
    assert (
        arm(
            now,
            ("order_completed", timedelta(days=80), {"revenue": 150}),
            ("order_completed", timedelta(days=10), {"revenue": 60}),
        )
        == "big"
    )
    assert (
        arm(
            now,
            ("order_completed", timedelta(days=100), {"revenue": 150}),
            ("order_completed", timedelta(days=10), {"revenue": 60}),
        )
        == "other"
    )


def test_a_branch_on_the_last_time(now: datetime) -> None:
    assert arm(now, ("order_completed", timedelta(days=45), {"revenue": 5})) == "lapsed"
    assert arm(now, ("order_completed", timedelta(days=5), {"revenue": 5})) == "other"
    assert arm(now) == "other"  # never ordered: not "more than 30d ago"


def test_the_rows_a_workflow_reads_are_for_rules_the_database_cannot_add_up() -> None:
    # Only the rule whose `where` reads the trigger needs rows; the others are summed in SQL.
    assert history_need(workflow(BRANCH)) == HistoryNeed(
        frozenset({"product_viewed"}), timedelta(days=3)
    )
    assert [summable(rule) for rule in workflow_rules(workflow(BRANCH))] == [
        False,
        True,
        True,
        True,
    ]
    unwindowed = workflow(BRANCH.replace(" at least 2 times within 3d", " at least 2 times"))
    assert history_need(unwindowed) == HistoryNeed(frozenset({"product_viewed"}), None)
    plain = workflow(
        BRANCH.split("    branches:")[0]
        + "    branches: [{when: 'contact.plan == \"pro\"', next: a}]\n  - {id: a, type: exit}\n"
    )
    assert history_need(plain) is None
    assert workflow_rules(plain) == ()


def test_a_measure_the_database_summed_is_used_instead_of_the_history(now: datetime) -> None:
    wf = workflow(BRANCH)
    big = next(r for r in workflow_rules(wf) if r.aggregate.value == "total")
    summed = contact(measures={big: 250})
    assert advance(wf, begin(wf, now), summed, now).state.exit_reason == "big"


SCHEMA = Schema(
    events={
        "product_viewed": frozenset({"product_id"}),
        "order_completed": frozenset({"revenue"}),
    },
)


def entry(when: str) -> list[str]:
    return problems_of(
        f"""
        id: browse
        name: Browse
        trigger: {{event: product_viewed}}
        entry: {{when: '{when}'}}
        steps:
          - {{id: w, type: wait, for: 1d}}
        """,
        SCHEMA,
    )


def test_a_rule_on_the_past_is_valid_in_a_workflow() -> None:
    assert entry("not performed order_completed within 30d") == []


def test_an_unknown_event_in_a_rule_gets_did_you_mean() -> None:
    assert entry("performed order_complete within 30d") == [
        "entry.when: unknown event 'order_complete' (did you mean order_completed?)"
    ]


def test_an_unknown_property_in_a_rule_is_named_with_the_event() -> None:
    [found] = entry("total event.revenu of order_completed within 30d > 5")
    assert "the order_completed event has no 'revenu'" in found and "revenue" in found
    [found] = entry("performed product_viewed where event.sku == trigger.product_id")
    assert "the product_viewed event has no 'sku'" in found


def test_a_bad_window_is_named() -> None:
    [found] = entry("performed product_viewed within 0d")
    assert "the window 0d is zero" in found
    [found] = entry("performed product_viewed within 3 days")
    assert "expected a duration such as 30m, 7d or 2w" in found


def test_an_event_the_workspace_has_not_received_is_a_warning_with_did_you_mean() -> None:
    from tidings.core import validate_workflow

    doc = {
        "id": "browse",
        "name": "Browse",
        "trigger": {"event": "product_viewed"},
        "entry": {"when": "performed prodct_viewed within 3d"},
        "steps": [{"id": "w", "type": "wait", "for": "1d"}],
    }
    spec, found = validate_workflow(doc, seen_events=frozenset({"product_viewed", "signed_up"}))
    assert spec is not None  # a warning: the event may simply not have been sent yet
    assert [str(p) for p in found] == [
        "warning: entry.when: no 'prodct_viewed' event has been received lately"
        " (did you mean product_viewed?)"
    ]


def test_the_branch_log_says_what_each_rule_counted(now: datetime) -> None:
    wf = workflow(BRANCH)
    past = (
        event("product_viewed", now - timedelta(days=1), 1, product_id="p1"),
        event("order_completed", now - timedelta(days=5), 2, revenue=80),
    )
    [line] = advance(wf, begin(wf, now), contact(history=past), now).decisions[:1]
    assert line.action == "branched" and line.data["arm"] == "else"
    assert line.data["values"] == {
        "performed product_viewed where (event.product_id == trigger.product_id)"
        " at least 2 times within 3d": 1,
        "total event.revenue of order_completed within 90d > 200": 80,
        "performed order_completed": 1,
        "performed order_completed within 30d": 1,
    }
