"""Everything stored about one contact, for a data-subject access request (GDPR art. 15)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from tidings.storage.tables import (
    contacts,
    enrollments,
    events,
    messages,
    score_awards,
    segment_members,
    segments,
    step_log,
    workflows,
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(conn: Connection, table: Table, contact_id: int, order: Any) -> list[dict[str, Any]]:
    found = conn.execute(select(table).where(table.c.contact_id == contact_id).order_by(order))
    return [
        {k: _plain(v) for k, v in row._mapping.items() if k not in ("workspace_id", "contact_id")}
        for row in found
    ]


def personal_data(conn: Connection, workspace_id: int, contact_id: int) -> dict[str, Any] | None:
    """The contact's profile, events, journeys, messages, decisions, scores and segments,
    as plain JSON-ready data; None when the workspace has no such contact."""
    row = conn.execute(
        select(contacts).where(contacts.c.id == contact_id, contacts.c.workspace_id == workspace_id)
    ).one_or_none()
    if row is None:
        return None
    profile = {k: _plain(v) for k, v in row._mapping.items() if k != "workspace_id"}
    journeys = conn.execute(
        select(enrollments, workflows.c.key.label("workflow"))
        .join(workflows, workflows.c.id == enrollments.c.workflow_id)
        .where(enrollments.c.contact_id == contact_id)
        .order_by(enrollments.c.id)
    )
    memberships = conn.execute(
        select(segments.c.key, segment_members.c.entered_at)
        .join(segments, segments.c.id == segment_members.c.segment_id)
        .where(segment_members.c.contact_id == contact_id)
        .order_by(segments.c.key)
    )
    return {
        "profile": profile,
        "events": _rows(conn, events, contact_id, events.c.id),
        "journeys": [
            {k: _plain(v) for k, v in r._mapping.items() if k not in ("workspace_id", "contact_id")}
            for r in journeys
        ],
        "messages": _rows(conn, messages, contact_id, messages.c.id),
        "decisions": _rows(conn, step_log, contact_id, step_log.c.id),
        "score_awards": _rows(conn, score_awards, contact_id, score_awards.c.id),
        "segments": [{"segment": r.key, "entered_at": _plain(r.entered_at)} for r in memberships],
    }
