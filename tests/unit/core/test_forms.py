"""Forms in the core: definitions, submissions, progressive profiling, the form trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tests.helpers import contact, event, workflow
from tidings.core import LiveVersion, Start, react
from tidings.core.forms import (
    FormSpec,
    Submission,
    next_consents,
    next_fields,
    read_submission,
    redirect_problem,
)
from tidings.core.validate import validate_workflow

SPEC: dict[str, Any] = {
    "key": "demo",
    "name": "Book a demo",
    "fields": [
        {"key": "email", "label": "Email", "type": "email", "required": True},
        {"key": "first_name", "label": "First name", "required": True},
        {"key": "company", "label": "Company"},
        {"key": "seats", "label": "Seats", "type": "number"},
        {"key": "plan", "label": "Plan", "type": "select", "options": ["basic", "pro"]},
        {"key": "vat", "label": "VAT id", "pattern": "[A-Z]{2}[0-9]{6,12}"},
    ],
    "consents": [
        {"key": "news", "channel": "email", "wording": "Send me news."},
        {"key": "deals", "channel": "email", "topic": "deals", "wording": "Deals too."},
    ],
    "fields_per_visit": 2,
}
FORM = FormSpec.model_validate(SPEC)
ALL = [f.key for f in FORM.fields] + ["news", "deals"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": [{"key": "name", "label": "Name"}]}, "needs an `email` field"),  # no email
        ({"fields": [*SPEC["fields"], {"key": "page", "label": "P"}]}, "reserved"),  # hidden name
        # the honeypot's name
        ({"fields": [*SPEC["fields"], {"key": "fax_number", "label": "F"}]}, "reserved"),
        ({"fields": [{"key": "email", "label": "E", "type": "select"}]}, "options"),  # no options
        ({"fields": [{"key": "email", "label": "E", "pattern": "("}]}, "regular expression"),
        ({"hidden": ["utm_source", "cookie"]}, "unknown hidden"),  # not a hidden field
    ],
)
def test_a_bad_definition_says_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FormSpec.model_validate({**SPEC, **change})


@pytest.mark.parametrize(
    ("posted", "problems"),
    [
        ({"email": "a@b.example", "first_name": "A"}, []),  # the least that passes
        ({"email": "a@b", "first_name": "A"}, ["email"]),  # no domain
        ({"email": "a@b.example"}, ["first_name"]),  # required left out
        ({"email": "a@b.example", "first_name": " "}, ["first_name"]),  # blank is empty
        ({"email": "a@b.example", "first_name": "A\nB"}, ["first_name"]),  # one line
        ({"email": "a@b.example", "first_name": "A", "seats": "ten"}, ["seats"]),
        ({"email": "a@b.example", "first_name": "A", "plan": "gold"}, ["plan"]),
        ({"email": "a@b.example", "first_name": "A", "vat": "12"}, ["vat"]),
        ({"email": "a@b.example", "first_name": "A" * 201}, ["first_name"]),  # too long
    ],
)
def test_submissions_are_checked_field_by_field(
    posted: dict[str, str], problems: list[str]
) -> None:
    result = read_submission(FORM, ALL, posted)
    found = [] if isinstance(result, Submission) else [p.path for p in result]
    assert found == problems


def test_only_the_fields_asked_are_read_and_boxes_ticked_are_kept() -> None:
    posted = {"email": "a@b.example", "company": "sneaked in", "news": "yes", "deals": "yes"}
    result = read_submission(FORM, ["email", "news"], posted)
    assert isinstance(result, Submission)
    assert result.values == {"email": "a@b.example"}
    assert [b.key for b in result.consents] == ["news"]


def test_a_returning_visitor_gets_the_next_fields_in_order() -> None:
    def keys(known: set[str]) -> list[str]:
        return [f.key for f in next_fields(FORM, frozenset(known))]

    assert keys(set()) == ["email", "first_name", "company"]
    assert keys({"email", "first_name", "company"}) == ["email", "seats", "plan"]
    assert keys({"email", "first_name", "company", "seats", "plan", "vat"}) == ["email"]
    given = next_consents(FORM, frozenset({"consent:email"}))
    assert [b.key for b in given] == ["deals"]


@pytest.mark.parametrize(
    ("redirect", "ok"),
    [
        ("https://shop.example/thanks", True),
        ("https://shop.example.evil.example/", False),  # a look-alike host
        ("https://evil.example/?https://shop.example", False),  # the origin only in the query
        ("//evil.example/", False),  # scheme-relative
        ("javascript:alert(1)", False),
    ],
)
def test_redirects_only_go_to_allowed_origins(redirect: str, ok: bool) -> None:
    assert (redirect_problem(redirect, ("https://shop.example",)) is None) is ok


FOLLOW_UP = """
id: follow_up
name: Follow up
trigger: {type: form, form: demo}
entry: {when: 'trigger.plan = "pro"'}
steps:
  - {id: bye, type: exit}
"""


def test_a_form_trigger_starts_on_its_own_forms_submissions(now: datetime) -> None:
    wf = workflow(FOLLOW_UP)
    live = [LiveVersion(wf, 1)]
    other = react(event("form_submitted", now, form="other", plan="pro"), contact(), live, [], now)
    assert other.transitions == ()
    mine = react(event("form_submitted", now, form="demo", plan="pro"), contact(), live, [], now)
    assert [type(t) for t in mine.transitions] == [Start]


def test_the_validator_knows_each_forms_fields() -> None:
    forms = {"demo": FORM.field_names()}
    _, problems = validate_workflow(yaml.safe_load(FOLLOW_UP), known_forms=forms)
    assert [p for p in problems if p.severity == "error"] == []
    typo = FOLLOW_UP.replace("trigger.plan", "trigger.plna")
    _, problems = validate_workflow(yaml.safe_load(typo), known_forms=forms)
    assert any("did you mean plan?" in p.hint for p in problems), problems
