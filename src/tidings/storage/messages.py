"""The messages table: the outbox. A unique idempotency key per (enrollment, step, visit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from tidings.storage.dialect import insert_for, is_postgres, prepared
from tidings.storage.tables import messages


class MessageStatus(StrEnum):
    """Where a message stands in the outbox."""

    QUEUED = "queued"  #: waiting for the dispatcher (or deferred: `send_after` says until when)
    SENDING = "sending"  #: a worker holds it until `lease_until` while it talks to the channel
    SENT = "sent"  #: the channel accepted it
    FAILED = "failed"  #: the dead letter: gave up after retries, `last_error` says why
    DROPPED = "dropped"  #: a send-time policy refused it, `last_error` says which and why


def enqueue_messages(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Add messages to the outbox; a key already there is skipped, never sent twice.

    No RETURNING: PostgreSQL then takes the rows in one pipelined batch, about twice as
    fast (bench/); nothing needs to know which rows were new.
    """
    if not rows:
        return
    stmt = prepared(
        conn,
        "messages_enqueue",
        lambda c: insert_for(c, messages).on_conflict_do_nothing(
            index_elements=["workspace_id", "idempotency_key"]
        ),
    )
    conn.execute(stmt, list(rows))


def claim_queued(conn: Connection, now: datetime, limit: int) -> list[Row[Any]]:
    """Lock and return queued messages that may go out now, oldest first."""
    query = (
        select(messages)
        .where(messages.c.status == MessageStatus.QUEUED, messages.c.send_after <= now)
        .order_by(messages.c.send_after, messages.c.id)
        .limit(limit)
    )
    if is_postgres(conn):
        query = query.with_for_update(skip_locked=True)
    return list(conn.execute(query))


def mark_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """Record that these messages were handed to their channel."""
    if ids:
        conn.execute(
            update(messages).where(messages.c.id == bindparam("b_id")),
            [{"b_id": i, "status": MessageStatus.SENT, "sent_at": now} for i in ids],
        )
