"""An event arrives: who enters, who resumes, who converts, who leaves."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tidings.core.advance import exit_rule_met
from tidings.core.conditions import Facts, evaluate, parse_condition, parse_field
from tidings.core.conditions.evaluate import resolve
from tidings.core.effects import Resume, Save, Start, StepLogEntry, Transition
from tidings.core.entry import LiveVersion, Refused, enter
from tidings.core.spec import (
    EventTrigger,
    FormTrigger,
    Reentry,
    ScoreTrigger,
    SegmentTrigger,
    Trigger,
    WaitStep,
    Workflow,
)
from tidings.core.state import ContactView, EnrollmentState, EnrollmentStatus, EventView, WaitKind
from tidings.core.steps.base import end, go_to

#: Events older than this (historical imports, late retries) are stored but start no journey.
DEFAULT_TRIGGER_HORIZON = timedelta(days=1)


@dataclass(frozen=True)
class Reacted:
    """What an event changed: enrollments to start, resume or save, and the log lines."""

    transitions: tuple[Transition, ...]
    decisions: tuple[StepLogEntry, ...]


def react(
    event: EventView,
    contact: ContactView,
    live: Sequence[LiveVersion],
    enrollments: Sequence[tuple[Workflow, EnrollmentState]],
    now: datetime,
    trigger_horizon: timedelta = DEFAULT_TRIGGER_HORIZON,
) -> Reacted:
    """Apply one event to one contact.

    Args:
        event: the event, already stored.
        contact: the contact after the event's profile changes.
        live: the workflows that are active now, at their current versions.
        enrollments: every enrollment of this contact, open or closed, with its version's spec.
        now: the time of processing.
        trigger_horizon: how old an event may be and still start a journey.
    """
    transitions: list[Transition] = []
    decisions: list[StepLogEntry] = []
    states: list[EnrollmentState] = []
    converting = _goal_journeys(event, contact, enrollments)
    for index, (workflow, state) in enumerate(enrollments):
        new_state, lines = _touch(workflow, state, contact, event, now, index in converting)
        decisions += lines
        if new_state is not state:
            resumed = new_state.status is EnrollmentStatus.ACTIVE
            transitions.append(Resume(new_state) if resumed else Save(new_state))
        states.append(new_state)

    if event.occurred_at >= now - trigger_horizon:
        for deployed in live:
            trigger = deployed.workflow.trigger
            if not _starts(trigger, event):
                continue
            outcome = _start(deployed, trigger, contact, event, states, now)
            if isinstance(outcome, Refused):
                decisions.append(outcome.decision)
                continue
            transitions.append(outcome)
            states.append(outcome.state)
    return Reacted(tuple(transitions), tuple(decisions))


def _starts(trigger: Trigger, event: EventView) -> bool:
    """Whether this event is the kind that starts the workflow (its `where` aside)."""
    if isinstance(trigger, EventTrigger):
        return trigger.event == event.name
    if isinstance(trigger, SegmentTrigger):
        return trigger.event == event.name and event.properties.get("segment") == trigger.segment
    if isinstance(trigger, FormTrigger):
        return trigger.event == event.name and event.properties.get("form") == trigger.form
    if isinstance(trigger, ScoreTrigger):
        return (
            event.name == "score_crossed"
            and event.properties.get("threshold") == trigger.threshold
            and event.properties.get("direction") == trigger.direction
        )
    return False


def _facts(
    contact: ContactView, event: Mapping[str, Any], trigger: EventView | None, now: datetime
) -> Facts:
    return Facts(
        contact=contact.fields(),
        event=event,
        consent=contact.consent,
        trigger=trigger.properties if trigger else {},
        history=contact.history,
        measures=contact.measures,
        now=now,
    )


def _start(
    deployed: LiveVersion,
    trigger: Trigger,
    contact: ContactView,
    event: EventView,
    states: Sequence[EnrollmentState],
    now: datetime,
) -> Start | Refused:
    if isinstance(trigger, EventTrigger) and trigger.where is not None:
        facts = _facts(contact, event.properties, event, now)
        if not evaluate(parse_condition(trigger.where), facts):
            why = f"{event.name} did not meet the trigger condition {trigger.where}"
            line = StepLogEntry(
                None, contact.id, None, "not_enrolled", why, workflow_key=deployed.workflow.id
            )
            return Refused(line)
    return enter(deployed, contact, states, now, trigger=event)


def _reaches_goal(
    workflow: Workflow, state: EnrollmentState, contact: ContactView, event: EventView
) -> bool:
    """Whether the event is the goal of this journey, not converted yet, inside the window."""
    goal = workflow.goal
    return (
        goal is not None
        and state.converted_at is None
        and goal.event == event.name
        and state.started_at <= event.occurred_at <= state.started_at + goal.within
        and (
            goal.where is None
            or evaluate(
                parse_condition(goal.where),
                # A goal is reached at the moment of its event.
                _facts(contact, event.properties, state.trigger, event.occurred_at),
            )
        )
    )


def _goal_journeys(
    event: EventView,
    contact: ContactView,
    enrollments: Sequence[tuple[Workflow, EnrollmentState]],
) -> set[int]:
    """The positions in `enrollments` of the journeys this event converts: one order is
    one conversion, so at most one journey per workflow.

    In a per-key workflow whose key the event carries (the order names its cart), that is
    the journey of that key, or none. Otherwise it is the journey that started last.
    """
    chosen: dict[str, int] = {}
    for index, (workflow, state) in enumerate(enrollments):
        if not _reaches_goal(workflow, state, contact, event):
            continue
        key = _key_in(workflow, contact, event)
        if key is not None and state.entry_key != key:
            continue
        best = chosen.get(workflow.id)
        if best is None or (state.started_at, state.id) >= _started(enrollments[best][1]):
            chosen[workflow.id] = index
    return set(chosen.values())


def _started(state: EnrollmentState) -> tuple[datetime, int]:
    return state.started_at, state.id


def _key_in(workflow: Workflow, contact: ContactView, event: EventView) -> str | None:
    """The journey key of a per-key workflow, read from this event; None when the workflow
    has no key or the event does not carry it."""
    if workflow.entry.reentry is not Reentry.PER_KEY or workflow.entry.key is None:
        return None
    facts = _facts(contact, event.properties, event, event.occurred_at)
    value = resolve(parse_field(workflow.entry.key), facts)
    return None if value is None else str(value)


def _touch(
    workflow: Workflow,
    state: EnrollmentState,
    contact: ContactView,
    event: EventView,
    now: datetime,
    converts: bool,
) -> tuple[EnrollmentState, list[StepLogEntry]]:
    """Goal, exit rules and awaited events, in that order, for one existing enrollment;
    `converts` says whether the event is this journey's conversion (see `_goal_journeys`)."""
    facts = _facts(contact, event.properties, state.trigger, now)

    def line(action: str, detail: str, **data: Any) -> StepLogEntry:
        return StepLogEntry(
            state.id, state.contact_id, state.step_id, action, detail, data, state.workflow_key
        )

    lines: list[StepLogEntry] = []
    goal = workflow.goal
    if converts and goal is not None:
        revenue = as_number(event.properties.get(goal.revenue)) if goal.revenue else None
        state = replace(state, converted_at=event.occurred_at, revenue=revenue)
        detail = event.name + (f", revenue {revenue:g}" if revenue is not None else "")
        lines.append(line("converted", detail, revenue=revenue, event_id=event.id))
        if goal.exit and state.status.is_open:
            lines.append(line("exited", f"reached the goal {event.name}"))
            return end(state, EnrollmentStatus.EXITED, f"goal: {event.name}", now), lines
    if not state.status.is_open:
        return state, lines

    for rule in workflow.exit:
        if rule.event == event.name and (
            rule.where is None or evaluate(parse_condition(rule.where), facts)
        ):
            reason = f"exit event: {event.name}"
            return end(state, EnrollmentStatus.EXITED, reason, now), [
                *lines,
                line("exited", reason),
            ]
    met = exit_rule_met(workflow, contact, state, now)
    if met is not None:
        reason = f"exit rule: {met}"
        return end(state, EnrollmentStatus.EXITED, reason, now), [*lines, line("exited", reason)]

    step = workflow.step(state.step_id)
    if (
        isinstance(step, WaitStep)
        and state.wait_kind is WaitKind.EVENT
        and event.occurred_at >= state.started_at
    ):
        found = _awaited_target(workflow, step, event, facts)
        if found is not None:
            target = found[0]
            arrived = line("event_arrived", f"{event.name} -> {target or 'end'}")
            kept = replace(state, awaited={**state.awaited, step.id: event})
            return go_to(kept, target), [*lines, arrived]
    return state, lines


def _awaited_target(
    workflow: Workflow, step: WaitStep, event: EventView, facts: Facts
) -> tuple[str | None] | None:
    """Where this event takes a journey waiting at `step` (a 1-tuple, its target None at
    the workflow's end), or None when the wait is not for it. Of several events, the
    first listed that matches decides."""
    if step.events:
        for option in step.events:
            if option.event == event.name and (
                option.where is None or evaluate(parse_condition(option.where), facts)
            ):
                return (option.next if option.next is not None else workflow.next_of(step),)
        return None
    if step.event == event.name and (
        step.where is None or evaluate(parse_condition(step.where), facts)
    ):
        return (step.on_event if step.on_event is not None else workflow.next_of(step),)
    return None


def as_number(value: Any) -> float | None:
    """A revenue or other amount as a number: numbers and numeric text; None otherwise.

    Text such as "NaN", "Infinity" or "1e400" is no amount: a sum holding one could not be
    reported (JSON has no NaN), so it counts as no amount at all.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
