"""What a dry run found: per workflow and step, and what never happened (coverage).

Built from the scratch database's counts (storage/dry_runs.py `Tally`) and the workflows'
specs. The same model is printed by the CLI, returned by the API and saved as JSON.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel, Field

from tidings.core.problems import suggest
from tidings.core.spec import (
    BranchStep,
    EventTrigger,
    FormTrigger,
    InactivityTrigger,
    SegmentTrigger,
    SplitStep,
    Workflow,
)
from tidings.storage.dry_runs import Tally

#: How many of the most frequent events a never-fired warning names.
TOP_EVENTS = 5


class ArmSummary(BaseModel):
    """One arm of a branch or path of a split, and how many journeys took it."""

    arm: str
    label: str
    taken: int


class StepSummary(BaseModel):
    """What happened at one step."""

    step_id: str
    kind: str
    reached: int = 0
    sent: int = 0
    #: Messages still queued when the run ended (deferred past its end, or not yet due).
    queued: int = 0
    #: Deferrals and drops by the policy rule that made them (quiet_hours, cap, consent...).
    deferred: dict[str, int] = Field(default_factory=dict)
    dropped: dict[str, int] = Field(default_factory=dict)
    #: Messages the step did not queue (no consent, no address), by rule or reason.
    held: dict[str, int] = Field(default_factory=dict)
    arms: list[ArmSummary] = Field(default_factory=list)


class WorkflowSummary(BaseModel):
    """One workflow's run: who entered, what each step did, what never ran."""

    key: str
    name: str
    trigger: str
    entered: int
    steps: list[StepSummary]
    never_reached: list[str]
    arms_never_taken: list[str]


class DryRunSummary(BaseModel):
    """A whole dry run."""

    source: str
    contacts: int
    events: int
    rejected: int = 0
    started_at: datetime
    ended_at: datetime
    workflows: list[WorkflowSummary]
    #: The most frequent events replayed, most frequent first.
    top_events: dict[str, int]
    warnings: list[str]


def describe_trigger(workflow: Workflow) -> str:
    """The trigger in a few words."""
    t = workflow.trigger
    if isinstance(t, EventTrigger):
        return f"event {t.event}" + (f" where {t.where}" if t.where else "")
    if isinstance(t, FormTrigger):
        return f"form {t.form} submitted"
    if isinstance(t, SegmentTrigger):
        return f"segment {t.segment} {'entered' if t.direction == 'enter' else 'left'}"
    if isinstance(t, InactivityTrigger):
        return f"no {t.event or 'event'} for {t.for_}"
    return t.type


def summarize(workflow: Workflow, found: Tally) -> WorkflowSummary:
    """One workflow's figures and coverage from the run's counts."""
    key = workflow.id
    steps: list[StepSummary] = []
    untaken: list[str] = []
    for step in workflow.steps:
        where = (key, step.id)
        summary = StepSummary(
            step_id=step.id,
            kind=step.type,
            reached=found.reached[where],
            sent=found.sent[where],
            queued=found.queued[where],
            deferred=dict(found.deferred.get(where, Counter())),
            dropped=dict(found.dropped.get(where, Counter())),
            held=dict(found.held.get(where, Counter())),
        )
        taken = found.arms.get(where, Counter())
        labels: list[tuple[str, str]] = []
        if isinstance(step, BranchStep):
            labels = [
                (str(n), f"{rule.when} -> {rule.next}") for n, rule in enumerate(step.branches, 1)
            ]
            labels.append(("else", f"else -> {step.else_ or workflow.next_of(step) or 'end'}"))
        elif isinstance(step, SplitStep):
            labels = [(p.name, f"{p.percent:g}% -> {p.next}") for p in step.paths]
        summary.arms = [ArmSummary(arm=a, label=label, taken=taken[a]) for a, label in labels]
        untaken += [f"{step.id}: {arm.label}" for arm in summary.arms if not arm.taken]
        steps.append(summary)
    return WorkflowSummary(
        key=key,
        name=workflow.name,
        trigger=describe_trigger(workflow),
        entered=found.entered[key],
        steps=steps,
        never_reached=[s.step_id for s in steps if not s.reached],
        arms_never_taken=untaken,
    )


def never_fired(workflow: Workflow, occurred: Counter[str]) -> str:
    """The warning for a workflow nobody entered: what it waited for, what did happen most,
    and the likeliest misspelling."""
    t = workflow.trigger
    head = f"{workflow.id}: the trigger ({describe_trigger(workflow)}) never fired"
    top = ", ".join(f"{name} ({count:,})" for name, count in occurred.most_common(TOP_EVENTS))
    seen = f"; the events that occurred most: {top}" if top else "; no events were replayed"
    if isinstance(t, EventTrigger):
        if occurred[t.event]:
            count = occurred[t.event]
            return f"{head}: {count:,} {t.event} events occurred, none met `where: {t.where}`"
        guess = suggest(t.event, occurred)
        guess = f"; {guess}" if guess else ""
        return f"{head}: no {t.event} event in the run{seen}{guess}"
    if isinstance(t, FormTrigger | SegmentTrigger):
        return f"{head}: no {t.event} event in the run{seen}"
    return f"{head}{seen}"
