"""Who may start a workflow, and when they may start it again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tidings.core.conditions import Facts, evaluate, parse_condition, parse_field
from tidings.core.conditions.evaluate import resolve
from tidings.core.effects import Start, StepLogEntry
from tidings.core.spec import PerKey, Reentry, Workflow
from tidings.core.state import ContactView, EnrollmentState, EnrollmentStatus, EventView


@dataclass(frozen=True)
class LiveVersion:
    """A workflow version that is live: its spec and its version number."""

    workflow: Workflow
    version: int


@dataclass(frozen=True)
class Refused:
    """The contact may not enter, and why (kept in the step log)."""

    decision: StepLogEntry


def enter(
    deployed: LiveVersion,
    contact: ContactView,
    past: Sequence[EnrollmentState],
    now: datetime,
    trigger: EventView | None = None,
) -> Start | Refused:
    """Start `contact` in `deployed` unless its entry condition or re-entry policy says no.

    `past` holds the contact's enrollments in this workflow, open and closed.
    """
    wf = deployed.workflow
    event = trigger.properties if trigger else {}
    facts = Facts(
        contact=contact.fields(),
        event=event,
        consent=contact.consent,
        trigger=event,
        history=contact.history,
        measures=contact.measures,
        now=now,
    )

    def refuse(why: str) -> Refused:
        line = StepLogEntry(None, contact.id, None, "not_enrolled", why, workflow_key=wf.id)
        return Refused(line)

    if wf.entry.when is not None and not evaluate(parse_condition(wf.entry.when), facts):
        return refuse(f"entry condition not met: {wf.entry.when}")
    key = ""
    if wf.entry.reentry is Reentry.PER_KEY:
        assert wf.entry.key is not None  # the model requires a key for per_key
        value = resolve(parse_field(wf.entry.key), facts)
        if value is None:
            return refuse(f"no value for the journey key {wf.entry.key}")
        key = str(value)
    why = _reentry_refusal(wf, key, past, now)
    if why is not None:
        return refuse(why)
    first = wf.steps[0].id
    state = EnrollmentState(
        id=0,  # the shell assigns the id when it stores the enrollment
        workflow_key=wf.id,
        version=deployed.version,
        contact_id=contact.id,
        status=EnrollmentStatus.ACTIVE,
        step_id=first,
        entered_at=now,
        trigger=trigger,
        entry_key=key,
    )
    return Start(state)


def admit(
    wf: Workflow, start: Start, past: Sequence[EnrollmentState], now: datetime
) -> Start | Refused:
    """Check a start decided earlier against the contact's enrollments as they are now.

    Between deciding and starting, another workflow's `enroll` step or another trigger of
    the same event may have started this very journey; the start is then refused (with
    the reason, for the step log), never written twice.
    """
    state = start.state
    why = _reentry_refusal(wf, state.entry_key, [p for p in past if p.id != state.id], now)
    if why is None:
        return start
    line = StepLogEntry(None, state.contact_id, None, "not_enrolled", why, workflow_key=wf.id)
    return Refused(line)


def _reentry_refusal(
    wf: Workflow, key: str, past: Sequence[EnrollmentState], now: datetime
) -> str | None:
    """Why the re-entry policy refuses a journey with this key, or None when it allows it."""
    mine = [p for p in past if p.workflow_key == wf.id]
    if any(p.status.is_open and p.entry_key == key for p in mine):
        return "already in this workflow" + (f" for {key!r}" if key else "")
    match wf.entry.reentry:
        case Reentry.ONCE if mine:
            return "entered before, and this workflow allows one entry"
        case Reentry.PER_KEY if wf.entry.per_key is PerKey.ONCE and any(
            p.entry_key == key for p in mine
        ):
            return f"already had a journey for {key!r}"
        case Reentry.PERIOD if mine:
            assert wf.entry.period is not None
            last = max(p.entered_at for p in mine)
            if now - last < wf.entry.period:
                return f"entered {last:%Y-%m-%d %H:%M}, within the re-entry period"
    return None
