"""Effects: commands the core returns and the shell carries out, each in one place.

Also the step log's decisions, which explain every turn a journey takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tidings.core.state import EnrollmentState


@dataclass(frozen=True)
class SendMessage:
    """Put a rendered message in the outbox."""

    enrollment_id: int
    contact_id: int
    step_id: str
    attempt: int
    channel: str
    to: str
    kind: str
    template: str
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    variant: str | None = None
    topic: str | None = None
    priority: int = 0
    expires_at: datetime | None = None
    #: The journey waits at the send until this message goes or is dropped
    #: (`on_deferral: hold`); the dispatcher lets it go on.
    holds: bool = False

    @property
    def idempotency_key(self) -> str:
        """Unique per (enrollment, step, visit): the outbox refuses a second copy."""
        return f"{self.enrollment_id}:{self.step_id}:{self.attempt}"


@dataclass(frozen=True)
class UpdateContact:
    """Change a contact's attributes, tags, score or consent."""

    contact_id: int
    set: Mapping[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    score_delta: float | None = None
    consent: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallWebhook:
    """Queue an HTTP call for the webhook channel."""

    enrollment_id: int
    contact_id: int
    step_id: str
    attempt: int
    url: str
    method: str
    headers: Mapping[str, str]
    body: str | None

    @property
    def idempotency_key(self) -> str:
        """Unique per (enrollment, step, visit)."""
        return f"{self.enrollment_id}:{self.step_id}:{self.attempt}"


@dataclass(frozen=True)
class Notify:
    """Queue an internal alert to a person."""

    enrollment_id: int
    contact_id: int
    step_id: str
    attempt: int
    channel: str
    to: str
    text: str

    @property
    def idempotency_key(self) -> str:
        """Unique per (enrollment, step, visit)."""
        return f"{self.enrollment_id}:{self.step_id}:{self.attempt}"


@dataclass(frozen=True)
class RequestApproval:
    """Ask a person to approve or reject before the journey goes on."""

    enrollment_id: int
    contact_id: int
    step_id: str
    attempt: int
    message: str
    approvers: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True)
class Enroll:
    """Enroll the contact in another workflow."""

    contact_id: int
    workflow_key: str
    source_enrollment_id: int


@dataclass(frozen=True)
class Start:
    """Begin a new enrollment (insert it, then advance it)."""

    state: EnrollmentState


@dataclass(frozen=True)
class Resume:
    """Continue an existing enrollment from a new state (an awaited event arrived)."""

    state: EnrollmentState


@dataclass(frozen=True)
class Save:
    """Store an existing enrollment's new state without running it (an exit, a conversion)."""

    state: EnrollmentState


Effect = SendMessage | UpdateContact | CallWebhook | Notify | RequestApproval | Enroll
Transition = Start | Resume | Save


@dataclass(frozen=True)
class StepLogEntry:
    """One line of the step log: what happened to a journey, and why."""

    enrollment_id: int | None
    contact_id: int
    step_id: str | None
    action: str
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    #: The workflow, for lines about a contact that did not (or not yet) enroll.
    workflow_key: str | None = None
    #: True on the first line a step writes when a journey enters it (per-step counts).
    enters: bool = False
