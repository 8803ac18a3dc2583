"""Response shapes shared by several admin routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, Field

from tidings.core.moves import MovePlan

#: Ids are 64-bit: anything larger is a bad request, not a database error.
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
#: Key ids are 32-bit.
KeyIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: A workflow's key, as workflow files write it.
WorkflowKey = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
#: Segment keys follow the same rules as workflow keys.
SegmentKey = WorkflowKey
#: Free text in a query: no NUL, which no database column can hold.
TEXT = r"^[^\x00]*$"
AfterQuery = Annotated[int, Query(ge=0, le=MAX_ID, description="the last id of the previous page")]


class EnrollmentOut(BaseModel):
    """One contact's journey through one workflow version."""

    id: int
    workflow: str
    version: int
    contact_id: int
    #: The contact's email, when they have one (none once erased).
    contact_email: str | None = None
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
        contact_email=row.contact_email,
        status=row.status,
        step_id=row.step_id,
        wake_at=row.wake_at,
        entered_at=row.entered_at,
        ended_at=row.ended_at,
        exit_reason=row.exit_reason,
        converted_at=row.converted_at,
        revenue=row.revenue,
    )


# ---------------------------------------------------------------- moves

#: A step id, held to the spec's own pattern: map entries reach messages and the timeline.
StepId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class MigrationIn(BaseModel):
    """Which steps of older versions become which steps of the current one, for the steps
    renamed or replaced; a step with the same id in both needs no entry."""

    map: dict[StepId, StepId] = Field(default_factory=dict, max_length=200)
    #: Plan against the builder's draft (what publishing it would make) rather than the
    #: current version; only the dry run takes it, the move is onto the current version.
    draft: bool = False


class MigrationLine(BaseModel):
    """How many journeys go from one step to another, or stay where they are, and why."""

    from_version: int
    from_step: str
    #: The step of the current version they move to; null for those who stay.
    to_step: str | None
    contacts: int
    #: For a move, what becomes of the wait's deadline; for a stay, the reason.
    note: str


class MigrationOut(BaseModel):
    """A move's dry run, or what the move did."""

    to_version: int
    moved: int
    stranded: int
    lines: list[MigrationLine]
    applied: bool


def migration_out(plan: MovePlan, applied: bool) -> MigrationOut:
    return MigrationOut(
        to_version=plan.to_version,
        moved=len(plan.moves),
        stranded=len(plan.stranded),
        lines=[
            MigrationLine(
                from_version=line.from_version,
                from_step=line.from_step,
                to_step=line.to_step,
                contacts=line.contacts,
                note=line.note,
            )
            for line in plan.lines()
        ],
        applied=applied,
    )
