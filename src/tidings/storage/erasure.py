"""Erasing a contact: every row about them goes; hashes of their identifiers stay, so the
suppression list can recognise them if a sync or an import brings them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete

from tidings.storage.suppressions import SuppressionReason, suppress
from tidings.storage.tables import (
    approvals,
    contacts,
    enrollments,
    events,
    form_consents,
    messages,
    score_awards,
    segment_members,
    step_log,
)


def erase_contact(conn: Connection, workspace_id: int, contact: Any, now: datetime) -> int:
    """Delete the contact and everything about them; keep hashed suppression entries.

    Returns how many identifiers went to the suppression list.
    """
    identifiers = [
        (kind, value)
        for kind, value in (
            ("email", contact.email),
            ("phone", contact.phone),
            ("user_id", contact.external_id),
            ("anonymous_id", contact.anonymous_id),
        )
        if value
    ]
    kept = suppress(conn, workspace_id, identifiers, SuppressionReason.ERASED, now)
    # Children first: the foreign keys point at the contact and at its enrollments.
    tables = (
        step_log,
        messages,
        approvals,
        enrollments,
        events,
        segment_members,
        score_awards,
        form_consents,
    )
    for table in tables:
        conn.execute(delete(table).where(table.c.contact_id == contact.id))
    conn.execute(delete(contacts).where(contacts.c.id == contact.id))
    return kept
