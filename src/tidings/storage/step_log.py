"""The step_log table: every decision about a journey, in order, with its reason."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from tidings.core.steps.send import HELD_FOR_CONSENT
from tidings.storage.dialect import is_postgres
from tidings.storage.tables import step_log, workflows

#: The action of the line that says which held messages a new consent will not bring back.
HELD_UNSENT = "held_unsent"


@dataclass(frozen=True)
class LogLine:
    """One stored decision, as the contact's story shows it."""

    at: datetime
    workflow_key: str | None
    enrollment_id: int | None
    step_id: str | None
    action: str
    detail: str
    data: dict[str, Any]


@dataclass(frozen=True)
class NewLine:
    """A decision to store: one row of the step log, written by `append_lines`."""

    workspace_id: int
    contact_id: int
    enrollment_id: int | None
    workflow_id: int | None
    version: int | None
    step_id: str | None
    action: str
    enters: bool
    detail: str
    data: Mapping[str, Any]
    at: datetime

    def as_row(self) -> dict[str, Any]:
        """The row's columns and values."""
        return {
            "workspace_id": self.workspace_id,
            "contact_id": self.contact_id,
            "enrollment_id": self.enrollment_id,
            "workflow_id": self.workflow_id,
            "version": self.version,
            "step_id": self.step_id,
            "action": self.action,
            "enters": self.enters,
            "detail": self.detail,
            "data": dict(self.data),
            "at": self.at,
        }


def line(  # noqa: PLR0913 (the journey's fields are keyword-only)
    workspace_id: int,
    contact_id: int,
    action: str,
    detail: str,
    at: datetime,
    *,
    data: Mapping[str, Any] | None = None,
    enrollment_id: int | None = None,
    workflow_id: int | None = None,
    version: int | None = None,
    step_id: str | None = None,
    enters: bool = False,
) -> NewLine:
    """One log line for `append_lines`; the journey fields stay empty for decisions about
    the contact alone (a score awarded)."""
    return NewLine(
        workspace_id=workspace_id,
        contact_id=contact_id,
        enrollment_id=enrollment_id,
        workflow_id=workflow_id,
        version=version,
        step_id=step_id,
        action=action,
        enters=enters,
        detail=detail,
        data=dict(data or {}),
        at=at,
    )


#: The longest failure reason kept on a timeline (and as a journey's or message's error).
FAILURE_CHARS = 1000


def failure_reason(what: str, exc: BaseException) -> str:
    """Why something failed alone, as its timeline line says it: `what`, the error's type
    and the first line of its message, cut to `FAILURE_CHARS`.

    The first line only: a driver's error goes on with the statement and its values,
    which belong in the server's log (it has the traceback), not on a contact's timeline.
    """
    cause = str(exc).partition("\n")[0]
    return f"{what}: {type(exc).__name__}: {cause}"[:FAILURE_CHARS]


#: From how many lines COPY beats a pipelined INSERT on PostgreSQL.
COPY_FROM_ROWS = 50


def append_lines(conn: Connection, lines: Sequence[NewLine]) -> None:
    """Store log lines, in the caller's transaction.

    The log is append-only, so PostgreSQL takes a big batch by COPY, the fastest way in
    (bench/); a few lines go in one pipelined INSERT, which costs fewer round trips.
    """
    if not lines:
        return
    rows = [one.as_row() for one in lines]
    if not is_postgres(conn) or len(rows) < COPY_FROM_ROWS:
        conn.execute(step_log.insert(), list(rows))
        return
    columns = list(rows[0])
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor().copy(f"COPY step_log ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c == "data" else row[c] for c in columns])


def contact_story(conn: Connection, contact_id: int) -> list[LogLine]:
    """Every decision about one contact, oldest first."""
    rows = conn.execute(
        select(step_log, workflows.c.key)
        .outerjoin(workflows, workflows.c.id == step_log.c.workflow_id)
        .where(step_log.c.contact_id == contact_id)
        .order_by(step_log.c.id)
    )
    return [
        LogLine(r.at, r.key, r.enrollment_id, r.step_id, r.action, r.detail, r.data) for r in rows
    ]


def held_for_consent(conn: Connection, contact_id: int, channel: str) -> list[tuple[str, str]]:
    """(workflow key, step id) of the contact's marketing sends held for want of `channel`
    consent since the last time a confirmation said so (`HELD_UNSENT` lines). The held
    lines are found by their data (rule and channel), never by the wording of the reason."""
    said = (
        select(func.max(step_log.c.id))
        .where(step_log.c.contact_id == contact_id, step_log.c.action == HELD_UNSENT)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(workflows.c.key, step_log.c.step_id)
        .select_from(step_log.outerjoin(workflows, workflows.c.id == step_log.c.workflow_id))
        .where(
            step_log.c.contact_id == contact_id,
            step_log.c.action == "held",
            step_log.c.data["rule"].as_string() == HELD_FOR_CONSENT,
            step_log.c.data["channel"].as_string() == channel,
            step_log.c.id > func.coalesce(said, 0),
        )
        .order_by(step_log.c.id)
    )
    return [(r.key or "?", r.step_id or "?") for r in rows]
