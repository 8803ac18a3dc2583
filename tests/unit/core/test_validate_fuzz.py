"""Validation is total: whatever document it is given, it returns problems, never raises."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.core import validate_workflow

KEYS = st.sampled_from(
    [
        "id",
        "name",
        "type",
        "trigger",
        "event",
        "where",
        "when",
        "steps",
        "next",
        "else",
        "for",
        "until",
        "time",
        "timeout",
        "on_event",
        "template",
        "templates",
        "html",
        "subject",
        "branches",
        "paths",
        "percent",
        "entry",
        "reentry",
        "key",
        "period",
        "goal",
        "within",
        "exit",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "send",
            "wait",
            "branch",
            "split",
            "exit",
            "event",
            "1h",
            "3 days",
            "a",
            "b",
            "contact.x > 1",
            "event.v ==",
            "{{ contact.x }}",
            "{% if %}",
            "per_key",
            "09:00",
        ]
    ),
    st.text(max_size=6),
)
DOCUMENTS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_any_document_gets_problems_not_an_exception(document: Any) -> None:
    workflow, problems = validate_workflow(document)
    assert workflow is not None or problems


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, DOCUMENTS, max_size=8))
def test_any_mapping_with_workflow_keys_is_judged(document: dict[str, Any]) -> None:
    base = {
        "id": "w",
        "name": "W",
        "trigger": {"event": "e"},
        "steps": [{"id": "a", "type": "exit"}],
    }
    workflow, problems = validate_workflow({**base, **document})
    assert workflow is not None or problems
