"""The condition parser is total: any text gives a tree or a syntax error with a column."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.core import validate_workflow
from tidings.core.conditions import parse_condition
from tidings.errors import ConditionSyntaxError

WORDS = [
    "performed", "last", "total", "average", "count", "of", "where", "within", "any",
    "event", "at", "least", "most", "exactly", "more", "than", "times", "ago", "and", "or",
    "not", "in", "contains", "is", "null", "true", "false", "contact.x", "event.v",
    "order_completed", "(", ")", "[", "]", ",", "==", ">", "7d", "3", "1e400", "-2.5",
    '"a"', "'b'", '"\\u0000"', '"\\ud800"', '"\\udfff"', "99999999999999999999w",
]  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
)


def _parse_or_syntax_error(text: str) -> None:
    try:
        parse_condition(text)
    except ConditionSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        str(exc).encode("utf-8")  # the message can be sent in any answer


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_parse_raises_nothing_but_a_syntax_error(text: str) -> None:
    _parse_or_syntax_error(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # A behaviour with nothing after its event name.
        ("performed order_completed exactly", "how many times"),
        ("performed", "event name"),
        ("last order_completed", "more than 60d ago"),
        ("total event.revenue of", "event name"),
        # Nesting past the stack is refused with a message, not a crash.
        ("(" * 2000 + "contact.x", "nested deeper"),
        ("not " * 2000 + "contact.x", "nested deeper"),
        # Literals no database can store or compare.
        ('contact.x == "\\u0000"', "NUL"),
        ('contact.x == "a\\ud800"', "lone surrogate"),
        ("contact.x == '\ud800'", "cannot be stored or compared"),
        ('contact.x == "a\x00"', "cannot be stored or compared"),
        ("contact.x > 1e400", "not a finite number"),
        ("contact.x > 9007199254740993", "number beyond"),
        ("contact.x > " + "9" * 5000, "too long"),
        ("performed x within 99999999999999999999w", "longer than any calendar"),
    ],
)
def test_hostile_conditions_get_a_clear_syntax_error(text: str, reason: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(text)
    assert reason in caught.value.reason
    str(caught.value).encode("utf-8")


def test_performed_with_nothing_after_it_means_at_least_once() -> None:
    assert parse_condition("performed order_completed").event == "order_completed"  # type: ignore[union-attr]


def _workflow(condition: str) -> dict[str, Any]:
    return {
        "id": "w",
        "name": "W",
        "trigger": {"event": "signed_up"},
        "steps": [
            {"id": "b", "type": "branch", "branches": [{"when": condition, "next": "x"}]},
            {"id": "x", "type": "exit"},
        ],
    }


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_validate_workflow_never_raises_on_any_condition(text: str) -> None:
    workflow, problems = validate_workflow(_workflow(text))
    assert workflow is not None or problems
