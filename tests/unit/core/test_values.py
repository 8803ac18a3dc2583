"""The JSON gate: what cannot be stored and read back is named, with its path."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tidings.core import validate_workflow
from tidings.core.scoring import parse_scoring
from tidings.core.values import MAX_DEPTH, MAX_PARTS, scrubbed, unstorable


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": [value]}
    return value


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        # Non-finite numbers: what json.loads makes of NaN, Infinity and 1e400.
        ({"total": float("nan")}, "batch[3].total", "not a finite number"),
        ({"total": json.loads("1e400")}, "batch[3].total", "not a finite number"),
        ({"x": [1, float("-inf")]}, "batch[3].x[1]", "not a finite number"),
        # Integers no double holds exactly.
        ({"n": 2**53 + 1}, "batch[3].n", "number beyond"),
        ({"n": -(10**30)}, "batch[3].n", "number beyond"),
        # Text no database keeps: NUL, lone surrogates (as JSON escapes or CESU-8 give).
        ({"s": "a\x00b"}, "batch[3].s", "NUL"),
        ({"s": json.loads('"\\ud800"')}, "batch[3].s", "lone surrogate"),
        ({"s": json.loads(b'"\xed\xa0\x80"')}, "batch[3].s", "lone surrogate"),
        ({"k\udc00": 1}, "batch[3].'k\\udc00'", "the key contains a lone surrogate"),
    ],
)
def test_each_bad_part_is_named_with_its_path(value: Any, path: str, message: str) -> None:
    [problem] = unstorable(value, "batch[3]")
    assert problem.path == path
    assert message in problem.message


def test_deep_nesting_is_refused_without_recursion() -> None:
    # Far past Python's recursion limit: the walk is a loop.
    problems = unstorable(_nested(5000), "body")
    assert len(problems) == 1
    assert f"deeper than {MAX_DEPTH}" in problems[0].message
    assert problems[0].path.startswith("body.a[0].a[0]")


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert unstorable(_nested(MAX_DEPTH // 2 - 1)) == []


def test_problems_are_capped() -> None:
    problems = unstorable([float("nan")] * 100, "x")
    assert len(problems) == 21
    assert problems[-1].message.startswith("more problems")


def _laughs(levels: int) -> str:
    """A workflow whose update step sets a list of lists of ... each of ten aliases of the
    level below: a few hundred bytes of YAML that read as 10**levels strings."""
    anchors = ['  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    anchors += [f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return (
        "laughs:\n" + "\n".join(anchors) + f"\n  - &top [*l{levels - 1}]\n"
        "id: w\nname: W\ntrigger: {event: signed_up}\n"
        "steps: [{id: u, type: update, set: {plan: *top}}]\n"
    )


@pytest.mark.parametrize(
    ("plan", "path"),
    [
        # Bytes that are no UTF-8, NUL, a CESU-8 surrogate: each once a 500 at deploy.
        ("!!binary /w==", "steps[0].set.plan"),
        ("!!binary AA==", "steps[0].set.plan"),
        ("!!binary 7aCA", "steps[0].set.plan"),
        ("{!!binary /w==: a}", "steps[0].set.plan.b'\\xff'"),
        # A set's members pass the gate like a list's
        ('!!set {"a\\0": null}', "steps[0].set.plan[0]"),
    ],
)
def test_yaml_binary_data_and_sets_pass_the_gate(plan: str, path: str) -> None:
    source = (
        "id: w\nname: W\ntrigger: {event: signed_up}\n"
        f"steps: [{{id: u, type: update, set: {{plan: {plan}}}}}]\n"
    )
    workflow, problems = validate_workflow(yaml.safe_load(source))
    assert workflow is None
    assert [p.path for p in problems] == [path]


def test_a_yaml_document_whose_aliases_multiply_is_refused_for_its_size() -> None:
    document = yaml.safe_load(_laughs(6))
    workflow, problems = validate_workflow(document)
    assert workflow is None
    assert [p.message for p in problems] == [
        f"holds more than {MAX_PARTS:,} values (each use of a YAML alias counts)"
    ]


def test_values_up_to_the_part_limit_are_walked() -> None:
    assert unstorable(["x"] * (MAX_PARTS - 1)) == []
    assert unstorable(["x"] * MAX_PARTS)[0].message.startswith("holds more than")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_a_value_without_problems_round_trips_through_strict_json(value: Any) -> None:
    if unstorable(value):
        return
    text = json.dumps(value, allow_nan=False)
    text.encode("utf-8")
    assert json.loads(text) == value


@given(JSON_VALUES)
def test_scrubbed_values_always_pass_the_gate_but_depth(value: Any) -> None:
    clean = scrubbed(value)
    assert unstorable(clean) == []
    json.dumps(clean, allow_nan=False).encode("utf-8")


def test_scrubbed_replaces_bad_text_and_numbers() -> None:
    stored = {
        "name": "A\ud800\x00",
        "total": math.inf,
        "deep": _nested(200),
        "ok": [1, "x"],
        "id": 2**70,
    }
    clean = scrubbed(stored)
    assert clean["name"] == "A\ufffd\ufffd"
    assert clean["total"] is None
    assert clean["id"] == str(2**70)
    assert clean["ok"] == [1, "x"]
    assert unstorable(clean) == []


@pytest.mark.parametrize(
    "value",
    [
        # What YAML gives for .nan and .inf, a "\ud800" escape, NUL, and a huge number.
        float("nan"),
        float("inf"),
        "x\ud800",
        "x\x00",
        10**30,
    ],
)
def test_a_workflow_holding_what_cannot_be_stored_gets_a_problem_with_its_path(
    value: Any,
) -> None:
    # An update step's `set` takes any value, so nothing else would refuse these.
    document = {
        "id": "w",
        "name": "W",
        "trigger": {"event": "signed_up"},
        "steps": [{"id": "u", "type": "update", "set": {"plan": value}}],
    }
    workflow, problems = validate_workflow(document)
    assert workflow is None
    assert [p.path for p in problems] == ["steps[0].set.plan"]


@pytest.mark.parametrize("points", [float("nan"), float("inf"), 10**30])
def test_a_scoring_document_holding_what_cannot_be_stored_gets_a_problem(points: Any) -> None:
    document = {"scores": {"engagement": {"rules": [{"id": "o", "event": "e", "points": points}]}}}
    scoring, problems = parse_scoring(document)
    assert scoring is None
    assert [p.path for p in problems] == ["scores.engagement.rules[0].points"]
