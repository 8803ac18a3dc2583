"""Erasing a contact: every row about them goes; hashes of their identifiers stay, so the
suppression list can recognise them if a sync or an import brings them back."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from tidings.storage.dialect import insert_for
from tidings.storage.tables import (
    approvals,
    contacts,
    enrollments,
    events,
    messages,
    step_log,
    suppressions,
)


def identifier_hash(kind: str, value: str) -> str:
    """The SHA-256 kept for an identifier; emails compare without case or spaces."""
    normal = value.strip().lower() if kind == "email" else value.strip()
    return hashlib.sha256(f"{kind}:{normal}".encode()).hexdigest()


def erase_contact(
    conn: Connection, workspace_id: int, contact: Any, reason: str, now: datetime
) -> int:
    """Delete the contact and everything about them; keep hashed suppression entries.

    Returns how many identifiers went to the suppression list.
    """
    kept = [
        {
            "workspace_id": workspace_id,
            "kind": kind,
            "value_hash": identifier_hash(kind, value),
            "reason": reason,
            "created_at": now,
        }
        for kind, value in (
            ("email", contact.email),
            ("phone", contact.phone),
            ("user_id", contact.external_id),
            ("anonymous_id", contact.anonymous_id),
        )
        if value
    ]
    if kept:
        stmt = insert_for(conn, suppressions).on_conflict_do_nothing(
            index_elements=["workspace_id", "kind", "value_hash"]
        )
        conn.execute(stmt, kept)
    # Children first: the foreign keys point at the contact and at its enrollments.
    for table in (step_log, messages, approvals, enrollments, events):
        conn.execute(delete(table).where(table.c.contact_id == contact.id))
    conn.execute(delete(contacts).where(contacts.c.id == contact.id))
    return len(kept)


def is_suppressed(conn: Connection, workspace_id: int, kind: str, value: str) -> bool:
    """True when this identifier belongs to an erased contact."""
    found = conn.execute(
        select(suppressions.c.id).where(
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.kind == kind,
            suppressions.c.value_hash == identifier_hash(kind, value),
        )
    ).first()
    return found is not None
