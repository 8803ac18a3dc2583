"""Queries that find contacts whose time-based triggers are due, without loading everyone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, exists, func, select

from tidings.storage.tables import (
    contacts,
    enrollments,
    events,
    segments,
    step_log,
    workflows,
    workspaces,
)


def workspaces_with_live_workflows(conn: Connection) -> list[int]:
    """Workspaces that have at least one active workflow."""
    rows = conn.execute(
        select(workflows.c.workspace_id).where(workflows.c.status == "active").distinct()
    )
    return [r[0] for r in rows]


def all_workspaces(conn: Connection) -> list[int]:
    """Every workspace's id."""
    return [r[0] for r in conn.execute(select(workspaces.c.id).order_by(workspaces.c.id))]


def workspaces_with_segments(conn: Connection) -> list[int]:
    """Workspaces that have at least one segment."""
    rows = conn.execute(select(segments.c.workspace_id).distinct())
    return [r[0] for r in rows]


def quiet_contacts(
    conn: Connection,
    workspace_id: int,
    workflow_id: int,
    event_name: str | None,
    quiet_since: datetime,
    once_ever: bool,
    limit: int,
) -> list[int]:
    """Contacts with no `event_name` (any event if None) since `quiet_since`, not yet enrolled
    for this quiet spell.

    A spell starts at the contact's last such event (or their creation); an enrollment
    entered after that start, or a refusal logged after it (the entry condition said no),
    means the spell was already handled, so each spell is judged once.
    """
    last = select(func.max(events.c.occurred_at)).where(events.c.contact_id == contacts.c.id)
    if event_name is not None:
        last = last.where(events.c.name == event_name)
    # Explicit: nested inside EXISTS below, auto-correlation would stop at the EXISTS and
    # read every contact's events instead of this contact's.
    spell_start = func.coalesce(last.correlate(contacts).scalar_subquery(), contacts.c.created_at)
    handled = exists().where(
        enrollments.c.workflow_id == workflow_id,
        enrollments.c.contact_id == contacts.c.id,
    )
    if not once_ever:
        handled = handled.where(enrollments.c.entered_at >= spell_start)
    refused = exists().where(
        step_log.c.contact_id == contacts.c.id,
        step_log.c.workflow_id == workflow_id,
        step_log.c.action == "not_enrolled",
        step_log.c.at >= spell_start,
    )
    query = (
        select(contacts.c.id)
        .where(
            contacts.c.workspace_id == workspace_id,
            spell_start <= quiet_since,
            ~handled,
            ~refused,
        )
        .order_by(contacts.c.id)
        .limit(limit)
    )
    return [r[0] for r in conn.execute(query)]


def contacts_with_field(
    conn: Connection, workspace_id: int, field: str, after_id: int, limit: int
) -> list[tuple[int, str, str]]:
    """(id, value, timezone) of contacts whose attribute `field` is set, in id order, paged."""
    value = contacts.c.attributes[field].as_string()
    rows = conn.execute(
        select(contacts.c.id, value, contacts.c.timezone)
        .where(
            contacts.c.workspace_id == workspace_id, contacts.c.id > after_id, value.is_not(None)
        )
        .order_by(contacts.c.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in rows]
