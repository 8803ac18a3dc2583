"""Erasing a contact: every row about them goes; hashes of their identifiers stay, so the
suppression list can recognise them if a sync or an import brings them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_

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
    test_sends,
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
    _erase_test_sends(conn, workspace_id, contact)
    conn.execute(delete(contacts).where(contacts.c.id == contact.id))
    return kept


def _erase_test_sends(conn: Connection, workspace_id: int, contact: Any) -> None:
    """Test sends rendered for the contact (their subject can name them), and those sent to
    one of their addresses, whoever they were rendered for: the recipient is the address."""
    sent_to = [
        func.lower(test_sends.c.recipient) == value.lower()
        for value in (contact.email, contact.phone)
        if value
    ]
    conn.execute(
        delete(test_sends).where(
            test_sends.c.workspace_id == workspace_id,
            or_(test_sends.c.contact_id == contact.id, *sent_to),
        )
    )
