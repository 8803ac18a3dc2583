"""Forms: their definition, what a submission must hold, and which fields to ask next.

A form is data, like a workflow: fields with types, labels and checks, consent boxes
with the exact wording shown, hidden fields, and what happens after a submission. The
shell renders it, checks the spam guards, and stores what `read_submission` accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from tidings.core.capture import normalize_origin
from tidings.core.model import StrictModel
from tidings.core.problems import Problem

#: The event a submission emits, and what its properties hold besides the fields.
FORM_SUBMITTED = "form_submitted"
SUBMISSION_META = frozenset({"form", "form_version", "page", "source"})
#: The hidden fields a form may carry: where the visitor came from, and the page.
HIDDEN_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "page",
    "referrer",
)
#: The field robots fill and people never see; a submission with it filled is spam.
HONEYPOT = "fax_number"
#: Names the hosted page uses for itself; no field may take them.
RESERVED = SUBMISSION_META | {HONEYPOT, "token"} | set(HIDDEN_FIELDS)
_KEY = r"^[a-z][a-z0-9_]{0,63}$"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()./\-]{5,32}")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")


class FieldType(StrEnum):
    """What a field asks for, and so how it is shown and checked."""

    TEXT = "text"  #: one line
    TEXTAREA = "textarea"  #: several lines
    EMAIL = "email"  #: an email address
    PHONE = "phone"  #: a phone number
    NUMBER = "number"  #: a decimal number
    SELECT = "select"  #: one of `options`
    CHECKBOX = "checkbox"  #: yes or no


class FormField(StrictModel):
    """One question, stored on the profile as the trait of the same key."""

    key: str = Field(pattern=_KEY)
    label: str = Field(min_length=1, max_length=200)
    type: FieldType = FieldType.TEXT
    required: bool = False
    max_length: int = Field(200, ge=1, le=5000)
    #: A regular expression the answer must match whole, and what to tell a person if not.
    pattern: str | None = Field(None, max_length=500)
    pattern_message: str = Field("is not in the expected form", max_length=200)
    options: tuple[str, ...] = ()
    help: str = Field("", max_length=500)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _options_for_select(self) -> FormField:
        if (self.type is FieldType.SELECT) != bool(self.options):
            raise ValueError("a select field lists its options, and only a select field does")
        return self


class ConsentBox(StrictModel):
    """A consent checkbox for one channel (and topic), with the exact wording shown."""

    key: str = Field(pattern=_KEY)
    channel: str = Field(pattern=r"^(email|sms)$")
    topic: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    wording: str = Field(min_length=1, max_length=1000)
    required: bool = False


class FormSpec(StrictModel):
    """A form: its questions, consent boxes, hidden fields, and what follows a submission."""

    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1, max_length=200)
    title: str = Field("", max_length=200)
    submit_label: str = Field("Send", min_length=1, max_length=60)
    fields: tuple[FormField, ...] = Field(min_length=1, max_length=50)
    consents: tuple[ConsentBox, ...] = Field((), max_length=10)
    hidden: tuple[str, ...] = HIDDEN_FIELDS
    thank_you: str = Field("Thank you!", max_length=1000)
    #: Where the visitor goes after submitting, instead of the thank-you message; it must
    #: be on one of the workspace's allowed origins.
    redirect: str | None = Field(None, max_length=2000)
    #: Email consent stays pending until the address is confirmed.
    double_opt_in: bool = False
    #: Ask at most this many of the fields the profile lacks per visit (None: all).
    fields_per_visit: int | None = Field(None, ge=1, le=50)
    #: A person needs at least this long to fill it; faster is a robot.
    min_seconds: float = Field(3.0, ge=0, le=600)

    @field_validator("hidden")
    @classmethod
    def _known_hidden(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [h for h in value if h not in HIDDEN_FIELDS]
        if unknown:
            raise ValueError(f"unknown hidden fields {unknown}; use {', '.join(HIDDEN_FIELDS)}")
        return value

    @model_validator(mode="after")
    def _distinct_keys(self) -> FormSpec:
        keys = [f.key for f in self.fields] + [c.key for c in self.consents]
        twice = sorted({k for k in keys if keys.count(k) > 1} | (set(keys) & RESERVED))
        if twice:
            raise ValueError(f"keys used twice or reserved: {', '.join(twice)}")
        if not any(f.key == "email" for f in self.fields):
            raise ValueError("a form needs an `email` field: it names the contact")
        return self

    def field_names(self) -> frozenset[str]:
        """What its form_submitted event's properties may hold."""
        keys = {f.key for f in self.fields} | {c.key for c in self.consents}
        return frozenset(keys | set(self.hidden) | SUBMISSION_META)


def redirect_problem(redirect: str | None, allowed: Sequence[str]) -> str | None:
    """Why a form may not send people to `redirect`, or None (no open redirects)."""
    if redirect is None:
        return None
    origin = re.match(r"^https?://[^/?#]+", redirect)
    try:
        normalized = normalize_origin(origin.group(0)) if origin else None
    except ValueError:
        normalized = None
    if normalized is None or normalized not in allowed:
        return (
            f"{redirect!r} is not on one of the workspace's allowed_origins "
            f"({', '.join(allowed) or 'none yet'}); add its origin there first"
        )
    return None


def consent_key(box: ConsentBox) -> str:
    """The contact's consent entry a box sets: its topic's, or its channel's."""
    return f"topic:{box.topic}" if box.topic else box.channel


def next_consents(spec: FormSpec, known: frozenset[str]) -> tuple[ConsentBox, ...]:
    """The consent boxes to show a visitor: those for consent their profile does not hold
    (`known` names held consent as `consent:<key>`)."""
    return tuple(box for box in spec.consents if f"consent:{consent_key(box)}" not in known)


def next_fields(spec: FormSpec, known: frozenset[str]) -> tuple[FormField, ...]:
    """The fields to ask a visitor whose profile holds `known`: the ones it lacks, in the
    form's order, `fields_per_visit` at a time. Email is always asked (it names them)."""
    missing = [f for f in spec.fields if f.key == "email" or f.key not in known]
    if spec.fields_per_visit is None:
        return tuple(missing)
    email = [f for f in missing if f.key == "email"]
    others = [f for f in missing if f.key != "email"]
    return tuple(email + others[: spec.fields_per_visit])


@dataclass(frozen=True)
class Submission:
    """What a valid submission gives: the answers, and each consent box ticked."""

    values: dict[str, Any]
    consents: tuple[ConsentBox, ...]


def read_submission(
    spec: FormSpec, asked: Sequence[str], posted: Mapping[str, str]
) -> Submission | list[Problem]:
    """Check the answers to the fields and boxes that were `asked`; every problem, each
    with its field."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for form_field in spec.fields:
        if form_field.key not in asked:
            continue
        value = _check(form_field, posted.get(form_field.key, ""), problems)
        if value is not None:
            values[form_field.key] = value
    ticked = []
    for box in spec.consents:
        if box.key not in asked:
            continue
        if posted.get(box.key) == "yes":
            ticked.append(box)
        elif box.required:
            problems.append(Problem(box.key, "please tick this box to continue"))
    return problems or Submission(values, tuple(ticked))


def _check(form_field: FormField, raw: str, problems: list[Problem]) -> Any:
    label, key = form_field.label, form_field.key
    if form_field.type is FieldType.CHECKBOX:
        return raw == "yes"
    text = raw.strip()
    if not text:
        if form_field.required:
            problems.append(Problem(key, f"{label} is required"))
        return None
    if len(text) > form_field.max_length:
        problems.append(Problem(key, f"{label} is at most {form_field.max_length} characters"))
        return None
    if form_field.type is FieldType.TEXT and ("\n" in text or "\r" in text):
        problems.append(Problem(key, f"{label} is one line"))
        return None
    checks = {FieldType.EMAIL: _EMAIL, FieldType.PHONE: _PHONE, FieldType.NUMBER: _NUMBER}
    check = checks.get(form_field.type)
    if check is not None and check.fullmatch(text) is None:
        problems.append(Problem(key, f"{label} is not a valid {form_field.type.value}"))
        return None
    if form_field.type is FieldType.SELECT and text not in form_field.options:
        problems.append(Problem(key, f"{label}: choose one of the options"))
        return None
    if form_field.pattern is not None and re.fullmatch(form_field.pattern, text) is None:
        problems.append(Problem(key, f"{label} {form_field.pattern_message}"))
        return None
    return float(text) if form_field.type is FieldType.NUMBER else text
