"""Replays an event script through the pure core with an in-memory shell, and writes down
every decision and effect, in order, as text lines to compare with a recording."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from tidings.blueprints import blueprints, use_blueprint
from tidings.core import (
    CallWebhook,
    ContactView,
    Effect,
    Enroll,
    EnrollmentState,
    EventView,
    LiveVersion,
    Notify,
    RequestApproval,
    Resume,
    Save,
    SendMessage,
    Start,
    StepLogEntry,
    UpdateContact,
    Workflow,
    advance,
    enter,
    react,
)
from tidings.core.steps.update import apply_update
from tidings.files import load_workflows

EXAMPLES = Path(__file__).parents[2] / "examples" / "workflows"


@dataclass
class Replay:
    """The shell, in memory: contacts, enrollments and a log of what happened."""

    workflows: dict[str, Workflow]
    contacts: dict[int, ContactView]
    states: dict[int, EnrollmentState] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def run_due(self, until: datetime) -> None:
        while True:
            due = [
                s
                for s in self.states.values()
                if s.status.is_open and s.wake_at is not None and s.wake_at <= until
            ]
            if not due:
                return
            state = min(due, key=lambda s: (s.wake_at, s.id))
            assert state.wake_at is not None
            self.run(state, state.wake_at)

    def run(self, state: EnrollmentState, now: datetime) -> None:
        result = advance(
            self.workflows[state.workflow_key], state, self.contacts[state.contact_id], now
        )
        self.states[state.id] = result.state
        self.log(now, result.decisions)
        self.apply(now, result.effects)

    def start(self, state: EnrollmentState, now: datetime) -> None:
        state = replace(state, id=len(self.states) + 1)
        self.states[state.id] = state
        self.lines.append(f"{now:%m-%d %H:%M} #{state.id} {state.workflow_key}: enrolled")
        self.run(state, now)

    def event(self, now: datetime, contact_id: int, name: str, properties: dict[str, Any]) -> None:
        live = [LiveVersion(wf, 1) for wf in self.workflows.values()]
        mine = [
            (self.workflows[s.workflow_key], s)
            for s in self.states.values()
            if s.contact_id == contact_id
        ]
        self.lines.append(f"{now:%m-%d %H:%M} contact {contact_id}: {name} {properties}")
        reacted = react(
            EventView(name, properties, now), self.contacts[contact_id], live, mine, now
        )
        self.log(now, reacted.decisions)
        for transition in reacted.transitions:
            match transition:
                case Start(state=state):
                    self.start(state, now)
                case Resume(state=state):
                    self.run(state, now)
                case Save(state=state):
                    self.states[state.id] = state

    def enter(self, now: datetime, contact_id: int, key: str) -> None:
        past = [s for s in self.states.values() if s.contact_id == contact_id]
        outcome = enter(LiveVersion(self.workflows[key], 1), self.contacts[contact_id], past, now)
        if isinstance(outcome, Start):
            self.start(outcome.state, now)
        else:
            self.log(now, (outcome.decision,))

    def log(self, now: datetime, decisions: tuple[StepLogEntry, ...]) -> None:
        for d in decisions:
            who = f"#{d.enrollment_id}" if d.enrollment_id else f"contact {d.contact_id}"
            where = f" {d.step_id}" if d.step_id else ""
            self.lines.append(f"{now:%m-%d %H:%M} {who}{where}: {d.action} {d.detail}".rstrip())

    def apply(self, now: datetime, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            match effect:
                case SendMessage():
                    variant = f" [{effect.variant}]" if effect.variant else ""
                    self.lines.append(
                        f"{now:%m-%d %H:%M}   > send {effect.idempotency_key} {effect.channel} to {effect.to}: {effect.subject}{variant}"
                    )
                case UpdateContact():
                    self.contacts[effect.contact_id] = apply_update(
                        self.contacts[effect.contact_id], effect
                    )
                    self.lines.append(f"{now:%m-%d %H:%M}   > update contact {effect.contact_id}")
                case CallWebhook() | Notify() | RequestApproval():
                    self.lines.append(
                        f"{now:%m-%d %H:%M}   > {type(effect).__name__} {effect.step_id}"
                    )
                case Enroll():
                    self.enter(now, effect.contact_id, effect.workflow_key)


def replay(case: Path) -> list[str]:
    """Run the case's script (script.yaml) and return the log lines."""
    script = yaml.safe_load((case / "script.yaml").read_text())
    loaded = load_workflows([EXAMPLES / name for name in script.get("workflows", [])])
    workflows = {item.workflow.id: item.workflow for item in loaded if item.workflow is not None}
    for name, values in (script.get("blueprints") or {}).items():
        used = use_blueprint(blueprints()[name], values or {})
        assert used.workflow is not None, [str(p) for p in used.problems]
        workflows[used.workflow.id] = used.workflow
    contacts = {
        c["id"]: ContactView(
            id=c["id"],
            email=c.get("email"),
            timezone=c.get("timezone", "UTC"),
            consent=c.get("consent", {"email": "subscribed"}),
            attributes=c.get("attributes", {}),
            phone=c.get("phone"),
            score=c.get("score", 0.0),
            tags=frozenset(c.get("tags", [])),
        )
        for c in script["contacts"]
    }
    shell = Replay(workflows, contacts)
    for step in script["steps"]:
        at = datetime.fromisoformat(step["at"])
        shell.run_due(at)
        if "event" in step:
            shell.event(at, step["contact"], step["event"], step.get("properties", {}))
        elif "enter" in step:
            shell.enter(at, step["contact"], step["enter"])
    shell.run_due(datetime.fromisoformat(script["until"]))
    return shell.lines
