"""The blueprint library: the ten classic flows, each valid with its defaults, filled in
only through safe values."""

from __future__ import annotations

import pytest

from tidings.blueprints import blueprints, find_blueprint, use_blueprint
from tidings.core.problems import Problem

TEN = {
    "welcome",
    "lead_nurture",
    "cart_recovery_sms",
    "post_purchase",
    "win_back",
    "birthday",
    "cross_sell",
    "browse_abandonment",
    "webinar",
    "nps",
}


def test_the_ten_classic_flows_are_there() -> None:
    assert set(blueprints()) == TEN


@pytest.mark.parametrize("name", sorted(TEN))
def test_each_blueprint_is_one_valid_workflow_with_its_defaults(name: str) -> None:
    used = use_blueprint(blueprints()[name], {})
    assert used.workflow is not None and used.problems == [], [str(p) for p in used.problems]
    assert used.workflow.id == name


def test_values_change_the_workflow() -> None:
    used = use_blueprint(blueprints()["webinar"], {"key": "spring_talk", "remind_before": "2h"})
    assert used.workflow is not None and used.workflow.id == "spring_talk"
    assert 'at: "trigger.starts_at - 2h"' in used.source


@pytest.mark.parametrize(
    ("values", "message"),
    [
        # A misspelt parameter is named, with the closest one.
        (
            {"remind_befor": "2h"},
            "webinar has no parameter 'remind_befor' (did you mean remind_before?)",
        ),
        # A value that would end its string and change the document is refused.
        ({"key": 'x"\nsteps: []'}, "cannot be used"),
        # Liquid code cannot be smuggled into a template.
        ({"key": "{{ contact.email }}"}, "cannot be used"),
    ],
)
def test_unsafe_or_unknown_values_are_refused(values: dict[str, str], message: str) -> None:
    used = use_blueprint(blueprints()["webinar"], values)
    assert used.workflow is None and used.source == ""
    assert any(message in str(p) for p in used.problems), [str(p) for p in used.problems]


def test_a_value_that_makes_the_workflow_invalid_is_reported_with_its_path() -> None:
    used = use_blueprint(blueprints()["welcome"], {"first_gap": "two days"})
    assert used.workflow is None
    assert any(p.path.startswith("steps[1]") for p in used.problems), used.problems


def test_an_unknown_blueprint_suggests_the_closest() -> None:
    found = find_blueprint("welcom")
    assert isinstance(found, Problem) and found.hint == "did you mean welcome?"
