"""The enrollments table: every journey's state, and the scheduler's claim on due ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, text, update

from tidings.core.state import EnrollmentState, EnrollmentStatus, EventView, WaitKind
from tidings.storage.dialect import insert_for, is_postgres, prepared
from tidings.storage.tables import OPEN_PREDICATE, contacts, enrollments, messages, workflows


@dataclass(frozen=True)
class Stored:
    """An enrollment's state with the ids the core does not need."""

    workspace_id: int
    workflow_id: int
    state: EnrollmentState


def event_to_json(event: EventView | None) -> dict[str, Any] | None:
    """An event kept with a journey (its trigger, an awaited event), as stored."""
    if event is None:
        return None
    return {
        "name": event.name,
        "properties": dict(event.properties),
        "occurred_at": event.occurred_at.isoformat(),
        "id": event.id,
    }


def _trigger_from_json(data: dict[str, Any] | None) -> EventView | None:
    if data is None:
        return None
    return EventView(
        name=data["name"],
        properties=data["properties"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        id=data.get("id"),
    )


def enrollment_from_row(row: Row[Any]) -> Stored:
    """Build the core's state from a row joined with its workflow's key."""
    state = EnrollmentState(
        id=row.id,
        workflow_key=row.key,
        version=row.version,
        contact_id=row.contact_id,
        status=EnrollmentStatus(row.status),
        step_id=row.step_id,
        entered_at=row.entered_at,
        wake_at=row.wake_at,
        wait_kind=WaitKind(row.wait_kind) if row.wait_kind else None,
        trigger=_trigger_from_json(row.trigger),
        entry_key=row.entry_key,
        visits=row.visits,
        exit_reason=row.exit_reason,
        ended_at=row.ended_at,
        converted_at=row.converted_at,
        revenue=row.revenue,
        awaited={
            step: event
            for step, data in (row.awaited or {}).items()
            if (event := _trigger_from_json(data)) is not None
        },
    )
    return Stored(row.workspace_id, row.workflow_id, state)


def _values(state: EnrollmentState) -> dict[str, Any]:
    # An open enrollment always has a wake_at: active ones are due at once, so a crash
    # between storing and running one leaves it for the scheduler instead of stranding it.
    wake_at = state.wake_at
    if state.status is EnrollmentStatus.ACTIVE and wake_at is None:
        wake_at = state.entered_at
    return {
        "status": state.status.value,
        "step_id": state.step_id,
        "wake_at": wake_at if state.status.is_open else None,
        "wait_kind": state.wait_kind.value if state.wait_kind else None,
        "visits": dict(state.visits),
        "ended_at": state.ended_at,
        "exit_reason": state.exit_reason,
        "converted_at": state.converted_at,
        "revenue": state.revenue,
        "awaited": {step: event_to_json(e) for step, e in state.awaited.items()} or None,
    }


_SELECT = select(enrollments, workflows.c.key).join(
    workflows, workflows.c.id == enrollments.c.workflow_id
)


class IdAllocator:
    """Hands out enrollment ids before the rows exist, so journeys run first and their rows
    are inserted together, final state included, in one statement.

    PostgreSQL draws blocks from the table's sequence (gaps are harmless). SQLite counts up
    from the largest id; that is safe because the caller's IMMEDIATE transaction holds the
    database's only write lock until it commits.
    """

    #: Blocks grow from 1 so a one-event call uses one id; a big batch needs few round trips.
    MAX_BLOCK = 1024

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._free: list[int] = []
        self._block = 1
        self._next_sqlite: int | None = None

    def next(self) -> int:
        """A new, unused enrollment id."""
        if not is_postgres(self._conn):
            if self._next_sqlite is None:
                top = self._conn.execute(select(func.max(enrollments.c.id))).scalar()
                self._next_sqlite = (top or 0) + 1
            allocated = self._next_sqlite
            self._next_sqlite += 1
            return allocated
        if not self._free:
            rows = self._conn.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('enrollments', 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"n": self._block},
            )
            self._free = sorted((r[0] for r in rows), reverse=True)
            self._block = min(self._block * 4, self.MAX_BLOCK)
        return self._free.pop()


class ConcurrentEntry(Exception):
    """Another transaction enrolled the same contact in the same journey first; retry."""


def insert_enrollments(conn: Connection, new: Sequence[Stored]) -> None:
    """Insert new enrollments (ids already allocated) with their current state.

    Raises:
        ConcurrentEntry: when another writer committed the same open journey meanwhile.
            The partial unique index decides; the caller retries its whole transaction.
    """
    if not new:
        return
    params = [
        {
            "id": s.state.id,
            "workspace_id": s.workspace_id,
            "workflow_id": s.workflow_id,
            "version": s.state.version,
            "contact_id": s.state.contact_id,
            "entry_key": s.state.entry_key,
            "trigger": event_to_json(s.state.trigger),
            "entered_at": s.state.entered_at,
            **_values(s.state),
        }
        for s in new
    ]
    inserted = conn.execute(prepared(conn, "enrollments_insert", _insert_statement), params).all()
    if len(inserted) != len(params):
        raise ConcurrentEntry(f"{len(params) - len(inserted)} enrollment(s) entered concurrently")


def _insert_statement(conn: Connection) -> Any:
    return (
        insert_for(conn, enrollments)
        .on_conflict_do_nothing(
            index_elements=["workflow_id", "contact_id", "entry_key"],
            index_where=OPEN_PREDICATE,
        )
        .returning(enrollments.c.id)
    )


def save_enrollments(conn: Connection, states: Iterable[EnrollmentState]) -> None:
    """Write the new state of existing enrollments."""
    rows = [{"b_id": s.id, **_values(s)} for s in states]
    if rows:
        stmt = prepared(
            conn,
            "enrollments_save",
            lambda c: update(enrollments).where(enrollments.c.id == bindparam("b_id")),
        )
        conn.execute(stmt, rows)


def load_for_contacts(conn: Connection, contact_ids: Iterable[int]) -> dict[int, list[Stored]]:
    """Every enrollment of these contacts, open or closed, grouped by contact."""
    wanted = list(set(contact_ids))
    grouped: dict[int, list[Stored]] = {c: [] for c in wanted}
    if not wanted:
        return grouped
    stmt = prepared(
        conn,
        "enrollments_of_contacts",
        lambda c: _SELECT.where(
            enrollments.c.contact_id.in_(bindparam("ids", expanding=True))
        ).order_by(enrollments.c.id),
    )
    for row in conn.execute(stmt, {"ids": wanted}):
        grouped[row.contact_id].append(enrollment_from_row(row))
    return grouped


def load_enrollment(conn: Connection, enrollment_id: int, *, lock: bool = False) -> Stored | None:
    """One enrollment, locked against other workers on PostgreSQL when `lock` is set."""
    query = _SELECT.where(enrollments.c.id == enrollment_id)
    if lock and is_postgres(conn):
        query = query.with_for_update(of=enrollments)
    row = conn.execute(query).one_or_none()
    return enrollment_from_row(row) if row is not None else None


def claim_due(conn: Connection, now: datetime, limit: int) -> list[Stored]:
    """Lock and return up to `limit` open enrollments whose wake time has come.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets many workers claim disjoint batches; the
    locks last until the claiming transaction ends, so a worker that dies mid-batch
    releases its rows untouched for the others. SQLite has one writer at a time, and
    the caller's IMMEDIATE transaction already excludes the rest.
    """
    ids = (
        select(enrollments.c.id)
        # The literal predicate lets a prepared plan use the partial ix_enrollments_due.
        .where(OPEN_PREDICATE, enrollments.c.wake_at <= now)
        .order_by(enrollments.c.wake_at)
        .limit(limit)
    )
    if not is_postgres(conn):
        # The one writer needs no row locks: the claim's ids as a subquery of the read of
        # their rows, one statement instead of two.
        due = _SELECT.where(enrollments.c.id.in_(ids.scalar_subquery())).order_by(
            enrollments.c.wake_at, enrollments.c.id
        )
        return [enrollment_from_row(r) for r in conn.execute(due)]
    ids = ids.with_for_update(skip_locked=True)
    claimed = [r[0] for r in conn.execute(ids)]
    if not claimed:
        return []
    rows = conn.execute(
        _SELECT.where(enrollments.c.id.in_(claimed)).order_by(enrollments.c.wake_at)
    )
    return [enrollment_from_row(r) for r in rows]


def next_wake_at(conn: Connection) -> datetime | None:
    """The earliest wake time of any open enrollment."""
    value: datetime | None = conn.execute(
        # The literal predicate lets the partial ix_enrollments_due answer from its first entry.
        select(func.min(enrollments.c.wake_at)).where(OPEN_PREDICATE)
    ).scalar()
    return value


def first_converted_after_message(
    conn: Connection, workspace_id: int, workflow_key: str
) -> tuple[str, int] | None:
    """(user id, contact id) of the first contact who converted in `workflow_key` after
    being sent a message in it; None when nobody has."""
    row = conn.execute(
        select(contacts.c.external_id, contacts.c.id)
        .join(enrollments, enrollments.c.contact_id == contacts.c.id)
        .join(workflows, workflows.c.id == enrollments.c.workflow_id)
        .join(messages, messages.c.enrollment_id == enrollments.c.id)
        .where(
            workflows.c.workspace_id == workspace_id,
            workflows.c.key == workflow_key,
            enrollments.c.converted_at.is_not(None),
        )
        .order_by(enrollments.c.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def release_held(conn: Connection, held: Sequence[tuple[int, str]], now: datetime) -> None:
    """Let journeys held at a send (`on_deferral: hold`) go on, now that its message went
    or was dropped: the wait becomes a timer due now, which the scheduler takes.

    Only an enrollment still waiting at that very send is touched: one the hold's limit
    already released, or that left the journey, stays as it is.
    """
    if not held:
        return
    e = enrollments.c
    conn.execute(
        update(enrollments)
        .where(
            e.id == bindparam("b_id"),
            e.step_id == bindparam("b_step"),
            e.status == EnrollmentStatus.WAITING,
            e.wait_kind == WaitKind.MESSAGE,
        )
        .values(wake_at=now, wait_kind=WaitKind.TIMER),
        [{"b_id": enrollment_id, "b_step": step_id} for enrollment_id, step_id in held],
    )
