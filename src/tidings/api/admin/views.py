"""Response shapes shared by several admin routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class EnrollmentOut(BaseModel):
    """One contact's journey through one workflow version."""

    id: int
    workflow: str
    version: int
    contact_id: int
    status: str
    step_id: str | None
    wake_at: datetime | None
    entered_at: datetime
    ended_at: datetime | None
    exit_reason: str | None
    converted_at: datetime | None
    revenue: float | None


def enrollment_out(row: Any) -> EnrollmentOut:
    """From a row of `browse.list_enrollments`."""
    return EnrollmentOut(
        id=row.id,
        workflow=row.workflow_key,
        version=row.version,
        contact_id=row.contact_id,
        status=row.status,
        step_id=row.step_id,
        wake_at=row.wake_at,
        entered_at=row.entered_at,
        ended_at=row.ended_at,
        exit_reason=row.exit_reason,
        converted_at=row.converted_at,
        revenue=row.revenue,
    )
