"""Moving journeys that wait in older versions of a workflow onto its new version.

A journey only moves while it waits (in a wait or an approval step): nothing of it is
half-run, and the messages it already queued stay in the outbox as they are. A waiting
journey moves to the step of the new version with the same id, or to the one the map
names; it stays where it is, with the reason, when its wait cannot carry over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tidings.core.calendar import next_local_time
from tidings.core.duration import format_duration
from tidings.core.effects import RequestApproval
from tidings.core.moment import moment_of, parse_moment
from tidings.core.problems import Problem
from tidings.core.spec import (
    ApprovalStep,
    BranchStep,
    SendStep,
    SplitStep,
    Step,
    WaitStep,
    Workflow,
)
from tidings.core.state import ContactView, EnrollmentState, WaitKind
from tidings.core.steps.base import StepContext
from tidings.core.steps.calls import approval_request


@dataclass(frozen=True)
class Waiting:
    """A journey waiting in an older version, as the planner needs to see it."""

    enrollment_id: int
    contact_id: int
    version: int
    step_id: str
    wait_kind: WaitKind
    wake_at: datetime | None
    #: The contact's time zone: a wait until a local time is recomputed on its clock.
    timezone: str = "UTC"
    #: The steps the journey has entered, and how often (its `visits`).
    visits: Mapping[str, int] | None = None
    #: The journey and its contact, for a wait until a moment (`at:`) that changed: the new
    #: moment is worked out from their data. Without them such a journey stays.
    state: EnrollmentState | None = None
    contact: ContactView | None = None


@dataclass(frozen=True)
class Move:
    """One journey moving to a step of the new version."""

    enrollment_id: int
    contact_id: int
    from_version: int
    from_step: str
    to_step: str
    #: When the wait ends on the new version (its deadline, for an event or an approval).
    wake_at: datetime | None
    #: What happened to the deadline, in words: kept, or recomputed and how.
    deadline: str


@dataclass(frozen=True)
class Stranded:
    """One journey that stays on its version, and why."""

    enrollment_id: int
    contact_id: int
    from_version: int
    from_step: str
    reason: str


@dataclass(frozen=True)
class PlanLine:
    """How many journeys go from one step to another (or stay), for the dry run's table."""

    from_version: int
    from_step: str
    to_step: str | None
    contacts: int
    #: The deadline rule for moves; the reason for those who stay.
    note: str


@dataclass(frozen=True)
class MovePlan:
    """What publishing with a move would do to the journeys waiting in older versions."""

    to_version: int
    moves: tuple[Move, ...] = ()
    stranded: tuple[Stranded, ...] = ()

    def lines(self) -> list[PlanLine]:
        """The moves and the stays, counted by (version, step, target, note)."""
        counted: Counter[tuple[int, str, str | None, str]] = Counter()
        for m in self.moves:
            counted[(m.from_version, m.from_step, m.to_step, m.deadline)] += 1
        for s in self.stranded:
            counted[(s.from_version, s.from_step, None, s.reason)] += 1
        return [
            PlanLine(version, step, target, count, note)
            for (version, step, target, note), count in sorted(
                counted.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
            )
        ]

    def joined(self, other: MovePlan) -> MovePlan:
        """Two batches' plans as one (the later batch's version, when it knows one)."""
        return MovePlan(
            other.to_version or self.to_version,
            self.moves + other.moves,
            self.stranded + other.stranded,
        )


def parse_step_map(pairs: Iterable[str]) -> dict[str, str]:
    """Read `old=new` pairs (a renamed or replaced step) into a map.

    Raises:
        ValueError: a pair is not `old=new`, or maps one step twice; the message says which.
    """
    found: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not sep or not old or not new:
            raise ValueError(
                f"{pair!r}: expected OLD=NEW, a step id of the old version = one of the new"
            )
        if old in found and found[old] != new:
            raise ValueError(f"{old!r} is mapped twice ({found[old]} and {new}); keep one")
        found[old] = new
    return found


def check_step_map(
    step_map: Mapping[str, str], old: Mapping[int, Workflow], new: Workflow
) -> list[Problem]:
    """Problems with a map: a source step no older version has, a target the new one lacks
    or that is not a wait."""
    problems = []
    for source, target in step_map.items():
        # With nobody waiting in an older version, a source has nothing to be checked by.
        if old and not any(spec.step(source) is not None for spec in old.values()):
            versions = ", ".join(str(v) for v in sorted(old)) or "none"
            problems.append(
                Problem(
                    f"map.{source}",
                    f"no step {source!r} in the older versions ({versions})",
                    "map a step id that contacts wait in",
                )
            )
        step = new.step(target)
        if step is None:
            problems.append(
                Problem(
                    f"map.{source}",
                    f"no step {target!r} in the new version",
                    "name one of its wait or approval steps",
                )
            )
        elif not isinstance(step, WaitStep | ApprovalStep):
            problems.append(
                Problem(
                    f"map.{source}",
                    f"{target!r} is a {step.type} step; only waits take contacts",
                    "name one of its wait or approval steps",
                )
            )
    return problems


def plan_moves(
    old: Mapping[int, Workflow],
    new: Workflow,
    to_version: int,
    waiting: Iterable[Waiting],
    step_map: Mapping[str, str],
    now: datetime,
) -> MovePlan:
    """Decide, for each waiting journey, where it goes in `new`, or why it stays.

    Args:
        old: the older versions' specs, by version.
        new: the version the journeys would move to, numbered `to_version`.
        waiting: the journeys waiting in older versions.
        step_map: old step id -> new step id, for steps renamed or replaced.
        now: the time a wait until a local time is recomputed from.
    """
    moves: list[Move] = []
    stranded: list[Stranded] = []
    for w in waiting:
        decided = _decide(old.get(w.version), new, w, step_map, now)
        if isinstance(decided, str):
            stranded.append(Stranded(w.enrollment_id, w.contact_id, w.version, w.step_id, decided))
        else:
            moves.append(decided)
    return MovePlan(to_version, tuple(moves), tuple(stranded))


def _decide(
    spec: Workflow | None,
    new: Workflow,
    w: Waiting,
    step_map: Mapping[str, str],
    now: datetime,
) -> Move | str:
    before = spec.step(w.step_id) if spec is not None else None
    if spec is None or before is None:
        return f"step {w.step_id} is not in version {w.version}"
    if isinstance(before, SendStep):
        return (
            f"it is held at send {before.id} until its message goes (on_deferral: hold); "
            "only journeys in a wait or an approval step move"
        )
    target = step_map.get(w.step_id, w.step_id)
    after = new.step(target)
    if after is None:
        return f"step {w.step_id} is not in the new version; map it with {w.step_id}=STEP"
    carried = _carry(new, before, after, w, now)
    if isinstance(carried, str):
        return carried
    wake_at, deadline = carried
    again = _sent_again(spec, before, new, after, w.visits or {})
    if again:
        return (
            f"the new version would send {', '.join(again)} again after {target}; "
            "it was sent already"
        )
    return Move(w.enrollment_id, w.contact_id, w.version, w.step_id, target, wake_at, deadline)


def _carry(
    new: Workflow, before: Step, after: Step, w: Waiting, now: datetime
) -> tuple[datetime | None, str] | str:
    """The wait's deadline on the new step, and what became of it; or why it cannot carry."""
    if isinstance(before, ApprovalStep) and isinstance(after, ApprovalStep):
        return _rescaled(w.wake_at, before.timeout, after.timeout, "timeout", now)
    if not (isinstance(before, WaitStep) and isinstance(after, WaitStep)):
        return f"{after.id} is a {after.type} step now; a {before.type} cannot become one"
    old_form, new_form = _form(before), _form(after)
    if old_form in ("event", "events") and new_form in ("event", "events"):
        kept = _awaited(before) & _awaited(after)
        if not kept:
            names = ", ".join(sorted(_awaited(before)))
            return f"it awaits {names}, which {after.id} no longer awaits"
        assert before.timeout is not None and after.timeout is not None  # event waits have one
        return _rescaled(w.wake_at, before.timeout, after.timeout, "timeout", now)
    if old_form != new_form:
        return f"a wait {_said(before)} cannot become a wait {_said(after)}"
    if before.for_ is not None and after.for_ is not None:
        return _rescaled(w.wake_at, before.for_, after.for_, "wait", now)
    if before.until is not None and after.until is not None:
        if before.until == after.until:
            return w.wake_at, "deadline kept"
        wake_at = next_local_time(now, w.timezone, after.until.time, after.until.weekdays)
        return wake_at, f"until {after.until.time:%H:%M} from now, in the contact's time zone"
    if (before.at, before.at_time) == (after.at, after.at_time):
        return w.wake_at, "deadline kept"
    return _new_moment(new, before, after, w, now)


def _new_moment(
    new: Workflow, before: WaitStep, after: WaitStep, w: Waiting, now: datetime
) -> tuple[datetime | None, str] | str:
    """A changed `at:` worked out again, as entering the new wait would, from the journey's
    trigger and the contact's data; where that finds no time, the journey stays."""
    changed = f"moment {before.at} -> {after.at}"
    if w.state is None or w.contact is None or after.at is None:
        return f"its {changed}, and the journey's data was not at hand to work it out"
    facts = StepContext(new, w.state, w.contact, now).facts()
    when = moment_of(
        parse_moment(after.at), facts, w.state.started_at, w.contact.timezone, after.at_time
    )
    if when is None:
        return f"its {changed}: no date or time there for this contact"
    if when <= now and after.if_past == "exit":
        return f"its {changed}, which has passed, and the wait's if_past says exit"
    due = ", due now" if when <= now else ""
    return when, f"{changed}, worked out again for this contact{due}"


def _rescaled(
    wake_at: datetime | None, old: timedelta, new: timedelta, what: str, now: datetime
) -> tuple[datetime | None, str]:
    """Keep the deadline when the duration is the same; else count the new duration from
    when the wait began (the old deadline less the old duration)."""
    if old == new or wake_at is None:
        return wake_at, "deadline kept"
    ends = wake_at - old + new
    # A shorter wait may have ended already: the scheduler takes it on at its next tick.
    due = ", due now" if ends <= now else ""
    changed = f"{what} {format_duration(old)} -> {format_duration(new)}"
    return ends, f"{changed}, counted from the wait's start{due}"


def _form(step: WaitStep) -> str:
    if step.events:
        return "events"
    return next(k for k in ("for_", "until", "event", "at") if getattr(step, k) is not None)


def _said(step: WaitStep) -> str:
    form = _form(step)
    if form == "for_":
        return f"for {format_duration(step.for_)}" if step.for_ else "for a time"
    if form == "until":
        return "until a local time"
    if form == "at":
        return f"until {step.at}"
    return "for " + " or ".join(sorted(_awaited(step)))


def _awaited(step: WaitStep) -> set[str]:
    if step.events:
        return {option.event for option in step.events}
    return {step.event} if step.event else set()


def _sent_again(
    spec: Workflow, before: Step, new: Workflow, after: Step, visits: Mapping[str, int]
) -> list[str]:
    """Sends the journey already passed that the new version reaches from its new step but
    the old version could not reach from where it waits (a loop sends again on purpose)."""
    ahead = _reachable_sends(new, after.id)
    before_ahead = _reachable_sends(spec, before.id)
    return sorted(s for s in ahead - before_ahead if visits.get(s, 0) > 0)


def _reachable_sends(workflow: Workflow, start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(_targets(workflow, workflow.step(start)))
    while todo:
        step_id = todo.pop()
        if step_id in seen:
            continue
        seen.add(step_id)
        todo.extend(_targets(workflow, workflow.step(step_id)))
    return {s for s in seen if isinstance(workflow.step(s), SendStep)}


def _targets(workflow: Workflow, step: Step | None) -> list[str]:
    if step is None or step.type == "exit":
        return []
    nxt = workflow.next_of(step)
    found: list[str | None]
    if isinstance(step, BranchStep):
        found = [*(arm.next for arm in step.branches), step.else_ or nxt]
    elif isinstance(step, SplitStep):
        found = [*(path.next for path in step.paths)]
    elif isinstance(step, ApprovalStep):
        found = [step.on_approve or nxt, step.on_reject, step.on_timeout]
    elif isinstance(step, WaitStep) and step.events:
        found = [*(o.next or nxt for o in step.events), step.on_timeout or nxt]
    elif isinstance(step, WaitStep) and step.event:
        found = [step.on_event or nxt, step.on_timeout or nxt]
    else:
        found = [nxt]
    return [f for f in found if f is not None]


def moved_state(state: EnrollmentState, move: Move, to_version: int) -> EnrollmentState:
    """The journey on its new version and step, waiting as before; what it remembers of
    the old step (visits, the awaited event) goes under the new step's id."""

    def renamed(key: str) -> str:
        return move.to_step if key == move.from_step else key

    return replace(
        state,
        version=to_version,
        step_id=move.to_step,
        wake_at=move.wake_at,
        visits={renamed(k): v for k, v in state.visits.items()},
        awaited={renamed(k): e for k, e in state.awaited.items()},
    )


def moved_request(
    new: Workflow, moved: EnrollmentState, contact: ContactView, now: datetime
) -> RequestApproval | None:
    """What a journey moved onto an approval step of `new` asks: the new step's message
    and approvers, until the journey's (carried) deadline; None when the step is no
    approval. The pending request follows it, so only the new approvers may decide, and
    they are told."""
    step = new.step(moved.step_id or "")
    if not isinstance(step, ApprovalStep):
        return None
    expires_at = moved.wake_at or now + step.timeout
    return approval_request(step, StepContext(new, moved, contact, now), expires_at)
