"""Validate a workflow document: every problem at once, each with its path and a fix.

Three passes over the same raw document, none stopping at the first problem:
the pydantic models (shapes, types, durations: `shapes`), the step graph (`graph`), and the
meaning of conditions and templates against the workspace's schema. The meaning pass
holds the shared checks and the workflow-wide ones; each step type's own checks live
beside its handler in `steps/` and receive the shared ones (`steps.checks.MeaningChecks`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tidings.core import spec
from tidings.core.conditions import parse_condition, parse_field
from tidings.core.conditions.ast import Aggregate, Behaviour, Field, fields_of
from tidings.core.duration import parse_duration
from tidings.core.errors import ConditionSyntaxError
from tidings.core.graph import check_graph
from tidings.core.history import rules_of
from tidings.core.moment import parse_moment
from tidings.core.problems import Problem, suggest
from tidings.core.render import RenderError, compile_template, limit_problems, variables_of
from tidings.core.schema import OPEN_SCHEMA, Schema
from tidings.core.shapes import WORKFLOW, shape_problems
from tidings.core.steps.branch import check_branch
from tidings.core.steps.calls import check_approval, check_enroll, check_templated
from tidings.core.steps.checks import StepCheck, as_list, as_map
from tidings.core.steps.send import check_send
from tidings.core.steps.update import check_update
from tidings.core.steps.wait import check_wait
from tidings.core.values import unstorable

#: A workflow whose journeys can last longer than this should say when contacts leave.
LONG_FLOW = timedelta(days=14)


def validate_workflow(
    data: Any,
    schema: Schema = OPEN_SCHEMA,
    known_workflows: frozenset[str] | None = None,
    known_forms: Mapping[str, frozenset[str]] | None = None,
    seen_events: frozenset[str] | None = None,
) -> tuple[spec.Workflow | None, list[Problem]]:
    """Check a workflow document; return the model (when it has no errors) and every problem.

    `known_forms` maps each form's key to its submission's fields, for form triggers;
    `seen_events` holds the event names the workspace has received lately, so that a
    behaviour rule on an event never seen is a warning with "did you mean".
    """
    if not isinstance(data, Mapping):
        return None, [Problem("", "a workflow is a mapping with id, name, trigger and steps")]
    if unstorable_parts := unstorable(data):
        # The spec is stored as JSON: what cannot be stored is refused before anything
        # else reads it (YAML's .nan, "\ud800" escapes, NUL).
        return None, unstorable_parts
    problems = list(shape_problems(data))
    problems += check_graph(as_list(data.get("steps")))
    problems += _MeaningChecks(data, schema, known_workflows, known_forms, seen_events).run()
    unique = list(dict.fromkeys(problems))
    errors = [p for p in unique if p.severity == "error"]
    workflow = None if errors else WORKFLOW.validate_python(data)
    return workflow, unique


# ---------------------------------------------------------------- pass 3: meaning


class _MeaningChecks:
    """Conditions, fields, templates and consent, checked against the schema: the shared
    checks every step's own receive (`MeaningChecks`), and the workflow-wide ones."""

    def __init__(
        self,
        data: Mapping[str, Any],
        schema: Schema,
        known: frozenset[str] | None,
        forms: Mapping[str, frozenset[str]] | None = None,
        seen_events: frozenset[str] | None = None,
    ) -> None:
        self.data = data
        self.schema = schema
        self.known_workflows = known
        self.seen_events = seen_events
        self.problems: list[Problem] = []
        trigger = as_map(data.get("trigger"))
        self.trigger_type = trigger.get("type", "event")
        self.trigger_event = trigger.get("event") if self.trigger_type == "event" else None
        if self.trigger_type == "form":
            self.trigger_event = "form_submitted"
            form = trigger.get("form")
            if forms is not None and isinstance(form, str):
                if form in forms:
                    # trigger.* and event.* read this form's own fields.
                    events = {**schema.events, "form_submitted": forms[form]}
                    self.schema = dataclasses.replace(schema, events=events)
                else:
                    self.add(
                        "trigger.form",
                        f"no form {form!r} in this workspace",
                        suggest(form, forms) or "define it first: PUT /api/forms/KEY",
                    )

    def add(self, path: str, message: str, hint: str = "", severity: str = "error") -> None:
        self.problems.append(
            Problem(path, message, hint, "warning" if severity == "warning" else "error")
        )

    def run(self) -> list[Problem]:  # noqa: C901 (the list of every check, in the order users read them)
        data = self.data
        trigger = as_map(data.get("trigger"))
        if self.trigger_event is not None:
            self.event_name("trigger.event", self.trigger_event)
        if isinstance(trigger.get("where"), str):
            self.condition("trigger.where", trigger["where"], event=self.trigger_event)
        if self.trigger_type == "inactivity" and isinstance(trigger.get("event"), str):
            self.event_name("trigger.event", trigger["event"])
        if self.trigger_type == "date" and isinstance(trigger.get("field"), str):
            self.contact_field("trigger.field", trigger["field"])
        entry = as_map(data.get("entry"))
        if isinstance(entry.get("when"), str):
            self.condition("entry.when", entry["when"], event=self.trigger_event)
        if isinstance(entry.get("key"), str):
            self.field_path("entry.key", entry["key"], event=self.trigger_event)
        if self.trigger_type == "date" and entry.get("reentry", "once") == "once":
            self.add(
                "entry.reentry",
                "a date trigger with reentry: once fires in the first year only",
                "use reentry: period with period: 300d",
                "warning",
            )
        for i, rule in enumerate(as_list(data.get("exit"))):
            rule = as_map(rule)
            if isinstance(rule.get("event"), str):
                self.event_name(f"exit[{i}].event", rule["event"])
            if isinstance(rule.get("where"), str):
                self.condition(f"exit[{i}].where", rule["where"], event=rule.get("event"))
            if isinstance(rule.get("when"), str):
                self.condition(f"exit[{i}].when", rule["when"], event=self.trigger_event)
        goal = as_map(data.get("goal"))
        if isinstance(goal.get("event"), str):
            self.event_name("goal.event", goal["event"])
            if isinstance(goal.get("where"), str):
                self.condition("goal.where", goal["where"], event=goal["event"])
            if isinstance(goal.get("revenue"), str):
                self.event_property("goal.revenue", goal["event"], goal["revenue"])
        self.templates()
        for i, step in enumerate(as_list(data.get("steps"))):
            if isinstance(step, Mapping):
                self.step(f"steps[{i}]", step)
        self.long_flow()
        self.layout()
        return self.problems

    def layout(self) -> None:
        """Positions of steps that no longer exist: harmless, but worth cleaning up."""
        steps = [s for s in as_list(self.data.get("steps")) if isinstance(s, Mapping)]
        # An id may be any YAML value here (a list is not hashable): keep the strings.
        names = {s["id"] for s in steps if isinstance(s.get("id"), str)} | {"trigger"}
        for key in as_map(self.data.get("layout")):
            if key not in names:
                hint = suggest(str(key), names) or "remove it; the position is not used"
                self.add(f"layout.{key}", f"no step {key!r} to place", hint, "warning")

    # -- fields

    def event_name(self, path: str, name: str) -> None:
        if self.schema.events and name not in self.schema.events:
            hint = suggest(name, self.schema.events) or "add it to the schema's events"
            self.add(path, f"unknown event {name!r}", hint)

    def seen_event(self, path: str, name: str) -> None:
        """A rule on an event the workspace has not received lately: likely misspelt, but
        perhaps not sent yet, so a warning."""
        seen = self.seen_events
        if not seen or name in seen or (self.schema.events and name in self.schema.events):
            return
        hint = suggest(name, seen) or "check the name your site or app sends"
        self.add(path, f"no {name!r} event has been received lately", hint, "warning")

    def event_property(self, path: str, event: str | None, prop: str, shown: str = "") -> None:
        shown = shown or prop
        if event is None:
            self.add(
                path,
                f"{shown} has no event to read here",
                "this workflow's trigger is not an event",
            )
            return
        props = self.schema.events.get(event)
        if props is not None and prop not in props:
            hint = (
                suggest(prop, props) or f"{event} has {', '.join(sorted(props)) or 'no properties'}"
            )
            self.add(path, f"unknown field {shown} (the {event} event has no {prop!r})", hint)

    def contact_field(self, path: str, name: str, shown: str = "") -> None:
        if self.schema.strict and name not in self.schema.contact_fields:
            hint = (
                suggest(name, self.schema.contact_fields) or "add it to the schema's contact fields"
            )
            self.add(path, f"unknown field {shown or 'contact.' + name}", hint)

    def check_field(self, path: str, ref: Field, event: str | None) -> None:
        head = ref.path[0]
        match ref.root:
            case "contact":
                self.contact_field(path, head, str(ref))
            case "event":
                self.event_property(path, event, head, str(ref))
            case "trigger":
                self.event_property(path, self.trigger_event, head, str(ref))
            case "steps":
                self.awaited_field(path, ref)
            case "consent":
                known = self.schema.consent | {f"topic:{t}" for t in self.schema.topics}
                if head not in known:
                    self.add(
                        path,
                        f"unknown consent channel {head!r}",
                        suggest(head, known) or f"use {', '.join(sorted(known))}",
                    )

    def awaited_field(self, path: str, ref: Field) -> None:
        """`steps.<id>.event.<property>`: the event that ended the wait step <id>."""
        # A wait for one event names it; a wait for any of several reads whichever came.
        waits: dict[str, str | None] = {
            str(s.get("id")): str(s["event"]) if s.get("event") else None
            for s in as_list(self.data.get("steps"))
            if isinstance(s, Mapping)
            and s.get("type") == "wait"
            and (s.get("event") or s.get("events"))
        }
        step = ref.path[0]
        if step not in waits:
            hint = suggest(step, waits) or (
                f"waits for an event here: {', '.join(sorted(waits))}" if waits else ""
            )
            self.add(path, f"{ref}: {step!r} is not a step that waits for an event", hint)
            return
        if len(ref.path) < 3 or ref.path[1] != "event":
            self.add(
                path,
                f"{ref} names no property of the awaited event",
                f"write steps.{step}.event.<property>, like steps.{step}.event.id",
            )
            return
        if waits[step] is not None:
            self.event_property(path, waits[step], ref.path[2], str(ref))

    def moment(self, path: str, text: str) -> None:
        """A wait's `at`: its field is checked like a condition's (its form by the model)."""
        try:
            found = parse_moment(text)
        except (ValueError, ConditionSyntaxError):
            return  # the model's own check names the mistake
        if found.anchor is not None:
            self.check_field(path, found.anchor, self.trigger_event)

    def condition(self, path: str, text: str, event: str | None) -> None:
        try:
            cond = parse_condition(text)
        except ConditionSyntaxError as exc:
            self.add(path, f"{exc.reason} at column {exc.position + 1} of {text!r}")
            return
        for ref in fields_of(cond):
            self.check_field(path, ref, event)
        for rule in rules_of(cond):
            self.behaviour(path, rule)

    def behaviour(self, path: str, rule: Behaviour) -> None:
        """A rule on the contact's past: its event is one the workspace knows, and its
        property and `where` read that event's properties (`trigger.*` is the journey's
        trigger). The parser has already named a window that is not a duration."""
        if rule.event is not None:
            self.event_name(path, rule.event)
            self.seen_event(path, rule.event)
        if rule.aggregate is not Aggregate.COUNT and rule.event is not None:
            self.event_property(path, rule.event, rule.prop[0], ".".join(("event", *rule.prop)))
        if rule.where is not None:
            for ref in fields_of(rule.where):
                if ref.root == "event" and rule.event is None:
                    continue  # any event: its properties are unknown
                self.check_field(path, ref, rule.event)

    def field_path(self, path: str, text: str, event: str | None) -> None:
        try:
            ref = parse_field(text)
        except ConditionSyntaxError as exc:
            self.add(path, exc.reason)
            return
        self.check_field(path, ref, event)

    # -- templates

    def liquid(self, path: str, source: str, event: str | None) -> None:
        try:
            compile_template(source)
        except RenderError as exc:
            self.add(path, f"Liquid syntax error: {exc}")
            return
        for message, hint in limit_problems(source):
            self.add(path, message, hint)
        for var in variables_of(source):
            if len(var) < 2:
                if var[0] in ("contact", "event", "trigger", "workflow", "steps"):
                    continue
                self.add(
                    path,
                    f"unknown variable {var[0]!r}",
                    "templates see contact, event, trigger, steps and workflow",
                )
                continue
            if var[0] in ("contact", "event", "trigger", "steps"):
                self.check_field(path, Field(var[0], var[1:]), event)
            elif var[0] != "workflow":
                self.add(
                    path,
                    f"unknown variable {'.'.join(var)}",
                    "templates see contact, event, trigger, steps and workflow",
                )

    def templates(self) -> None:
        for name, template in as_map(self.data.get("templates")).items():
            for part in ("subject", "html", "text"):
                source = as_map(template).get(part)
                if isinstance(source, str):
                    self.liquid(f"templates.{name}.{part}", source, self.trigger_event)

    # -- steps

    def step(self, path: str, step: Mapping[str, Any]) -> None:
        check = _STEP_CHECKS.get(str(step.get("type")))
        if check is not None:
            check(self, path, step)

    def long_flow(self) -> None:
        """Long journeys with no way to leave keep messaging people who already bought."""
        if self.data.get("exit") or (
            as_map(self.data.get("goal")).get("exit", True) and self.data.get("goal")
        ):
            return
        total = timedelta()
        for step in as_list(self.data.get("steps")):
            step = as_map(step)
            for key in ("for", "timeout"):
                if isinstance(step.get(key), str):
                    with contextlib.suppress(ValueError):
                        total += parse_duration(step[key])
        if total > LONG_FLOW:
            self.add(
                "exit",
                f"journeys here can last {total.days} days and nothing takes contacts out",
                "add exit: rules (a purchase, an unsubscribe) or a goal",
                "warning",
            )


#: The meaning checks of each step type, beside its handler in `steps/` (the other types
#: have none beyond their model).
_STEP_CHECKS: dict[str, StepCheck] = {
    "send": check_send,
    "branch": check_branch,
    "wait": check_wait,
    "update": check_update,
    "webhook": check_templated,
    "notify": check_templated,
    "approval": check_approval,
    "enroll": check_enroll,
}
