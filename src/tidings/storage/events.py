"""The events table: append-only, idempotent by the sender's message id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from tidings.core.conditions.ast import Behaviour
from tidings.core.state import EventView
from tidings.storage.condition_sql import behaviour_measure_sql
from tidings.storage.dialect import insert_for, prepared
from tidings.storage.tables import contacts, events


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


#: The most events `contact_history` reads for one contact: a rule whose `where` reads the
#: trigger, the journey's steps or the contact counts among these newest ones only.
HISTORY_ROWS = 10_000


def contact_history(
    conn: Connection,
    contact_id: int,
    names: frozenset[str] | None,
    since: datetime | None,
) -> tuple[EventView, ...]:
    """A contact's events of these names (None: any), from `since` on (None: all), oldest
    first, at most the newest HISTORY_ROWS: what the behaviour rules the database cannot
    add up (`contact_measures`) count. One query, on the (contact_id, name, occurred_at)
    index."""
    query = select(events.c.id, events.c.name, events.c.properties, events.c.occurred_at).where(
        events.c.contact_id == contact_id
    )
    if names is not None:
        query = query.where(events.c.name.in_(sorted(names)))
    if since is not None:
        query = query.where(events.c.occurred_at >= since)
    newest = query.order_by(events.c.occurred_at.desc(), events.c.id.desc()).limit(HISTORY_ROWS)
    rows = reversed(conn.execute(newest).all())
    return tuple(
        EventView(
            r.name, r.properties if isinstance(r.properties, dict) else {}, r.occurred_at, r.id
        )
        for r in rows
    )


def contact_measures(
    conn: Connection, contact_id: int, rules: Sequence[Behaviour], now: datetime
) -> dict[Behaviour, int | float | None]:
    """What each rule adds up for the contact, summed by the database in one query (an
    indexed look-up per rule), so no event row is read however many the contact has.
    Empty when the contact is not stored."""
    if not rules:
        return {}
    dialect = conn.dialect.name
    columns = [behaviour_measure_sql(rule, dialect, now) for rule in rules]
    row = conn.execute(select(*columns).where(contacts.c.id == contact_id)).one_or_none()
    if row is None:
        return {}
    return {rule: _number(value) for rule, value in zip(rules, row, strict=True)}


def _number(value: Any) -> int | float | None:
    """A driver's aggregate as the evaluator's number (PostgreSQL's sums may be Decimal)."""
    if value is None or isinstance(value, int | float):
        return value
    return float(value)


#: How many of a workspace's newest events `recent_event_names` looks at.
RECENT_EVENTS = 10_000


def recent_event_names(conn: Connection, workspace_id: int) -> frozenset[str]:
    """The names among the workspace's newest events, for "did you mean" on a rule's event.

    Bounded by the newest RECENT_EVENTS rows (read backwards on the primary key), so a
    deploy never scans the whole table.
    """
    newest = (
        select(events.c.name)
        .where(events.c.workspace_id == workspace_id)
        .order_by(events.c.id.desc())
        .limit(RECENT_EVENTS)
        .subquery()
    )
    return frozenset(conn.execute(select(newest.c.name).distinct()).scalars())
