"""The outbox: what workflows queued, for whom, and where each message stands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import MAX_ID, AfterQuery
from tidings.api.auth import requires
from tidings.storage import browse
from tidings.storage.people import Role

router = APIRouter(prefix="/messages", tags=["messages"], dependencies=[requires(Role.EDITOR)])


class MessageOut(BaseModel):
    """One outbox message."""

    id: int
    contact_id: int
    enrollment_id: int | None
    workflow: str | None
    step_id: str | None
    channel: str
    kind: str
    recipient: str
    subject: str | None
    status: str
    created_at: datetime
    sent_at: datetime | None
    #: Sending attempts so far (retries included).
    attempts: int
    #: Times it was sent again because a worker stopped mid-send: the recipient may have
    #: it that many extra times, with the same Message-ID or webhook-id.
    resends: int
    payload: dict[str, Any]


@router.get("", response_model=list[MessageOut])
def list_all(
    admin: AdminDep,
    contact_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: str | None = Query(None, pattern="^(queued|sent|failed)$"),
    after: AfterQuery = 0,
    limit: int = Query(50, ge=1, le=500),
) -> list[MessageOut]:
    """Messages in id order, a page at a time, by contact or status."""
    with admin.engine.connect() as conn:
        rows = browse.list_messages(
            conn, admin.workspace_id, contact_id=contact_id, status=status, after=after, limit=limit
        )
    return [
        MessageOut(
            id=r.id,
            contact_id=r.contact_id,
            enrollment_id=r.enrollment_id,
            workflow=r.workflow_key,
            step_id=r.step_id,
            channel=r.channel,
            kind=r.kind,
            recipient=r.recipient,
            subject=r.subject,
            status=r.status,
            created_at=r.created_at,
            sent_at=r.sent_at,
            attempts=r.attempts,
            resends=r.resends,
            payload=r.payload,
        )
        for r in rows
    ]
