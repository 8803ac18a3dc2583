"""The events table: append-only, idempotent by the sender's message id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

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
