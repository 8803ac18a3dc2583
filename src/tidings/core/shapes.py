"""Validation's first pass: what the workflow's models refuse, as problems at document paths.

Pydantic names where it failed in its own terms (`steps.3.wait.for`, `union_tag_invalid`);
this turns each error into the path the author wrote (`steps[3].for`) and a hint, with
"did you mean" for a misspelt field or type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from tidings.core import spec
from tidings.core.pacing import (
    AfterPurchase,
    LooseningError,
    QuietHours,
    WorkflowCap,
    WorkflowPolicies,
)
from tidings.core.problems import Problem, suggest
from tidings.core.steps.checks import as_list

_STEP_MODELS: dict[str, type[BaseModel]] = {
    "send": spec.SendStep,
    "wait": spec.WaitStep,
    "branch": spec.BranchStep,
    "split": spec.SplitStep,
    "update": spec.UpdateStep,
    "webhook": spec.WebhookStep,
    "notify": spec.NotifyStep,
    "approval": spec.ApprovalStep,
    "enroll": spec.EnrollStep,
    "exit": spec.ExitStep,
    "suppress": spec.SuppressStep,
}
_TRIGGER_MODELS: dict[str, type[BaseModel]] = {
    "event": spec.EventTrigger,
    "date": spec.DateTrigger,
    "inactivity": spec.InactivityTrigger,
    "segment": spec.SegmentTrigger,
    "score": spec.ScoreTrigger,
    "form": spec.FormTrigger,
    "enrolled": spec.EnrolledTrigger,
}
#: Builds the workflow model, once the document has no errors.
WORKFLOW = TypeAdapter(spec.Workflow)


def shape_problems(data: Mapping[str, Any]) -> Iterator[Problem]:
    """What the models refuse, each at its path in the document, with a fix where known."""
    try:
        WORKFLOW.validate_python(data)
    except ValidationError as exc:
        for error in exc.errors():
            if tuple(error["loc"]) == ("steps",) and error["type"] == "too_short":
                # Pydantic counts only the steps that validated: a workflow whose one step
                # is wrong is not also "without steps".
                if not as_list(data.get("steps")):
                    yield Problem("steps", "a workflow needs at least one step", "add a step")
                continue
            yield _from_pydantic(data, error)


def _from_pydantic(data: Mapping[str, Any], error: Any) -> Problem:
    path = _path_of(data, error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        allowed = _allowed_keys(error["loc"][:-1], data)
        hint = suggest(name, allowed) or (
            f"expected one of {', '.join(sorted(allowed))}" if allowed else ""
        )
        return Problem(path, f"unknown field {name!r}", hint)
    if kind == "missing":
        return Problem(path, f"missing required field {str(error['loc'][-1])!r}")
    if kind == "union_tag_invalid":
        tag = str(error["input"].get("type")) if isinstance(error["input"], Mapping) else "?"
        choices = _STEP_MODELS if "steps" in error["loc"] else _TRIGGER_MODELS
        hint = suggest(tag, choices) or f"use one of {', '.join(choices)}"
        return Problem(f"{path}.type", f"unknown type {tag!r}", hint)
    if kind == "union_tag_not_found":
        choices = _STEP_MODELS if "steps" in error["loc"] else _TRIGGER_MODELS
        return Problem(path, "missing 'type'", f"use one of {', '.join(choices)}")
    if kind == "string_pattern_mismatch" and path.endswith("id"):
        what = "workflow ids" if path == "id" else "step ids"
        letters = "lowercase letters" if path == "id" else "letters"
        return Problem(
            path, f"{error['input']!r} is not a valid id", f"{what} use {letters}, digits, _ and -"
        )
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, LooseningError):
        return Problem(path, cause.message, cause.hint)
    message = str(error["msg"]).removeprefix("Value error, ")
    return Problem(path, message)


def _path_of(data: Mapping[str, Any], loc: Sequence[Any]) -> str:
    """Turn pydantic's location into `steps[3].branches[0].when`, dropping union tags.

    Pydantic names the member of a tagged union it tried (`steps.3.wait.for`); the document
    has no such level, so the part right after `trigger` or `steps[i]` is skipped.
    """
    path = ""
    current: Any = data
    tag_next = False
    for part in loc:
        if tag_next:
            tag_next = False
            continue
        if isinstance(part, int) and isinstance(current, list) and part < len(current):
            path += f"[{part}]"
            current = current[part]
            tag_next = path.startswith("steps[") and path.count("[") == 1
        elif isinstance(current, Mapping) and part in current:
            path += f".{part}" if path else str(part)
            current = current[part]
            tag_next = path == "trigger" and isinstance(current, Mapping)
        else:
            path += f".{part}" if path else str(part)
            current = None
    return path


def _fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _allowed_keys(loc: Sequence[Any], data: Mapping[str, Any]) -> set[str]:  # noqa: C901 (walks pydantic's error location through the spec's unions)
    """The field names a location accepts, for 'did you mean' hints."""
    parts = [p for p in loc if not isinstance(p, int)]
    raw: Any = data
    for part in loc:
        in_list = isinstance(raw, list) and isinstance(part, int) and part < len(raw)
        if in_list or (isinstance(raw, Mapping) and part in raw):
            raw = raw[part]
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    match parts:
        case []:
            return _fields(spec.Workflow)
        case ["steps", *_] if len(parts) <= 2 and kind in _STEP_MODELS:
            return _fields(_STEP_MODELS[kind])
        case ["trigger", *_] if kind in _TRIGGER_MODELS or kind is None:
            return _fields(_TRIGGER_MODELS[kind or "event"])
        case ["entry"]:
            return _fields(spec.Entry)
        case ["exit"]:
            return _fields(spec.ExitRule)
        case ["goal"]:
            return _fields(spec.Goal)
        case ["templates", _]:
            return _fields(spec.MessageTemplate)
        case ["layout", _]:
            return _fields(spec.Position)
        case ["policies"]:
            return _fields(WorkflowPolicies)
        case ["policies", "frequency_caps"]:
            return _fields(WorkflowCap)
        case ["policies", "quiet_hours"]:
            return _fields(QuietHours)
        case ["policies", "after_purchase"]:
            return _fields(AfterPurchase)
        case ["steps", *_, "branches"]:
            return _fields(spec.BranchRule)
        case ["steps", *_, "paths"]:
            return _fields(spec.SplitPath)
        case ["steps", *_, "variants"]:
            return _fields(spec.Variant)
        case ["steps", *_, "until"]:
            return _fields(spec.UntilTime)
    return set()
