"""What every step handler takes and returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tidings.core.conditions import Facts
from tidings.core.effects import Effect, StepLogEntry
from tidings.core.render import TimeLimit
from tidings.core.spec import Workflow
from tidings.core.state import ContactView, EnrollmentState, EnrollmentStatus, WaitKind


@dataclass(frozen=True)
class StepContext:
    """The arguments of a step handler."""

    workflow: Workflow
    state: EnrollmentState
    contact: ContactView
    now: datetime
    #: For sends that pick their own winner: per step id, per variant, (hits, sent) so far.
    arms: Mapping[str, Mapping[str, tuple[int, int]]] = field(default_factory=dict)
    #: How long each template render may take (None: only the counted limits apply).
    time_limit: TimeLimit | None = None

    def facts(self) -> Facts:
        """What conditions at this step can see."""
        event = self.state.trigger.properties if self.state.trigger else {}
        return Facts(
            contact=self.contact.fields(),
            event=event,
            consent=self.contact.consent,
            trigger=event,
            steps=self.state.step_facts(),
            history=self.contact.history,
            measures=self.contact.measures,
            now=self.now,
        )

    def template_context(self) -> dict[str, Any]:
        """What Liquid templates at this step can read."""
        trigger = self.state.trigger
        return {
            "contact": self.contact.fields(),
            "event": dict(trigger.properties) if trigger else {},
            "trigger": dict(trigger.properties) if trigger else {},
            "workflow": {"id": self.workflow.id, "name": self.workflow.name},
            "steps": self.state.step_facts(),
        }

    def decision(self, action: str, detail: str = "", **data: Any) -> StepLogEntry:
        """A step log line for the current step."""
        return StepLogEntry(
            enrollment_id=self.state.id,
            contact_id=self.state.contact_id,
            step_id=self.state.step_id,
            action=action,
            detail=detail,
            data=data,
        )


@dataclass(frozen=True)
class Outcome:
    """What a step did: the new state, its effects, and the log lines that explain it."""

    state: EnrollmentState
    effects: tuple[Effect, ...] = ()
    decisions: tuple[StepLogEntry, ...] = ()
    contact: ContactView | None = None  # set when the step changed the contact


def go_to(state: EnrollmentState, step_id: str | None) -> EnrollmentState:
    """Move on to `step_id`, ready to run it now (None: the end of the workflow)."""
    return replace(
        state, step_id=step_id, status=EnrollmentStatus.ACTIVE, wake_at=None, wait_kind=None
    )


def wait_until(state: EnrollmentState, wake_at: datetime, kind: WaitKind) -> EnrollmentState:
    """Stay on the current step until `wake_at` (or an event or decision, by kind)."""
    return replace(state, status=EnrollmentStatus.WAITING, wake_at=wake_at, wait_kind=kind)


def end(
    state: EnrollmentState, status: EnrollmentStatus, reason: str, now: datetime
) -> EnrollmentState:
    """Close the journey."""
    return replace(
        state, status=status, exit_reason=reason, ended_at=now, wake_at=None, wait_kind=None
    )
