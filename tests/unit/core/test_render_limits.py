"""Every render is bounded: loops, output, variables and the work filters do.

A template runs inside ingest, so a loop over a number that comes in an event must fail
that message quickly instead of holding the database for minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.helpers import contact, event, workflow
from tidings.core import CallWebhook, EnrollmentState, EnrollmentStatus, SendMessage, advance
from tidings.core.render import (
    MAX_LOOP_ITERATIONS,
    MAX_SOURCE_CHARS,
    RenderError,
    TimeLimit,
    limit_problems,
    render,
)
from tidings.core.validate import validate_workflow

#: A string of 2**16 characters, built by doubling (each append stays under the limits).
BIG = "{% assign s = 'x' %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}"


@pytest.mark.parametrize(
    ("source", "data", "reason"),
    [
        # a literal range far beyond the limit, used by a loop
        ("{% for i in (1..100000000) %}x{% endfor %}", {}, "has 100,000,000 items"),
        # `reversed` copies the range before looping
        ("{% for i in (1..100000000) reversed %}x{% endfor %}", {}, "has 100,000,000 items"),
        # the end of the range comes in the event: a public write key sets it
        ("{% for i in (1..event.n) %}x{% endfor %}", {"event": {"n": 10**12}}, "items"),
        # a range assigned to a variable first, then looped over
        (
            "{% assign r = (1..event.n) %}{% for i in r %}x{% endfor %}",
            {"event": {"n": 10**9}},
            "items",
        ),
        # nested loops multiply: 200 x 200
        (
            "{% for i in (1..200) %}{% for j in (1..200) %}{% endfor %}{% endfor %}",
            {},
            "more than 10,000 loop iterations",
        ),
        # loops one after another add up
        (
            "{% for i in (1..6000) %}{% endfor %}{% for i in (1..6000) %}{% endfor %}",
            {},
            "more than 10,000 loop iterations",
        ),
        # a loop over a long list that comes in the event, nested in another
        (
            "{% for i in event.items %}{% for j in event.items %}{% endfor %}{% endfor %}",
            {"event": {"items": list(range(500))}},
            "more than 10,000 loop iterations",
        ),
        # output: 6,000 x 100 bytes
        ("{% for i in (1..6000) %}" + "y" * 100 + "{% endfor %}", {}, "writes more than"),
        # a string that doubles in a loop (append)
        (
            "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}"
            "{% assign s = s | append: s %}{% endfor %}{{ s | size }}",
            {},
            "builds more than",
        ),
        # join of a range with a long separator
        (BIG + "{{ (1..1000) | join: s }}", {}, "a filter builds more than"),
        # join of a range beyond the limit
        ("{{ (1..100000000) | join }}", {}, "has 100,000,000 items"),
        # replace with a long replacement multiplies the text
        (BIG + "{{ s | replace: 'x', s }}", {}, "a filter builds more than"),
        # comparing a long text on every pass of a loop
        (
            BIG + "{% for i in (1..9000) %}{% if s contains 'z' %}{% endif %}{% endfor %}",
            {},
            "reads and builds more than",
        ),
        # sorting a long list from the event over and over
        (
            "{% for i in (1..100) %}{% assign s = event.items | sort | size %}{% endfor %}",
            {"event": {"items": list(range(20000))}},
            "reads and builds more than",
        ),
        # many cheap tags on every pass of a loop
        (
            "{% for i in (1..9000) %}" + "{% if i == 1 %}{% endif %}" * 5 + "{% endfor %}",
            {},
            "renders more than",
        ),
        # a number squared in a loop has more digits than Python writes out
        (
            "{% assign n = event.n %}{% for i in (1..12) %}{% assign n = n | times: n %}"
            "{% endfor %}{{ n }}",
            {"event": {"n": 99999}},
            "arithmetic makes a number of more than 4,300 digits",
        ),
        # the same number as JSON (a webhook body), or in text a filter builds
        (
            "{% assign n = 99999 %}{% for i in (1..12) %}{% assign n = n | times: n %}"
            "{% endfor %}{{ n | json }}{{ n | append: 'x' }}",
            {},
            "arithmetic makes a number",
        ),
    ],
)
def test_a_render_over_a_limit_fails_with_the_limit_named(
    source: str, data: dict[str, Any], reason: str
) -> None:
    with pytest.raises(RenderError, match=reason):
        render(source, data)


def test_the_limits_hold_in_html_templates_too() -> None:
    with pytest.raises(RenderError, match="items"):
        render(
            "{% for i in (1..event.n) %}<p>x</p>{% endfor %}", {"event": {"n": 10**9}}, html=True
        )


def test_each_render_has_its_own_budget() -> None:
    source = "{% for i in (1..6000) %}{% endfor %}"
    assert render(source, {}) == ""
    assert render(source, {}) == ""  # the first render's loops are not carried over


def test_ordinary_templates_render_under_the_limits() -> None:
    # A catalogue email: 100 products with 20 details each, and a tidy range.
    products = [{"name": f"p{i}", "details": [f"d{j}" for j in range(20)]} for i in range(100)]
    source = (
        "Hi {{ contact.first_name | default: 'there' | capitalize }}"
        "{% for p in event.products %}<h2>{{ p.name | upcase }}</h2>"
        "{% for d in p.details %}<li>{{ d | append: '!' }}</li>{% endfor %}{% endfor %}"
        "{% for i in (1..5) %}{{ i }}{% endfor %}{{ event.products | map: 'name' | join: ', ' }}"
    )
    out = render(source, {"contact": {"first_name": "ann"}, "event": {"products": products}})
    assert out.startswith("Hi Ann<h2>P0</h2><li>d0!</li>")
    assert out.count("<li>") == 2000
    assert "12345p0, p1" in out


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('{% include "footer" %}', "{% include %} loads another template"),
        ('{% render "footer" %}', "{% render %} loads another template"),
        ("{% for i in (1..100000000) %}x{% endfor %}", "the range (1..100000000) has"),
        ("{{ (1..20000) | join }}", "the range (1..20000) has 20,000 items"),
        (
            "{% for i in (1..200) %}{% for j in (1..200) %}x{% endfor %}{% endfor %}",
            "nested loops over literal ranges run 40,000 times",
        ),
        ("x" * (MAX_SOURCE_CHARS + 1), "characters, more than"),
    ],
)
def test_what_can_be_known_before_rendering_is_refused(source: str, found: str) -> None:
    problems = limit_problems(source)
    assert any(found in message for message, _ in problems), problems


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in (1..100) %}{% for j in (1..100) %}x{% endfor %}{% endfor %}",
        "{% for i in (1..event.n) %}x{% endfor %}",  # known only when it renders
        "{% for p in event.items %}{% for i in (1..50) %}x{% endfor %}{% endfor %}",
    ],
)
def test_templates_within_the_limits_are_not_refused(source: str) -> None:
    assert limit_problems(source) == []


def _with_text(text: str) -> dict[str, Any]:
    return {
        "id": "w",
        "name": "W",
        "trigger": {"type": "event", "event": "order"},
        "templates": {"t": {"subject": "Hi", "text": text}},
        "steps": [{"id": "s", "type": "send", "template": "t", "kind": "transactional"}],
    }


@pytest.mark.parametrize("tag", ["include", "render"])
def test_a_partial_tag_is_a_validation_problem_with_its_path(tag: str) -> None:
    wf, problems = validate_workflow(_with_text(f'Hello {{% {tag} "footer" %}}'))
    assert wf is None
    (problem,) = problems
    assert problem.path == "templates.t.text"
    assert f"{{% {tag} %}}" in problem.message
    assert problem.hint == "write the shared part into this template"


def test_a_literal_range_beyond_the_limit_is_refused_at_deploy() -> None:
    wf, problems = validate_workflow(_with_text("{% for i in (1..100000000) %}x{% endfor %}"))
    assert wf is None
    assert [p.path for p in problems] == ["templates.t.text"]
    assert f"{MAX_LOOP_ITERATIONS:,}" in problems[0].message


def test_a_send_whose_template_runs_away_is_held_with_the_reason(now: datetime) -> None:
    wf = workflow(
        """
id: t
name: Test
trigger: {event: cart_abandoned}
templates:
  t: {subject: "Hi", text: "{% for i in (1..event.n) %}x{% endfor %}"}
steps:
  - {id: s, type: send, template: t, kind: transactional}
  - {id: w, type: webhook, url: "https://hooks.example/x", body: "{{ event.n }}"}
"""
    )
    state = EnrollmentState(
        id=1,
        workflow_key=wf.id,
        version=1,
        contact_id=1,
        status=EnrollmentStatus.ACTIVE,
        step_id="s",
        entered_at=now,
        trigger=event("cart_abandoned", now, n=10**9),
    )
    result = advance(wf, state, contact(), now)
    held = result.decisions[0]
    assert held.action == "held"
    assert "template error: the range (1..event.n) has 1,000,000,000 items" in held.detail
    assert not any(isinstance(e, SendMessage) for e in result.effects)
    # The journey goes on past the message it could not render.
    assert result.state.status is EnrollmentStatus.COMPLETED


class CountingClock:
    """A clock for `TimeLimit` that moves one second each time it is read: a render with
    a limit of N seconds is stopped at its N-th check, whatever the machine's speed."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


#: A loop of 1,000 passes: about 3,000 nodes, so about 90 checks of the clock.
LONG = "{% for i in (1..1000) %}{% if i == 1 %}{% endif %}{{ i }}{% endfor %}"


def test_a_render_past_its_time_limit_fails_with_the_time_named() -> None:
    clock = CountingClock()
    with pytest.raises(RenderError, match="the template takes more than 5 s to render"):
        render(LONG, {}, time_limit=TimeLimit(5, clock))
    # It stopped at the check after the deadline (the start read, then five checks, then
    # the sixth is past it), long before the loop's end.
    assert clock.reads == 7


def test_a_render_within_its_time_limit_is_left_alone() -> None:
    clock = CountingClock()
    out = render(LONG, {}, time_limit=TimeLimit(1000, clock))
    assert out.endswith("9991000")
    assert 80 < clock.reads < 1000  # read every few dozen nodes, not on each one


def test_a_short_render_past_its_time_limit_fails_too() -> None:
    # Fewer nodes than one check's worth: judged once, when it ends.
    with pytest.raises(RenderError, match=r"more than 0\.5 s"):
        render("Hi {{ contact.first_name }}", {}, time_limit=TimeLimit(0.5, CountingClock()))


def test_a_send_that_renders_past_its_time_limit_is_held_and_the_journey_goes_on(
    now: datetime,
) -> None:
    wf = workflow(
        """
id: t
name: Test
trigger: {event: cart_abandoned}
templates:
  t: {subject: "Hi", text: "{% for i in (1..1000) %}{{ i }}{% endfor %}"}
steps:
  - {id: s, type: send, template: t, kind: transactional}
  - {id: w, type: webhook, url: "https://hooks.example/x", body: "{{ event.n }}"}
"""
    )
    state = EnrollmentState(
        id=1,
        workflow_key=wf.id,
        version=1,
        contact_id=1,
        status=EnrollmentStatus.ACTIVE,
        step_id="s",
        entered_at=now,
        trigger=event("cart_abandoned", now, n=3),
    )
    # Each render gets ten seconds of a clock that moves a second per read: the subject
    # and the webhook body are done in two reads, the 1,000-pass text is not.
    result = advance(wf, state, contact(), now, time_limit=TimeLimit(10, CountingClock()))
    held = result.decisions[0]
    assert held.action == "held"
    assert held.detail == "template error: the template takes more than 10 s to render"
    assert not any(isinstance(e, SendMessage) for e in result.effects)
    assert [e.body for e in result.effects if isinstance(e, CallWebhook)] == ["3"]
    assert result.state.status is EnrollmentStatus.COMPLETED
