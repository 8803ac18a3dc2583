"""The approvals table: requests for a person's decision, and the decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, select, update

from tidings.storage.dialect import insert_for
from tidings.storage.tables import approvals


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
    """The request one visit of an approval step made, in this workspace."""
    return conn.execute(
        select(approvals).where(
            approvals.c.workspace_id == workspace_id,
            approvals.c.enrollment_id == enrollment_id,
            approvals.c.step_id == step_id,
            approvals.c.attempt == attempt,
        )
    ).first()
