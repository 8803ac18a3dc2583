"""The audit log: who changed what and when, newest first, a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import MAX_ID
from tidings.api.auth import requires
from tidings.storage.audit import list_changes
from tidings.storage.people import Role

# Editors see the log too: it is how they learn who changed a workflow they work on.
router = APIRouter(
    prefix="/audit", tags=["audit"], dependencies=[requires(Role.OWNER, read=Role.EDITOR)]
)


class AuditOut(BaseModel):
    """One change."""

    id: int
    at: datetime
    actor_type: str
    actor: str
    action: str
    subject_type: str
    subject_key: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    """A page of changes; pass `next_before` as `before` for the next page."""

    entries: list[AuditOut]
    next_before: int | None


@router.get("", response_model=AuditPage)
def list_audit(
    admin: AdminDep,
    since: Annotated[datetime | None, Query(description="from this time on")] = None,
    until: Annotated[datetime | None, Query(description="before this time")] = None,
    subject: Annotated[
        str | None, Query(max_length=300, description="a type, or type:key like workflows:welcome")
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="the next_before of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Changes in this workspace, newest first."""
    with admin.engine.connect() as conn:
        rows = list_changes(
            conn,
            admin.workspace_id,
            since=since,
            until=until,
            subject=subject,
            before_id=before,
            limit=limit,
        )
    entries = [AuditOut(**vars(r)) for r in rows]
    return AuditPage(entries=entries, next_before=rows[-1].id if len(rows) == limit else None)
