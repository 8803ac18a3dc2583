"""What a dispatcher round carries and counts, and the timeline lines it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from tidings.delivery.results import Result
from tidings.storage import step_log
from tidings.storage.outbox import Lease


@dataclass
class Ready:
    """A message allowed and composed, waiting for its channel."""

    row: Row[Any]
    send: Callable[[], Result]
    lease: Lease
    #: Why the policies allowed it, for the timeline's "sent" line.
    allowed: str = ""


@dataclass
class Round:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    #: The rows of the messages sent (the simulator answers them).
    sent_rows: list[Row[Any]] = field(default_factory=list)
    deferred: int = 0
    dropped: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, part: Round) -> None:
        """Count `part`'s numbers into these (not its rows)."""
        for name in ("claimed", "sent", "deferred", "dropped", "retried", "failed"):
            setattr(self, name, getattr(self, name) + getattr(part, name))


def held_by(row: Row[Any]) -> tuple[int, str] | None:
    """The (enrollment, send step) a message holds at its send (`on_deferral: hold`), to
    let go on once the message is sent, dropped or given up."""
    if (row.payload or {}).get("holds") and row.enrollment_id is not None and row.step_id:
        return (row.enrollment_id, row.step_id)
    return None


def line(
    workspace_id: int, row: Row[Any], action: str, detail: str, now: datetime, **data: Any
) -> step_log.NewLine:
    """A timeline line about the message `row`."""
    return step_log.line(
        workspace_id,
        row.contact_id,
        action,
        detail,
        now,
        data={"message_id": row.id, **data},
        enrollment_id=row.enrollment_id,
        workflow_id=row.workflow_id,
        step_id=row.step_id,
    )
