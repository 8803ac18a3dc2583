"""Read-only queries behind the admin API: lists with filters and keyset paging, timelines.

Every query is scoped to one workspace: an id from another workspace finds nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, cast, func, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB

from tidings.storage.dialect import is_postgres
from tidings.storage.tables import (
    api_keys,
    approvals,
    contacts,
    enrollments,
    events,
    messages,
    segment_members,
    segments,
    workflow_versions,
    workflows,
)


def list_contacts(
    conn: Connection,
    workspace_id: int,
    *,
    email: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    segment: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[Row[Any]]:
    """Contacts in id order after `after`, optionally by email, tag, segment key, or a text
    found (case-insensitively) in their email, user id or phone."""
    query = select(contacts)
    if tag is not None:
        query = query.where(_has_tag(conn, tag))
    if search:
        # autoescape: a % or _ typed in the search box means itself, not a wildcard.
        needle = search.strip().lower()
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (contacts.c.email, contacts.c.external_id, contacts.c.phone)
                )
            )
        )
    if segment is not None:
        members = (
            select(segment_members.c.contact_id)
            .join(segments, segments.c.id == segment_members.c.segment_id)
            .where(segments.c.workspace_id == workspace_id, segments.c.key == segment)
        )
        query = query.where(contacts.c.id.in_(members))
    filters = {
        contacts.c.workspace_id: workspace_id,
        contacts.c.email: email.strip() if email else None,
    }
    return _page(conn, query, contacts.c.id, filters, after, limit)


def _has_tag(conn: Connection, tag: str) -> Any:
    """Tags are a JSON list: containment on PostgreSQL (GIN-indexable), json_each on SQLite."""
    if is_postgres(conn):
        return contacts.c.tags.op("@>")(cast(json.dumps([tag]), JSONB))
    return text(
        "EXISTS (SELECT 1 FROM json_each(contacts.tags) WHERE json_each.value = :tag)"
    ).bindparams(tag=tag)


def get_contact(conn: Connection, workspace_id: int, contact_id: int) -> Row[Any] | None:
    """One contact of this workspace."""
    return conn.execute(
        select(contacts).where(contacts.c.workspace_id == workspace_id, contacts.c.id == contact_id)
    ).one_or_none()


def contact_events(conn: Connection, contact_id: int, limit: int) -> list[Any]:
    """The contact's latest events, newest first."""
    return list(
        conn.execute(
            select(
                events.c.id,
                events.c.name,
                events.c.properties,
                events.c.occurred_at,
                events.c.message_id,
            )
            .where(events.c.contact_id == contact_id)
            .order_by(events.c.occurred_at.desc(), events.c.id.desc())
            .limit(limit)
        ).all()
    )


def list_messages(
    conn: Connection,
    workspace_id: int,
    *,
    contact_id: int | None = None,
    status: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[Row[Any]]:
    """Outbox messages in id order after `after`."""
    query = select(messages, workflows.c.key.label("workflow_key")).outerjoin(
        workflows, workflows.c.id == messages.c.workflow_id
    )
    filters = {
        messages.c.workspace_id: workspace_id,
        messages.c.contact_id: contact_id,
        messages.c.status: status,
    }
    return _page(conn, query, messages.c.id, filters, after, limit)


def _page(
    conn: Connection, query: Any, id_column: Any, filters: dict[Any, Any], after: int, limit: int
) -> list[Row[Any]]:
    """Keyset paging: rows after `after` in id order, with the filters that have a value."""
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    return list(conn.execute(query.where(id_column > after).order_by(id_column).limit(limit)).all())


def get_workflow(conn: Connection, workspace_id: int, key: str) -> Row[Any] | None:
    """One workflow of this workspace, by key."""
    return conn.execute(
        select(workflows).where(workflows.c.workspace_id == workspace_id, workflows.c.key == key)
    ).one_or_none()


def workflow_versions_of(conn: Connection, workflow_id: int) -> list[Any]:
    """Every version of a workflow, oldest first."""
    return list(
        conn.execute(
            select(
                workflow_versions.c.version,
                workflow_versions.c.created_at,
                workflow_versions.c.spec,
            )
            .where(workflow_versions.c.workflow_id == workflow_id)
            .order_by(workflow_versions.c.version)
        ).all()
    )


def list_enrollments(
    conn: Connection,
    workspace_id: int,
    *,
    workflow_id: int | None = None,
    contact_id: int | None = None,
    status: str | None = None,
    step_id: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[Row[Any]]:
    """Enrollments in id order after `after`, by workflow, contact, status or the step they
    are at."""
    # The contact's email comes along so a list of journeys can name people, not ids.
    query = (
        select(
            enrollments,
            workflows.c.key.label("workflow_key"),
            contacts.c.email.label("contact_email"),
        )
        .join(workflows, workflows.c.id == enrollments.c.workflow_id)
        .outerjoin(contacts, contacts.c.id == enrollments.c.contact_id)
    )
    filters = {
        enrollments.c.workspace_id: workspace_id,
        enrollments.c.workflow_id: workflow_id,
        enrollments.c.contact_id: contact_id,
        enrollments.c.status: status,
        enrollments.c.step_id: step_id,
    }
    return _page(conn, query, enrollments.c.id, filters, after, limit)


def get_approval(conn: Connection, workspace_id: int, approval_id: int) -> Row[Any] | None:
    """One approval request of this workspace."""
    return conn.execute(
        select(approvals).where(
            approvals.c.workspace_id == workspace_id, approvals.c.id == approval_id
        )
    ).one_or_none()


def list_keys(conn: Connection, workspace_id: int) -> list[Any]:
    """The workspace's keys: prefixes and dates, never the keys."""
    return list(
        conn.execute(
            select(
                api_keys.c.id,
                api_keys.c.kind,
                api_keys.c.prefix,
                api_keys.c.created_at,
                api_keys.c.revoked_at,
            )
            .where(api_keys.c.workspace_id == workspace_id)
            .order_by(api_keys.c.id)
        ).all()
    )
