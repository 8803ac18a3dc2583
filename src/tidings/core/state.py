"""An enrollment: one contact's journey through one version of one workflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EnrollmentStatus(StrEnum):
    """Where an enrollment stands. Stored as these strings."""

    ACTIVE = "active"  #: ready to run its current step now
    WAITING = "waiting"  #: paused until `wake_at`, an event, or a decision
    COMPLETED = "completed"  #: walked off the end of the workflow
    EXITED = "exited"  #: left early: an exit rule, an exit step, or the goal
    FAILED = "failed"  #: stopped by an error in the shell; the reason is on the timeline

    @property
    def is_open(self) -> bool:
        """True while the journey goes on."""
        return self in (EnrollmentStatus.ACTIVE, EnrollmentStatus.WAITING)


class WaitKind(StrEnum):
    """What a waiting enrollment waits for."""

    TIMER = "timer"  #: a duration or a local time
    EVENT = "event"  #: an event, or its timeout
    APPROVAL = "approval"  #: a person's decision, or its timeout
    #: the message its send queued to go or be dropped (`on_deferral: hold`), or a limit
    MESSAGE = "message"


@dataclass(frozen=True)
class EventView:
    """An event as the core sees it."""

    name: str
    properties: Mapping[str, Any]
    occurred_at: datetime
    id: int | None = None


@dataclass(frozen=True)
class ContactView:
    """A snapshot of a contact as the core sees it; the shell builds it from storage."""

    id: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None
    timezone: str = "UTC"
    tags: frozenset[str] = frozenset()
    consent: Mapping[str, str] = field(default_factory=dict)
    score: float = 0.0
    external_id: str | None = None
    #: Named lead scores, as last computed (`contact.scores.engagement`).
    scores: Mapping[str, float] = field(default_factory=dict)
    #: The segments the contact is in (`contact.segments contains "vip"`), as the shell
    #: last stored them.
    segments: frozenset[str] = frozenset()
    #: The workflows the contact has a journey running in (`contact.journeys contains
    #: "cart_recovery"`), the one asking included.
    journeys: frozenset[str] = frozenset()
    #: The contact's events that the live workflows' behaviour rules ask about (`performed
    #: product_viewed within 3d`), oldest first; the shell reads only those (`history_need`).
    history: tuple[EventView, ...] = ()
    #: What those rules add up to, summed by the database (a rule with no `within` would
    #: otherwise read every event of its name); keyed by the rule (`Behaviour`).
    measures: Mapping[Any, int | float | None] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        """What `contact.*` means in conditions and templates: attributes plus standard fields."""
        return {
            **self.attributes,
            "id": self.id,
            "external_id": self.external_id,
            "email": self.email,
            "phone": self.phone,
            "timezone": self.timezone,
            "tags": sorted(self.tags),
            "score": _shown(self.score),
            "scores": {name: _shown(value) for name, value in self.scores.items()},
            "segments": sorted(self.segments),
            "journeys": sorted(self.journeys),
        }


def _shown(score: float) -> float | int:
    """A score as conditions and templates see it: to the hundredth, and a whole number
    without its `.0`, so that a message prints 60 where the points add up to 59.999999."""
    tidy = round(float(score), 2)  # an int has no is_integer() before Python 3.12
    return int(tidy) if tidy.is_integer() else tidy


#: The contact fields every contact has, whatever the workspace's schema says.
STANDARD_CONTACT_FIELDS = frozenset(
    {
        "id",
        "external_id",
        "email",
        "phone",
        "timezone",
        "tags",
        "score",
        "scores",
        "segments",
        "journeys",
        "first_name",
        "last_name",
    }
)


@dataclass(frozen=True)
class EnrollmentState:
    """Everything the core needs to continue a journey; stored between steps."""

    id: int
    workflow_key: str
    version: int
    contact_id: int
    status: EnrollmentStatus
    step_id: str | None
    entered_at: datetime
    wake_at: datetime | None = None
    wait_kind: WaitKind | None = None
    trigger: EventView | None = None
    entry_key: str = ""
    #: How many times each step has been entered; a loop's second send gets a new key.
    visits: Mapping[str, int] = field(default_factory=dict)
    exit_reason: str | None = None
    ended_at: datetime | None = None
    converted_at: datetime | None = None
    revenue: float | None = None
    #: The event that ended each wait for an event, by the wait step's id, so that later
    #: steps can read it (`steps.<id>.event.<property>`).
    awaited: Mapping[str, EventView] = field(default_factory=dict)

    def step_facts(self) -> dict[str, Any]:
        """What `steps.*` means in conditions and templates."""
        return {step: {"event": dict(e.properties)} for step, e in self.awaited.items()}

    @property
    def started_at(self) -> datetime:
        """When the journey logically began: its trigger's time, else when it was stored.

        Goal windows count from here, so a purchase in the same batch as the abandoned
        cart that started the journey still counts.
        """
        return self.trigger.occurred_at if self.trigger else self.entered_at

    def attempt(self, step_id: str) -> int:
        """Which visit to `step_id` this is (1 for the first)."""
        return self.visits.get(step_id, 0)
