"""Erasing a contact: every row about them goes; hashes of their identifiers stay, so the
suppression list can recognise them if a sync or an import brings them back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete

from tidings.storage.personal_data import where_test_sends_about
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

#: The tables whose rows name the contact by `contact_id`, children first: the foreign
#: keys point at the contact and at its enrollments. tests/integration/test_personal_data.py
#: fails for a table with a contact reference that is missing here.
ERASED = (
    step_log,
    messages,
    approvals,
    enrollments,
    events,
    segment_members,
    score_awards,
    form_consents,
)


@dataclass(frozen=True)
class Erased:
    """What an erasure removed: rows by table name, and the identifiers whose hashes went
    to the suppression list."""

    rows: dict[str, int]
    suppressed: int


def erase_contact(conn: Connection, workspace_id: int, contact: Any, now: datetime) -> Erased:
    """Delete the contact and everything about them; keep hashed suppression entries."""
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
    rows = {}
    for table in ERASED:
        rows[table.name] = conn.execute(
            delete(table).where(table.c.contact_id == contact.id)
        ).rowcount
    # Test sends rendered for the contact, and those sent to one of their addresses.
    rows[test_sends.name] = conn.execute(
        delete(test_sends).where(where_test_sends_about(workspace_id, contact))
    ).rowcount
    rows[contacts.name] = conn.execute(delete(contacts).where(contacts.c.id == contact.id)).rowcount
    return Erased(rows, kept)
