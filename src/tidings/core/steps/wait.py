"""The wait step: for a duration, until a local time, or until an event with a timeout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidings.core.calendar import next_local_time
from tidings.core.duration import format_duration
from tidings.core.moment import moment_of, parse_moment
from tidings.core.spec import WaitStep
from tidings.core.state import EnrollmentStatus, WaitKind
from tidings.core.steps.base import Outcome, StepContext, end, go_to, wait_until
from tidings.core.steps.checks import MeaningChecks, as_map


def awaited_names(step: WaitStep) -> str:
    """The event, or the events, a wait is for, as the timeline says it."""
    if step.events:
        return "any of " + ", ".join(dict.fromkeys(option.event for option in step.events))
    return str(step.event)


def start_wait(step: WaitStep, ctx: StepContext) -> Outcome:
    """Enter the wait: work out when it ends."""
    now = ctx.now
    if step.for_ is not None:
        wake_at, kind, what = now + step.for_, WaitKind.TIMER, "for " + format_duration(step.for_)
    elif step.at is not None:
        return _start_wait_at(step, step.at, ctx)
    elif step.until is not None:
        wake_at = next_local_time(now, ctx.contact.timezone, step.until.time, step.until.weekdays)
        kind = WaitKind.TIMER
        days = f" on {', '.join(step.until.weekdays)}" if step.until.weekdays else ""
        what = f"until {step.until.time:%H:%M}{days} in {ctx.contact.timezone}"
    else:
        assert step.timeout is not None  # the model requires a timeout on event waits
        wake_at, kind = now + step.timeout, WaitKind.EVENT
        what = f"for {awaited_names(step)} (at most {format_duration(step.timeout)})"
    state = wait_until(ctx.state, wake_at, kind)
    decision = ctx.decision("waiting", what, wake_at=wake_at.isoformat())
    return Outcome(state, decisions=(decision,))


def _start_wait_at(step: WaitStep, at: str, ctx: StepContext) -> Outcome:
    """Wait until a moment relative to another time. When the field holds no time, or
    the moment has passed, `if_missing` and `if_past` say whether to go on at once or
    leave the journey; the timeline says which and why."""
    moment = parse_moment(at)
    started_at = ctx.state.started_at
    when = moment_of(moment, ctx.facts(), started_at, ctx.contact.timezone, step.at_time)
    if when is None:
        why, rule, choice = f"{at}: no date or time there", "if_missing", step.if_missing
    elif when <= ctx.now:
        why, rule, choice = f"{at} ({when:%Y-%m-%d %H:%M} UTC) has passed", "if_past", step.if_past
    else:
        state = wait_until(ctx.state, when, WaitKind.TIMER)
        decision = ctx.decision("waiting", f"until {at}", wake_at=when.isoformat())
        return Outcome(state, decisions=(decision,))
    if choice == "exit":
        reason = f"{why} (wait {step.id})"
        decision = ctx.decision("exited", f"{why}; leaving, as the wait's {rule} says")
        return Outcome(
            end(ctx.state, EnrollmentStatus.EXITED, reason, ctx.now), decisions=(decision,)
        )
    decision = ctx.decision("wait_skipped", f"{why}; going on")
    return Outcome(go_to(ctx.state, ctx.workflow.next_of(step)), decisions=(decision,))


def resume_wait(step: WaitStep, ctx: StepContext) -> Outcome:
    """The wait's time is up (the scheduler woke it): move on, down the timeout path if any."""
    if ctx.state.wake_at is not None and ctx.now < ctx.state.wake_at:
        return Outcome(ctx.state)  # woken early; keep waiting
    if ctx.state.wait_kind is WaitKind.EVENT:
        target = step.on_timeout if step.on_timeout is not None else ctx.workflow.next_of(step)
        what = awaited_names(step).replace("any of", "none of", 1) if step.events else step.event
        decision = ctx.decision(
            "timed_out", f"{'' if step.events else 'no '}{what} arrived in time"
        )
        return Outcome(go_to(ctx.state, target), decisions=(decision,))
    # A timer that ran out needs no line of its own: the next step's line, at the later
    # time, already tells the story.
    return Outcome(go_to(ctx.state, ctx.workflow.next_of(step)))


def check_wait(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """The field an `at` reads, or the awaited events and their conditions."""
    if isinstance(step.get("at"), str):
        checks.moment(f"{path}.at", step["at"])
        return
    if isinstance(step.get("events"), list):
        for j, option in enumerate(step["events"]):
            name = as_map(option).get("event")
            if not isinstance(name, str):
                continue
            checks.event_name(f"{path}.events[{j}].event", name)
            when = as_map(option).get("where")
            if isinstance(when, str):
                checks.condition(f"{path}.events[{j}].where", when, event=name)
        return
    if not isinstance(step.get("event"), str):
        return
    checks.event_name(f"{path}.event", step["event"])
    if isinstance(step.get("where"), str):
        checks.condition(f"{path}.where", step["where"], event=step["event"])
