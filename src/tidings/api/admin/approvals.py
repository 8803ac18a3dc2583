"""Approvals: the inbox of paused journeys, and the decision that lets them go on."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tidings.api.admin.approval_context import ApprovalContext, approval_context
from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import TEXT, IdPath
from tidings.api.audit import note_change
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.core.approvers import Approvers
from tidings.errors import NotFound
from tidings.runtime.approvals import decide_approval
from tidings.storage import browse
from tidings.storage.approvals import ApprovalStatus, pending_approvals
from tidings.storage.people import Role

router = APIRouter(prefix="/approvals", tags=["approvals"], dependencies=[requires(Role.APPROVER)])


class ApprovalOut(BaseModel):
    """A request for a person's decision."""

    id: int
    enrollment_id: int
    contact_id: int
    step_id: str
    message: str
    approvers: list[str]
    #: Whether the caller may decide it: a named approver, one with a named role, or an
    #: owner (a step that names nobody is for every approver).
    may_decide: bool
    expires_at: datetime
    #: The workflow, the contact and the message approving would send; None when the
    #: journey is gone.
    context: ApprovalContext | None = None


class Decision(BaseModel):
    """Who decides (for the step log)."""

    by: str = Field(min_length=1, max_length=200, pattern=TEXT)
    #: Why, for the record: kept on the approval and in the contact's step log.
    comment: str | None = Field(None, max_length=2000, pattern=TEXT)


class Decided(BaseModel):
    """Where the journey stands after the decision."""

    id: int
    status: str
    enrollment_status: str


@router.get("", response_model=list[ApprovalOut])
def pending(admin: AdminDep) -> list[ApprovalOut]:
    """Requests waiting for a decision, oldest first, each with its context."""
    with admin.engine.connect() as conn:
        rows = pending_approvals(conn, admin.workspace_id)
        contexts = [approval_context(conn, admin.catalog, admin.workspace_id, r) for r in rows]
    return [
        ApprovalOut(
            id=r.id,
            enrollment_id=r.enrollment_id,
            contact_id=r.contact_id,
            step_id=r.step_id,
            message=r.message,
            approvers=r.approvers,
            may_decide=Approvers.of(r.approvers or []).may_decide(
                admin.caller.actor, admin.caller.role.value
            ),
            expires_at=r.expires_at,
            context=context,
        )
        for r, context in zip(rows, contexts, strict=True)
    ]


def _decide(
    approval_id: IdPath, decision: Decision, admin: AdminDep, request: Request, approved: bool
) -> Decided:
    with admin.engine.connect() as conn:
        row = browse.get_approval(conn, admin.workspace_id, approval_id)
    if row is None:
        raise NotFound(f"no approval {approval_id} in this workspace")
    caller = admin.caller
    approvers = Approvers.of(row.approvers or [])
    if not approvers.may_decide(caller.actor, caller.role.value):
        raise ApiError(
            403,
            "Forbidden",
            f"approval {approval_id} is for {approvers.describe()} to decide; you are "
            f"{caller.actor} ({caller.role.value}). Ask one of them, or have the workflow "
            "name you under the step's approvers",
        )
    if row.status != ApprovalStatus.PENDING:
        raise ApiError(409, "Already decided", f"approval {approval_id} is {row.status}")
    # A logged-in person decides as themselves; only a key's script says who it acts for.
    by = caller.actor if caller.actor_type == "person" else decision.by
    status = decide_approval(
        admin.engine,
        admin.clock,
        admin.catalog,
        row.enrollment_id,
        approved=approved,
        by=by,
        comment=decision.comment,
        limits=admin.limits,
    )
    outcome = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
    # The audit trail records the caller and the time; this says what was decided.
    note_change(
        request,
        str(approval_id),
        decision=outcome.value,
        by=by,
        comment=decision.comment,
        enrollment_id=row.enrollment_id,
        step_id=row.step_id,
    )
    return Decided(id=approval_id, status=outcome.value, enrollment_status=status)


@router.post("/{approval_id}/approve", response_model=Decided, responses=problems(403, 409))
def approve(approval_id: IdPath, decision: Decision, admin: AdminDep, request: Request) -> Decided:
    """Approve: the journey takes its approve path now. Only the step's approvers (or an
    owner) may; others get 403."""
    return _decide(approval_id, decision, admin, request, approved=True)


@router.post("/{approval_id}/reject", response_model=Decided, responses=problems(403, 409))
def reject(approval_id: IdPath, decision: Decision, admin: AdminDep, request: Request) -> Decided:
    """Reject: the journey takes its reject path, or leaves. Only the step's approvers (or
    an owner) may; others get 403."""
    return _decide(approval_id, decision, admin, request, approved=False)
