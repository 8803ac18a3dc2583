"""Everything stored about one contact, for a data-subject access request (GDPR art. 15)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, or_, select

from tidings.storage.tables import (
    approvals,
    contacts,
    enrollments,
    events,
    form_consents,
    messages,
    score_awards,
    segment_members,
    segments,
    step_log,
    test_sends,
    workflows,
)

#: The export's section for each table that refers to a contact. A table with a contact
#: reference that is neither here nor on the allow-list of tests/integration/
#: test_personal_data.py fails that test: the export must say what it keeps about a person.
SECTIONS: Mapping[str, str] = {
    contacts.name: "profile",
    events.name: "events",
    enrollments.name: "journeys",
    messages.name: "messages",
    step_log.name: "decisions",
    approvals.name: "approvals",
    score_awards.name: "score_awards",
    segment_members.name: "segments",
    form_consents.name: "consents",
    test_sends.name: "test_sends",
}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(conn: Connection, table: Table, contact_id: int, order: Any) -> list[dict[str, Any]]:
    found = conn.execute(select(table).where(table.c.contact_id == contact_id).order_by(order))
    return [_record(row) for row in found]


def _record(row: Any) -> dict[str, Any]:
    return {
        k: _plain(v) for k, v in row._mapping.items() if k not in ("workspace_id", "contact_id")
    }


def where_test_sends_about(workspace_id: int, contact: Any) -> ColumnElement[bool]:
    """The test sends about a contact: those rendered for them (their subject can name them)
    and those sent to one of their addresses, whoever they were rendered for (the recipient
    is the address). Export and erasure both take this set."""
    sent_to = [
        func.lower(test_sends.c.recipient) == value.lower()
        for value in (contact.email, contact.phone)
        if value
    ]
    return (test_sends.c.workspace_id == workspace_id) & or_(
        test_sends.c.contact_id == contact.id, *sent_to
    )


def personal_data(conn: Connection, workspace_id: int, contact_id: int) -> dict[str, Any] | None:
    """The contact's profile, events, journeys, messages, decisions, approvals, scores,
    segments, consent proofs and test sends, as plain JSON-ready data (one section per
    name in SECTIONS); None when the workspace has no such contact."""
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
    # Pending and decided checkpoints of their journeys, with who decided and their comment.
    checkpoints = conn.execute(
        select(approvals, workflows.c.key.label("workflow"))
        .join(enrollments, enrollments.c.id == approvals.c.enrollment_id)
        .join(workflows, workflows.c.id == enrollments.c.workflow_id)
        .where(approvals.c.contact_id == contact_id)
        .order_by(approvals.c.id)
    )
    about = where_test_sends_about(workspace_id, row)
    tests = conn.execute(select(test_sends).where(about).order_by(test_sends.c.id))
    return {
        "profile": profile,
        "events": _rows(conn, events, contact_id, events.c.id),
        "journeys": [_record(r) for r in journeys],
        "messages": _rows(conn, messages, contact_id, messages.c.id),
        "decisions": _rows(conn, step_log, contact_id, step_log.c.id),
        "approvals": [_record(r) for r in checkpoints],
        "score_awards": _rows(conn, score_awards, contact_id, score_awards.c.id),
        "segments": [{"segment": r.key, "entered_at": _plain(r.entered_at)} for r in memberships],
        # The proof of each consent given through a form: wording, form version, page, time.
        "consents": _rows(conn, form_consents, contact_id, form_consents.c.id),
        "test_sends": [_record(r) for r in tests],
    }
