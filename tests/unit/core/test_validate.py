"""Validation names every mistake at once, each with its path, what is wrong and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import problems_of
from tidings.core.schema import Schema
from tidings.files import load_workflows

SCHEMA = Schema(
    contact=frozenset({"first_name", "cart_value"}),
    events={
        "cart_abandoned": frozenset({"cart_id", "value"}),
        "order_completed": frozenset({"revenue"}),
    },
)

BASE = """
id: cart
name: Cart
trigger: {type: event, event: cart_abandoned}
goal: {event: order_completed, within: 3d}
templates:
  t: {subject: "Hi", html: "<p>Hello {{ contact.first_name }}</p>"}
"""


def problems(steps: str, head: str = BASE, known: frozenset[str] | None = None) -> list[str]:
    return problems_of(head + "steps:\n" + steps, SCHEMA, known)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # an unknown field, with the field it most likely meant
        (
            "  - {id: w, type: wait, for: 1h, delay: 2h}",
            "steps[0].delay: unknown field 'delay'",
        ),
        (
            "  - {id: s, type: send, templat: t}",
            "steps[0].templat: unknown field 'templat' (did you mean template?)",
        ),
        # an unknown step type, with a suggestion
        (
            "  - {id: s, type: sned, template: t}",
            "steps[0].type: unknown type 'sned' (did you mean send?)",
        ),
        # bad durations say what a duration looks like
        (
            "  - {id: w, type: wait, for: 3 days}",
            "steps[0].for: '3 days' is not a duration; write a number and a unit, like 30m, 1h, 3d or 2w",
        ),
        (
            "  - {id: w, type: wait, for: 3}",
            "steps[0].for: 3 has no unit; write it like 3s, 3m, 3h or 3d",
        ),
        # duplicate step ids
        (
            "  - {id: a, type: wait, for: 1h}\n  - {id: a, type: wait, for: 2h}",
            "steps[1].id: duplicate step id 'a' (steps[0] has it too; ids must be unique)",
        ),
        # a link to a step that does not exist, with a suggestion
        (
            "  - {id: first, type: wait, for: 1h, next: secnd}\n  - {id: second, type: exit}",
            "steps[0].next: unknown step 'secnd' (did you mean second?)",
        ),
        # an unreachable step
        (
            "  - {id: a, type: exit}\n  - {id: orphan, type: wait, for: 1h}",
            "steps[1]: step 'orphan' is unreachable: no step leads to it (link it with next, or remove it)",
        ),
        # a loop with no wait in it
        (
            "  - {id: a, type: update, add_tags: [x]}\n"
            "  - {id: b, type: branch, branches: [{when: 'contact.score < 10', next: a}]}",
            "steps[0]: loop with no wait: a -> b -> a (add a wait step inside the loop)",
        ),
        # a branch with no way out: every path loops forever (waits included)
        (
            "  - {id: a, type: wait, for: 1d}\n"
            "  - {id: b, type: branch, branches: [{when: 'contact.score < 10', next: a}], else: a}",
            "steps[0]: step 'a' has no way out: every path from it loops forever",
        ),
        # unknown templates
        (
            "  - {id: s, type: send, template: tt}",
            "steps[0].template: unknown template 'tt' (did you mean t?)",
        ),
        # unknown fields in conditions and templates, with suggestions
        (
            "  - {id: b, type: branch, branches: [{when: 'contact.cart_vlaue > 100', next: e}]}\n  - {id: e, type: exit}",
            "steps[0].branches[0].when: unknown field contact.cart_vlaue (did you mean cart_value?)",
        ),
        (
            "  - {id: b, type: branch, branches: [{when: 'event.vaule > 100', next: e}]}\n  - {id: e, type: exit}",
            "steps[0].branches[0].when: unknown field event.vaule (the cart_abandoned event has no 'vaule') (did you mean value?)",
        ),
        # a condition that does not parse says where
        (
            "  - {id: b, type: branch, branches: [{when: 'contact.cart_value >', next: e}]}\n  - {id: e, type: exit}",
            "steps[0].branches[0].when: the condition ends too early; a value is missing at column 21",
        ),
        # split percentages must add up
        (
            "  - {id: s, type: split, paths: [{name: a, percent: 50, next: e}, {name: b, percent: 40, next: e}]}\n"
            "  - {id: e, type: exit}",
            "steps[0].paths: the percents add up to 90; they must add up to 100",
        ),
        # a wait for an event needs its timeout
        (
            "  - {id: w, type: wait, event: order_completed}",
            "a wait for an event needs a `timeout`",
        ),
        # enroll into a workflow nobody knows
        (
            "  - {id: n, type: enroll, workflow: welcom}",
            "steps[0].workflow: unknown workflow 'welcom' (did you mean welcome?)",
        ),
    ],
)
def test_each_mistake_is_named_with_its_path(steps: str, expected: str) -> None:
    found = problems(steps, known=frozenset({"welcome", "cart"}))
    assert any(expected in p for p in found), found


def test_a_marketing_send_needs_consent_it_can_check() -> None:
    email_only = Schema(SCHEMA.contact, SCHEMA.events, consent=frozenset({"email"}))
    text = (
        BASE.replace('subject: "Hi", html', "text")
        + "steps:\n  - {id: s, type: send, channel: sms, template: t}"
    )
    found = problems_of(text, email_only)
    assert found == [
        "steps[0]: a marketing send on sms has no consent to check "
        "(record sms consent in the schema, or mark the send kind: transactional)"
    ]
    assert (
        problems_of(text.replace("template: t}", "template: t, kind: transactional}"), email_only)
        == []
    )


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        "  - {id: a, type: sned}\n"
        "  - {id: w, type: wait, for: 3 days}\n"
        "  - {id: b, type: branch, branches: [{when: 'contact.cart_vlaue > 1', next: c}]}\n"
        "  - {id: c, type: send, template: nope}\n",
        head=BASE.replace("{{ contact.first_name }}", "{{ contact.frist_name }}"),
    )
    assert len(found) >= 5, found
    assert any(p.startswith("steps[0].type") for p in found)
    assert any(p.startswith("steps[1].for") for p in found)
    assert any(p.startswith("steps[2].branches[0].when") for p in found)
    assert any(p.startswith("steps[3].template") for p in found)
    assert any(p.startswith("templates.t.html: unknown field contact.frist_name") for p in found)


def test_liquid_syntax_errors_are_found_before_anything_runs() -> None:
    head = BASE.replace("<p>Hello {{ contact.first_name }}</p>", "{% if %}")
    assert any(
        "templates.t.html: Liquid syntax error" in p
        for p in problems("  - {id: s, type: send, template: t}", head)
    )


def test_an_email_template_needs_a_subject() -> None:
    head = BASE.replace('subject: "Hi", ', "")
    assert "templates.t: an email template needs a subject" in problems(
        "  - {id: s, type: send, template: t}", head
    )


def test_a_long_flow_with_no_exit_is_a_warning_not_an_error() -> None:
    head = BASE.replace("goal: {event: order_completed, within: 3d}\n", "")
    found = problems(
        "  - {id: w, type: wait, for: 20d}\n  - {id: s, type: send, template: t}", head
    )
    assert found == [
        "warning: exit: journeys here can last 20 days and nothing takes contacts out "
        "(add exit: rules (a purchase, an unsubscribe) or a goal)"
    ]


def test_a_clean_workflow_has_no_problems() -> None:
    steps = (
        "  - {id: w, type: wait, for: 1h}\n"
        "  - {id: s, type: send, template: t}\n"
        "  - {id: b, type: branch, branches: [{when: 'event.value >= 100', next: e}]}\n"
        "  - {id: e, type: exit}\n"
    )
    assert problems(steps) == []


def test_the_example_workflows_are_clean() -> None:
    folder = Path(__file__).parents[3] / "examples" / "workflows"
    loaded = load_workflows([folder])
    assert {item.path.name for item in loaded} == {
        "welcome.yaml",
        "cart_recovery.yaml",
        "reengagement.yaml",
    }
    assert all(item.workflow is not None and item.problems == [] for item in loaded), [
        (item.path.name, [str(p) for p in item.problems]) for item in loaded
    ]


def test_a_holdout_path_must_never_reach_a_send() -> None:
    steps = """\
  - id: split
    type: split
    paths:
      - {name: treated, percent: 90, next: remind}
      - {name: holdout, percent: 10, next: hold, holdout: true}
  - {id: remind, type: send, template: t, next: done}
  - {id: hold, type: wait, for: 1d, next: remind}
  - {id: done, type: exit}
"""
    assert problems(steps) == [
        "steps[0].paths[1]: the holdout path reaches the send step 'remind' (steps[1]); a "
        "holdout must never be messaged (send the holdout to its own wait and exit, apart "
        "from the treated path)"
    ]
    apart = steps.replace("next: remind}\n  - {id: done", "next: done}\n  - {id: done")
    assert problems(apart) == []


def test_the_awaited_event_is_checked_like_any_event() -> None:
    schema = Schema(
        frozenset(), {"order_delivered": frozenset(), "nps_submitted": frozenset({"score"})}
    )
    found = problems_of(
        """
        id: nps
        name: NPS
        trigger: {event: order_delivered}
        templates:
          t: {subject: "You gave {{ steps.survey.event.scor }}", text: "x"}
        steps:
          - {id: survey, type: wait, event: nps_submitted, timeout: 7d}
          - id: sort
            type: branch
            branches:
              - {when: "steps.servey.event.score >= 9", next: t}
              - {when: "steps.survey.score >= 9", next: t}
            else: done
          - {id: t, type: send, template: t}
          - {id: done, type: exit}
        """,
        schema,
    )
    assert any(
        "steps.servey.event.score: 'servey' is not a step that waits for an event"
        " (did you mean survey?)" in p
        for p in found
    ), found
    assert any("steps.survey.score names no property of the awaited event" in p for p in found)
    assert any(
        "unknown field steps.survey.event.scor (the nps_submitted event has no 'scor')" in p
        for p in found
    ), found


def test_canvas_positions_are_accepted_and_a_stale_one_is_a_warning() -> None:
    steps = "  - {id: w, type: wait, for: 1h}\n  - {id: s, type: send, template: t}\n"
    placed = BASE + "layout:\n  trigger: {x: 0, y: 0}\n  w: {x: 0, y: 120.5}\n"
    assert problems(steps, head=placed) == []
    stale = placed + "  ss: {x: 1, y: 1}\n  s: {x: 1}\n"
    assert problems(steps, head=stale) == [
        "layout.s.y: missing required field 'y'",
        "warning: layout.ss: no step 'ss' to place (did you mean s?)",
    ]


def test_a_workflow_without_steps_says_so_and_one_bad_step_is_not_no_steps() -> None:
    assert problems(" []") == ["steps: a workflow needs at least one step (add a step)"]
    assert problems("  - {id: w, type: wait}") == [
        "steps[0]: a wait needs exactly one of `for`, `until`, `event`, `events` or `at`"
    ]
