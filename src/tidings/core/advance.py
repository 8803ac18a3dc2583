"""Run an enrollment from where it stands until it must wait or its journey ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from tidings.core.conditions import Facts, evaluate, parse_condition
from tidings.core.effects import Effect, StepLogEntry
from tidings.core.render import TimeLimit
from tidings.core.spec import (
    ApprovalStep,
    BranchStep,
    EnrollStep,
    ExitStep,
    NotifyStep,
    SendStep,
    SplitStep,
    Step,
    SuppressStep,
    UpdateStep,
    WaitStep,
    WebhookStep,
    Workflow,
)
from tidings.core.state import ContactView, EnrollmentState, EnrollmentStatus, WaitKind
from tidings.core.steps.base import Outcome, StepContext, end
from tidings.core.steps.branch import run_branch, run_split
from tidings.core.steps.calls import (
    decide_approval,
    resume_approval,
    run_enroll,
    run_exit,
    run_notify,
    run_webhook,
    start_approval,
)
from tidings.core.steps.send import resume_send, run_send
from tidings.core.steps.suppress import run_suppress
from tidings.core.steps.update import run_update
from tidings.core.steps.wait import resume_wait, start_wait

#: Validation forbids loops without a wait; this guards workflows stored without it.
MAX_STEPS_PER_RUN = 500


@dataclass(frozen=True)
class Advanced:
    """The result of running an enrollment: its new state, effects and step log."""

    state: EnrollmentState
    effects: tuple[Effect, ...]
    decisions: tuple[StepLogEntry, ...]
    contact: ContactView


def _enter(step: Step, ctx: StepContext) -> Outcome:
    match step:
        case SendStep():
            return run_send(step, ctx)
        case WaitStep():
            return start_wait(step, ctx)
        case BranchStep():
            return run_branch(step, ctx)
        case SplitStep():
            return run_split(step, ctx)
        case UpdateStep():
            return run_update(step, ctx)
        case WebhookStep():
            return run_webhook(step, ctx)
        case NotifyStep():
            return run_notify(step, ctx)
        case ApprovalStep():
            return start_approval(step, ctx)
        case EnrollStep():
            return run_enroll(step, ctx)
        case ExitStep():
            return run_exit(step, ctx)
        case SuppressStep():
            return run_suppress(step, ctx)


def _wake(step: Step, ctx: StepContext) -> Outcome:
    match step:
        case WaitStep():
            return resume_wait(step, ctx)
        case ApprovalStep():
            return resume_approval(step, ctx)
        case SendStep():
            return resume_send(step, ctx)
        case _:
            # Only waiting steps put an enrollment to sleep; anything else re-runs as new.
            return Outcome(replace(ctx.state, status=EnrollmentStatus.ACTIVE))


def exit_rule_met(
    workflow: Workflow, contact: ContactView, state: EnrollmentState, now: datetime
) -> str | None:
    """The exit condition (a `when` rule) the contact now meets, if any."""
    rules = [rule.when for rule in workflow.exit if rule.when is not None]
    if not rules:
        return None
    event = state.trigger.properties if state.trigger else {}
    facts = Facts(
        contact=contact.fields(),
        event=event,
        consent=contact.consent,
        trigger=event,
        history=contact.history,
        measures=contact.measures,
        now=now,
    )
    for when in rules:
        if evaluate(parse_condition(when), facts):
            return when
    return None


def advance(
    workflow: Workflow,
    state: EnrollmentState,
    contact: ContactView,
    now: datetime,
    arms: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
    *,
    time_limit: TimeLimit | None = None,
) -> Advanced:
    """Run `state` until it waits or ends.

    A waiting enrollment whose time has come takes its timeout path; one woken early stays.
    `arms` holds the tallies of sends that pick their own winner (see `Winner`);
    `time_limit` bounds each template render, by a clock the shell passes in.
    """
    tallies = arms or {}
    effects: list[Effect] = []
    decisions: list[StepLogEntry] = []
    for _ in range(MAX_STEPS_PER_RUN):
        if not state.status.is_open:
            break
        met = exit_rule_met(workflow, contact, state, now)
        if met is not None:
            state = end(state, EnrollmentStatus.EXITED, f"exit rule: {met}", now)
            decisions.append(_line(state, "exited", f"met the exit rule {met}"))
            break
        if state.step_id is None:
            state = end(state, EnrollmentStatus.COMPLETED, "reached the end", now)
            decisions.append(_line(state, "completed", "reached the end of the workflow"))
            break
        step = workflow.step(state.step_id)
        if step is None:
            reason = f"step {state.step_id!r} is not in version {state.version}"
            state = end(state, EnrollmentStatus.EXITED, reason, now)
            decisions.append(_line(state, "exited", reason))
            break
        if state.status is EnrollmentStatus.WAITING:
            outcome = _wake(step, StepContext(workflow, state, contact, now, tallies, time_limit))
            if outcome.state == state:
                break  # not due yet
        else:
            visits = {**state.visits, step.id: state.attempt(step.id) + 1}
            state = replace(state, visits=visits)
            outcome = _enter(step, StepContext(workflow, state, contact, now, tallies, time_limit))
            if outcome.decisions:
                first = replace(outcome.decisions[0], enters=True)
                outcome = replace(outcome, decisions=(first, *outcome.decisions[1:]))
        state = outcome.state
        contact = outcome.contact or contact
        effects += outcome.effects
        decisions += outcome.decisions
        if state.status is EnrollmentStatus.WAITING:
            break
    else:
        reason = f"ran {MAX_STEPS_PER_RUN} steps without waiting (a loop with no wait)"
        state = end(state, EnrollmentStatus.EXITED, reason, now)
        decisions.append(_line(state, "exited", reason))
    return Advanced(
        state=state, effects=tuple(effects), decisions=tuple(decisions), contact=contact
    )


def decide(
    workflow: Workflow,
    state: EnrollmentState,
    contact: ContactView,
    now: datetime,
    *,
    approved: bool,
    by: str,
    arms: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
    time_limit: TimeLimit | None = None,
) -> Advanced:
    """Apply a person's approval or rejection, then run on until the next wait."""
    step = workflow.step(state.step_id)
    if not (
        isinstance(step, ApprovalStep)
        and state.status is EnrollmentStatus.WAITING
        and state.wait_kind is WaitKind.APPROVAL
    ):
        line = _line(state, "ignored", "a decision arrived but no approval is pending")
        return Advanced(state=state, effects=(), decisions=(line,), contact=contact)
    outcome = decide_approval(step, StepContext(workflow, state, contact, now), approved, by)
    rest = advance(workflow, outcome.state, contact, now, arms, time_limit=time_limit)
    return replace(rest, decisions=(*outcome.decisions, *rest.decisions))


def _line(state: EnrollmentState, action: str, detail: str) -> StepLogEntry:
    return StepLogEntry(
        enrollment_id=state.id,
        contact_id=state.contact_id,
        step_id=state.step_id,
        action=action,
        detail=detail,
    )
