"""Test sends: one row per message sent to try a step out, never read by any figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from tidings.storage.tables import contacts, test_sends


@dataclass(frozen=True)
class TestSendRecord:
    """A test message as sent (or not) through the real transport."""

    workspace_id: int
    workflow_key: str
    step_id: str
    channel: str
    recipient: str
    subject: str | None
    sent_by: str
    sent_at: datetime
    status: str
    detail: str = ""
    #: The contact the message was rendered for (None for a contact with no fields).
    contact_id: int | None = None


def record_test_send(conn: Connection, record: TestSendRecord) -> int:
    """Store `record`; its id.

    The message is already sent, so the row must be kept even when the contact was erased
    or merged away while it was on its way: the contact is looked up in the same statement,
    and a contact gone by then leaves `contact_id` empty (what ON DELETE SET NULL would do;
    SQLite enforces no foreign key actions here) instead of failing on the foreign key.
    """
    contact_id = (
        select(contacts.c.id).where(contacts.c.id == record.contact_id).scalar_subquery()
        if record.contact_id is not None
        else None
    )
    result = conn.execute(
        insert(test_sends).values(
            workspace_id=record.workspace_id,
            workflow_key=record.workflow_key,
            step_id=record.step_id,
            channel=record.channel,
            recipient=record.recipient,
            subject=record.subject,
            sent_by=record.sent_by,
            sent_at=record.sent_at,
            status=record.status,
            detail=record.detail,
            contact_id=contact_id,
        )
    )
    (found,) = result.inserted_primary_key or (0,)
    return int(found)
