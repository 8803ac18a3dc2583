"""The approvals table: requests for a person's decision, and the decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, select, update

from tidings.storage.dialect import insert_for
from tidings.storage.tables import approvals, step_log


class ApprovalStatus(StrEnum):
    """Where an approval request stands."""

    PENDING = "pending"  #: waiting for a person
    APPROVED = "approved"  #: a person said yes
    REJECTED = "rejected"  #: a person said no
    EXPIRED = "expired"  #: nobody decided in time
    CANCELLED = "cancelled"  #: the journey ended before anyone decided


def request_approvals(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store approval requests; a request already stored for that visit is kept as is."""
    if rows:
        stmt = insert_for(conn, approvals).on_conflict_do_nothing(
            index_elements=["enrollment_id", "step_id", "attempt"]
        )
        conn.execute(stmt, list(rows))


def pending_approvals(conn: Connection, workspace_id: int) -> list[Row[Any]]:
    """Requests still waiting for a decision, oldest first."""
    return list(
        conn.execute(
            select(approvals)
            .where(
                approvals.c.workspace_id == workspace_id,
                approvals.c.status == ApprovalStatus.PENDING,
            )
            .order_by(approvals.c.id)
        )
    )


def close_approvals(
    conn: Connection,
    enrollment_id: int,
    status: ApprovalStatus,
    by: str | None,
    now: datetime,
    *,
    comment: str | None = None,
) -> None:
    """Close the pending requests of an enrollment with `status` (and the decider's comment)."""
    conn.execute(
        update(approvals)
        .where(
            approvals.c.enrollment_id == enrollment_id, approvals.c.status == ApprovalStatus.PENDING
        )
        .values(status=status, decided_by=by, decided_at=now, comment=comment)
    )


def approval_of_visit(
    conn: Connection, workspace_id: int, enrollment_id: int, step_id: str, attempt: int
) -> Row[Any] | None:
    """The request one visit of an approval step made, in this workspace, wherever it is
    now: a move takes a pending request to the journey's new step (same enrollment, same
    attempt), and the journey's `migrated` lines say which step that was."""
    for step in _steps_since(conn, enrollment_id, step_id):
        found = conn.execute(
            select(approvals).where(
                approvals.c.workspace_id == workspace_id,
                approvals.c.enrollment_id == enrollment_id,
                approvals.c.step_id == step,
                approvals.c.attempt == attempt,
            )
        ).first()
        if found is not None:
            return found
    return None


def _steps_since(conn: Connection, enrollment_id: int, step_id: str) -> list[str]:
    """`step_id`, then each step the journey's moves took it to from there, latest last."""
    moved = conn.execute(
        select(step_log.c.data)
        .where(step_log.c.enrollment_id == enrollment_id, step_log.c.action == "migrated")
        .order_by(step_log.c.id)
    )
    steps = [step_id]
    for (data,) in moved:
        if isinstance(data, dict) and data.get("from_step") == steps[-1]:
            steps.append(str(data.get("to_step")))
    return list(reversed(steps))
