"""Moving the journeys that wait in older versions of a workflow onto its current version:
a dry run, then the move."""

from __future__ import annotations

from fastapi import APIRouter, Request

from tidings.api.admin.builder import _validation
from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import MigrationIn, MigrationOut, WorkflowKey, migration_out
from tidings.api.audit import note_change, note_unchanged
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.core.problems import Problem
from tidings.core.spec import Workflow
from tidings.errors import SpecInvalid
from tidings.runtime import moves
from tidings.storage.drafts import get_draft
from tidings.storage.people import Role

router = APIRouter(prefix="/workflows", tags=["workflows"], dependencies=[requires(Role.EDITOR)])


def draft_spec(admin: AdminDep, key: str) -> tuple[Workflow, str]:
    """The draft of `key` read as publishing reads it, and its text: 404 without a draft,
    422 with the validator's errors when publishing it would be refused."""
    with admin.engine.connect() as conn:
        draft = get_draft(conn, admin.workspace_id, key)
    if draft is None:
        raise ApiError(
            404, "Not found", f"no draft of {key!r}; drop `draft` to use the live version"
        )
    # Read exactly as publishing will read it, so the plan is the one publishing makes.
    workflow, verdict = _validation(draft.source, key)
    if workflow is None:
        errors = [
            Problem(p.path, p.message, p.hint) for p in verdict.problems if p.severity == "error"
        ]
        raise SpecInvalid(f"draft of {key}", errors)
    assert isinstance(workflow, Workflow)
    return workflow, draft.source


@router.post("/{key}/migration", response_model=MigrationOut, responses=problems(400, 404, 422))
def plan_migration(
    key: WorkflowKey, body: MigrationIn, request: Request, admin: AdminDep
) -> MigrationOut:
    """The dry run: where each journey waiting in an older version would go on the current
    version (same step id, or as the map says), and which would stay and why. Nothing
    changes."""
    new = draft_spec(admin, key)[0] if body.draft else None
    plan = moves.plan(
        admin.engine, admin.clock, admin.catalog, admin.workspace_id, key, dict(body.map), new
    )
    note_unchanged(request)
    return migration_out(plan, applied=False)


@router.post(
    "/{key}/migration/apply", response_model=MigrationOut, responses=problems(400, 404, 422)
)
def apply_migration(
    key: WorkflowKey, body: MigrationIn, request: Request, admin: AdminDep
) -> MigrationOut:
    """Move the journeys as the dry run says, each with a `migrated` line on its contact's
    timeline; those who cannot move stay on their version."""
    step_map = dict(body.map)
    plan = moves.apply(admin.engine, admin.clock, admin.catalog, admin.workspace_id, key, step_map)
    note_change(
        request, key, to_version=plan.to_version, moved=len(plan.moves),
        stranded=len(plan.stranded), map=step_map,
    )  # fmt: skip
    return migration_out(plan, applied=True)
