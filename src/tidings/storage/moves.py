"""Reading the journeys that wait in older versions of a workflow, and moving them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, select, update

from tidings.core.effects import RequestApproval
from tidings.core.moves import Move, Waiting
from tidings.core.state import ContactView, EnrollmentState, EnrollmentStatus, WaitKind
from tidings.storage.approvals import ApprovalStatus
from tidings.storage.contacts import contact_from_row
from tidings.storage.dialect import is_postgres
from tidings.storage.enrollments import Stored, enrollment_from_row, event_to_json
from tidings.storage.tables import approvals, contacts, enrollments, workflows


def waiting_ids(
    conn: Connection, workflow_id: int, below_version: int, after_id: int, limit: int
) -> list[int]:
    """Ids of journeys waiting in versions older than `below_version`, in id order."""
    rows = conn.execute(
        select(enrollments.c.id)
        .where(
            enrollments.c.workflow_id == workflow_id,
            enrollments.c.version < below_version,
            enrollments.c.status == EnrollmentStatus.WAITING.value,
            enrollments.c.id > after_id,
        )
        .order_by(enrollments.c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]


def waiting_versions(conn: Connection, workflow_id: int, below_version: int) -> list[int]:
    """The versions older than `below_version` that have journeys waiting."""
    rows = conn.execute(
        select(enrollments.c.version)
        .distinct()
        .where(
            enrollments.c.workflow_id == workflow_id,
            enrollments.c.version < below_version,
            enrollments.c.status == EnrollmentStatus.WAITING.value,
        )
    )
    return sorted(r[0] for r in rows)


def load_waiting(conn: Connection, ids: Sequence[int], *, lock: bool = False) -> list[Stored]:
    """These journeys as they are now. With `lock`, on PostgreSQL, locked until the
    transaction ends, so that the scheduler's claim (FOR UPDATE SKIP LOCKED) passes them
    by; those a worker holds already are passed by in turn (left out of the answer)."""
    if not ids:
        return []
    query = (
        select(enrollments, workflows.c.key)
        .join(workflows, workflows.c.id == enrollments.c.workflow_id)
        .where(enrollments.c.id.in_(list(ids)))
        .order_by(enrollments.c.id)
    )
    if lock and is_postgres(conn):
        query = query.with_for_update(of=enrollments, skip_locked=True)
    return [enrollment_from_row(r) for r in conn.execute(query)]


def contact_views(
    conn: Connection, contact_ids: Sequence[int], *, lock: bool = False
) -> dict[int, ContactView]:
    """These contacts as the core sees them; the rows locked on PostgreSQL when `lock` is
    set, as ingest locks them before it reads their journeys."""
    if not contact_ids:
        return {}
    query = select(contacts).where(contacts.c.id.in_(sorted(set(contact_ids))))
    query = query.order_by(contacts.c.id)
    if lock and is_postgres(conn):
        query = query.with_for_update()
    return {r.id: contact_from_row(r) for r in conn.execute(query)}


def as_waiting(state: EnrollmentState, contact: ContactView | None) -> Waiting:
    """What the planner needs of a stored journey and its contact."""
    assert state.step_id is not None  # a waiting journey always stands on a step
    return Waiting(
        enrollment_id=state.id,
        contact_id=state.contact_id,
        version=state.version,
        step_id=state.step_id,
        wait_kind=state.wait_kind or WaitKind.TIMER,
        wake_at=state.wake_at,
        timezone=contact.timezone if contact is not None else "UTC",
        visits=state.visits,
        state=state,
        contact=contact,
    )


def move_enrollment(conn: Connection, before: EnrollmentState, after: EnrollmentState) -> bool:
    """Write a moved journey, only if it still stands where the plan found it; True if so."""
    result = conn.execute(
        update(enrollments)
        .where(
            enrollments.c.id == before.id,
            enrollments.c.version == before.version,
            enrollments.c.step_id == before.step_id,
            enrollments.c.status == EnrollmentStatus.WAITING.value,
        )
        .values(
            version=after.version,
            step_id=after.step_id,
            wake_at=after.wake_at,
            visits=dict(after.visits),
            awaited={s: event_to_json(e) for s, e in after.awaited.items()} or None,
        )
    )
    return result.rowcount == 1


def move_approval(conn: Connection, move: Move, request: RequestApproval) -> bool:
    """A pending approval follows its journey to the new step, with that step's approvers
    and message and the new deadline; True if there was one to move."""
    result = conn.execute(
        update(approvals)
        .where(
            and_(
                approvals.c.enrollment_id == move.enrollment_id,
                approvals.c.step_id == move.from_step,
                approvals.c.status == ApprovalStatus.PENDING.value,
            )
        )
        .values(
            step_id=request.step_id,
            approvers=list(request.approvers),
            message=request.message,
            expires_at=request.expires_at,
        )
    )
    return result.rowcount == 1
