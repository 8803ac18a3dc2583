"""Queries that find contacts whose time-based triggers are due, without loading everyone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, case, exists, func, or_, select

from tidings.storage.dialect import is_postgres
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


def timezones_in_use(conn: Connection, workspace_id: int) -> list[str]:
    """The distinct timezone names the workspace's contacts have (an index-only scan)."""
    rows = conn.execute(
        select(contacts.c.timezone).where(contacts.c.workspace_id == workspace_id).distinct()
    )
    return [r[0] for r in rows]


def anniversary_contacts(
    conn: Connection,
    workspace_id: int,
    workflow_id: int,
    field: str,
    due: Sequence[tuple[Sequence[str], Sequence[str]]],
    since: datetime,
    after_id: int,
    limit: int,
) -> list[int]:
    """Contacts whose ISO date attribute `field` falls on a due month-day for their
    timezone (`due` pairs timezone names with month-days), not enrolled in or refused by
    the workflow since `since`; in id order after `after_id`. The database does the
    matching: only the contacts whose day it is are read."""
    date = contacts.c.attributes[field].as_string()
    if not is_postgres(conn):
        # SQLite fails the whole query on one row of malformed JSON (NaN written by an old
        # version or by hand); such a row is skipped, the others still get their day.
        date = case((func.json_valid(contacts.c.attributes) == 1, date))
    month_day = func.substr(date, 6, 5)
    today = or_(
        *(and_(contacts.c.timezone.in_(list(tzs)), month_day.in_(list(days))) for tzs, days in due)
    )
    handled = exists().where(
        enrollments.c.workflow_id == workflow_id,
        enrollments.c.contact_id == contacts.c.id,
        enrollments.c.entered_at >= since,
    )
    refused = exists().where(
        step_log.c.contact_id == contacts.c.id,
        step_log.c.workflow_id == workflow_id,
        step_log.c.action == "not_enrolled",
        step_log.c.at >= since,
    )
    rows = conn.execute(
        select(contacts.c.id)
        .where(
            contacts.c.workspace_id == workspace_id,
            contacts.c.id > after_id,
            today,
            ~handled,
            ~refused,
        )
        .order_by(contacts.c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]
