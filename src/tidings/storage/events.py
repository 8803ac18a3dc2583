"""The events table: append-only, idempotent by the sender's message id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from tidings.storage.dialect import insert_for, prepared
from tidings.storage.tables import events


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store new events; return the ids of those stored now, by message id.

    An event whose message id is already stored is skipped: a retried call is harmless.
    """
    if not rows:
        return {}
    stmt = prepared(
        conn,
        "events_insert",
        lambda c: (
            insert_for(c, events)
            .on_conflict_do_nothing(index_elements=["workspace_id", "message_id"])
            .returning(events.c.id, events.c.message_id)
        ),
    )
    return {row.message_id: row.id for row in conn.execute(stmt, list(rows))}


def last_event_at(conn: Connection, contact_id: int, name: str | None) -> Any:
    """When the contact last performed `name` (any event when None)."""
    query = select(events.c.occurred_at).where(events.c.contact_id == contact_id)
    if name is not None:
        query = query.where(events.c.name == name)
    return conn.execute(query.order_by(events.c.occurred_at.desc()).limit(1)).scalar()
