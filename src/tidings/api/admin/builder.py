"""What the console's builder needs: live validation, drafts, publishing and version diffs.

A draft is the editor's working copy of one workflow, kept as the text it was typed in (or
drawn as), even when it does not validate, so nothing is ever lost. The engine only runs
published versions; publishing is a separate act that validates the draft and deploys it.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import yaml
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tidings.api.admin.deps import AdminDep, RawBody
from tidings.api.admin.knowledge import Knowledge, workspace_knowledge
from tidings.api.admin.views import MigrationOut, StepId, WorkflowKey, migration_out
from tidings.api.admin.workflows import MAX_SPEC_BYTES, Deployed
from tidings.api.audit import note_change, note_unchanged
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.core.problems import Problem
from tidings.core.spec import Workflow
from tidings.core.validate import validate_workflow
from tidings.errors import SpecInvalid, TidingsError, WorkflowNotFound
from tidings.runtime import moves
from tidings.runtime.transactions import attempts
from tidings.storage import browse
from tidings.storage.drafts import Draft, discard_draft, draft_keys, get_draft, save_draft
from tidings.storage.people import Role
from tidings.storage.workflows import deploy_workflow, spec_to_json

logger = logging.getLogger(__name__)

# Validation stores nothing: viewers may check a workflow too.
router = APIRouter(
    tags=["workflows"], dependencies=[requires(Role.EDITOR, routes={"validate": Role.VIEWER})]
)

#: The body a route takes as workflow text: YAML, or JSON (which YAML reads too).
SPEC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


class ProblemOut(BaseModel):
    """One problem the validator found, with the step it concerns (None: the workflow)."""

    step_id: str | None
    path: str
    message: str
    hint: str
    severity: str


class Validation(BaseModel):
    """The validator's verdict on a workflow document."""

    valid: bool
    problems: list[ProblemOut]


class DraftOut(Validation):
    """A saved draft and what the validator thinks of it now."""

    key: str
    source: str
    updated_at: datetime
    updated_by: str


class DraftSummary(BaseModel):
    """A draft in the list: which workflow, when and by whom."""

    key: str
    updated_at: datetime
    updated_by: str


class VersionDiff(BaseModel):
    """A unified diff between two versions (or a version and the draft), as YAML."""

    before: str
    after: str
    diff: str


def _text(raw: bytes) -> str:
    if len(raw) > MAX_SPEC_BYTES:
        raise ApiError(413, "Body too large", f"at most {MAX_SPEC_BYTES:,} bytes")
    source = raw.decode("utf-8", errors="replace")
    if "\x00" in source:
        raise ApiError(400, "Unreadable workflow", "the body contains a NUL character")
    return source


def _read(source: str) -> tuple[Any, list[Problem]]:
    """The document in `source`, or None with the reason it cannot be read."""
    try:
        return yaml.safe_load(source), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem("", f"{where}{reason}", "fix the YAML syntax there")]
    except RecursionError:
        return None, [Problem("", "the document is nested too deeply")]


def _step_id(document: Any, path: str) -> str | None:
    """The step a problem's path is about: `steps[2].wait` → that step's id."""
    if path.startswith("trigger"):
        return "trigger"
    if path.startswith("layout."):
        return path.removeprefix("layout.").split(".")[0]
    if not path.startswith("steps["):
        return None
    index = path[len("steps[") :].split("]")[0]
    steps = document.get("steps") if isinstance(document, Mapping) else None
    if not index.isdigit() or not isinstance(steps, list) or int(index) >= len(steps):
        return None
    step = steps[int(index)]
    found = step.get("id") if isinstance(step, Mapping) else None
    return found if isinstance(found, str) else None


def _validation(
    source: str, key: str | None = None, known: Knowledge | None = None
) -> tuple[Any, Validation]:
    """Read and validate `source`; the workflow model (None when invalid) and the verdict.
    With `known`, against the workspace as a deploy checks it (its workflows, forms and
    events), so the builder shows every problem that would refuse the publish."""
    document, found = _read(source)
    workflow = None
    if not found:
        workflow, found = known.validate(document) if known else validate_workflow(document)
    if key is not None and isinstance(document, Mapping) and document.get("id") != key:
        found = [
            Problem(
                "id",
                f"the draft of {key!r} says id {document.get('id')!r}",
                f"set id: {key}, or save it as a draft of {document.get('id')!r}",
            ),
            *found,
        ]
        workflow = None
    out = [
        ProblemOut(
            step_id=_step_id(document, p.path),
            path=p.path,
            message=p.message,
            hint=p.hint,
            severity=p.severity,
        )
        for p in found
    ]
    valid = workflow is not None and not any(p.severity == "error" for p in found)
    return (workflow if valid else None), Validation(valid=valid, problems=out)


def _draft_out(draft: Draft, known: Knowledge) -> DraftOut:
    _, verdict = _validation(draft.source, draft.key, known)
    return DraftOut(
        key=draft.key,
        source=draft.source,
        updated_at=draft.updated_at,
        updated_by=draft.updated_by,
        valid=verdict.valid,
        problems=verdict.problems,
    )


@router.post(
    "/workflows/validate",
    response_model=Validation,
    responses=problems(400, 413),
    openapi_extra=SPEC_BODY,
)
def validate(request: Request, raw: RawBody, admin: AdminDep) -> Validation:
    """Every problem the validator finds in a workflow (YAML or JSON), each with its step id,
    field path, message and 'did you mean'; nothing is stored. Always 200: the problems are
    the answer."""
    note_unchanged(request)
    source = _text(raw)
    with admin.engine.connect() as conn:
        known = workspace_knowledge(conn, admin.workspace_id)
    return _validation(source, known=known)[1]


@router.get("/workflow-drafts", response_model=list[DraftSummary])
def list_drafts(admin: AdminDep) -> list[DraftSummary]:
    """Every unpublished draft in the workspace, including those of workflows not yet
    published."""
    with admin.engine.connect() as conn:
        drafts = draft_keys(conn, admin.workspace_id)
    return [
        DraftSummary(key=d.key, updated_at=d.updated_at, updated_by=d.updated_by) for d in drafts
    ]


@router.get("/workflows/{key}/draft", response_model=DraftOut, responses=problems(404))
def get_saved_draft(key: WorkflowKey, admin: AdminDep) -> DraftOut:
    """The draft of a workflow, with the validator's problems; 404 when there is none."""
    with admin.engine.connect() as conn:
        draft = get_draft(conn, admin.workspace_id, key)
        known = workspace_knowledge(conn, admin.workspace_id)
    if draft is None:
        raise ApiError(404, "Not found", f"no draft of {key!r}; the published version is current")
    return _draft_out(draft, known)


@router.put(
    "/workflows/{key}/draft",
    response_model=DraftOut,
    responses=problems(400, 413),
    openapi_extra=SPEC_BODY,
)
def save(key: WorkflowKey, request: Request, raw: RawBody, admin: AdminDep) -> DraftOut:
    """Keep the text as the workflow's draft, valid or not; the answer says what the validator
    thinks of it. The engine keeps running the published version."""
    source = _text(raw)
    for attempt in attempts(admin.engine):
        with attempt as conn:
            draft = save_draft(
                conn, admin.workspace_id, key, source, admin.clock.now(), admin.caller.actor
            )
            known = workspace_knowledge(conn, admin.workspace_id)
    note_change(request, key, draft=True)
    return _draft_out(draft, known)


@router.delete("/workflows/{key}/draft", status_code=204, responses=problems(404))
def discard(key: WorkflowKey, request: Request, admin: AdminDep) -> None:
    """Throw the draft away; the published version stays as it is."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            if not discard_draft(conn, admin.workspace_id, key):
                raise ApiError(404, "Not found", f"no draft of {key!r}")
    note_change(request, key, draft=True)


class PublishIn(BaseModel):
    """Publishing's options: move the journeys waiting in older versions onto the new one,
    in the same request, with the map for the steps renamed or replaced."""

    move: bool = False
    map: dict[StepId, StepId] = Field(default_factory=dict, max_length=200)


class Published(Deployed):
    """The version published and, when asked for, what the move of the waiting journeys did.

    The move comes after the publish has committed, a batch of journeys per transaction (as
    `migration/apply` does): when it fails part way, the new version is live, each journey is
    on its old version or its new one (never between), and `move_error` says what happened;
    asking for the move again (`migration/apply` with the same map) moves the rest."""

    move: MigrationOut | None = None
    move_error: str | None = None


@router.post(
    "/workflows/{key}/publish", response_model=Published, responses=problems(400, 404, 409, 422)
)
def publish(
    key: WorkflowKey, request: Request, admin: AdminDep, body: PublishIn | None = None
) -> Published:
    """Deploy the draft as the workflow's next version and make it active; the draft is then
    gone. Problems come back as 422 and the draft stays. With `move`, the journeys waiting
    in older versions then move onto it, as `migration/apply` moves them; a map that does
    not fit is refused (422) before anything is published."""
    options = body or PublishIn()
    step_map = dict(options.map)
    if step_map and not options.move:
        # A map alone would be ignored silently: the editor meant to move someone.
        raise ApiError(
            422,
            "Invalid request",
            "map needs move: true",
            [Problem("map", "map needs move: true", "add move: true, or leave the map out")],
        )
    for attempt in attempts(admin.engine):
        with attempt as conn:
            draft = get_draft(conn, admin.workspace_id, key)
            if draft is None:
                raise ApiError(404, "Not found", f"no draft of {key!r} to publish")
            workflow, verdict = _validation(
                draft.source, key, workspace_knowledge(conn, admin.workspace_id)
            )
            if workflow is None:
                errors = [
                    Problem(p.path, p.message, p.hint)
                    for p in verdict.problems
                    if p.severity == "error"
                ]
                raise SpecInvalid(f"draft of {key}", errors)
            if options.move:
                moves.check_map(conn, admin.catalog, admin.workspace_id, key, step_map, workflow)
            _, version, created = deploy_workflow(
                conn, admin.workspace_id, workflow, draft.source, admin.clock.now()
            )
            discard_draft(conn, admin.workspace_id, key)
    moved, move_error = None, None
    if options.move:
        moved, move_error = _move_waiting(admin, key, step_map)
    # One request, one line on the audit log: the publish and, when asked, the move.
    details: dict[str, Any] = {"version": version, "created_version": created, "published": True}
    if options.move:
        details["map"] = step_map
        details["moved"] = moved.moved if moved else None
        details["stranded"] = moved.stranded if moved else None
        details["move_error"] = move_error
    note_change(request, key, **details)
    return Published(
        key=workflow.id,
        name=workflow.name,
        status="active",
        version=version,
        created_version=created,
        warnings=[{"path": p.path, "message": p.message, "hint": p.hint} for p in verdict.problems],
        move=moved,
        move_error=move_error,
    )


def _move_waiting(
    admin: AdminDep, key: str, step_map: dict[str, str]
) -> tuple[MigrationOut | None, str | None]:
    """Move the waiting journeys onto the version just published; what was done, or why
    not. The publish stands either way, so a failure is answered, not raised."""
    try:
        plan = moves.apply(
            admin.engine, admin.clock, admin.catalog, admin.workspace_id, key, step_map
        )
    except SpecInvalid as exc:  # the version is live: say which problems stopped the move
        logger.warning("the move after a publish was refused", extra={"key": key})
        problems = "; ".join(f"{p.path}: {p.message}" for p in exc.problems)
        return None, (
            f"the waiting contacts were not moved ({problems}); each is on its old version; "
            "move them again with a map that fits"
        )
    except Exception as exc:  # the version is live: say what failed, never hide the publish
        logger.exception("moving waiting journeys after a publish failed", extra={"key": key})
        reason = str(exc).splitlines()[0] if isinstance(exc, TidingsError) else "a server error"
        return None, (
            f"the waiting contacts were not all moved ({reason}); each is on its old version "
            "or the new one; move them again to move the rest"
        )
    return migration_out(plan, applied=True), None


def _as_yaml(spec: Any) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


@router.get("/workflows/{key}/diff", response_model=VersionDiff, responses=problems(404))
def diff(
    key: WorkflowKey,
    admin: AdminDep,
    before: str = Query(..., alias="from", pattern=r"^([1-9][0-9]{0,8}|draft)$"),
    after: str = Query(..., alias="to", pattern=r"^([1-9][0-9]{0,8}|draft)$"),
) -> VersionDiff:
    """A unified diff, as YAML, between two versions of a workflow (a number, or `draft`)."""
    with admin.engine.connect() as conn:
        row = browse.get_workflow(conn, admin.workspace_id, key)
        versions = (
            {}
            if row is None
            else {v.version: v.spec for v in browse.workflow_versions_of(conn, row.id)}
        )
        draft = get_draft(conn, admin.workspace_id, key)

    def side(which: str) -> str:
        if which == "draft":
            if draft is None:
                raise ApiError(404, "Not found", f"no draft of {key!r}")
            workflow, _ = _validation(draft.source, key)
            if workflow is not None:
                return _as_yaml(spec_to_json(workflow))
            return draft.source
        if row is None:
            raise WorkflowNotFound(f"no workflow {key!r} in this workspace")
        if int(which) not in versions:
            raise ApiError(
                404, "Not found", f"{key!r} has versions 1 to {max(versions)}, not {which}"
            )
        # Re-read through the model: PostgreSQL's JSONB keeps keys in its own order, and a
        # diff must compare field by field in the order people write them.
        return _as_yaml(spec_to_json(Workflow.model_validate(versions[int(which)])))

    old, new = side(before), side(after)
    label = {b: (b if b == "draft" else f"version {b}") for b in (before, after)}
    text = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=label[before],
            tofile=label[after],
        )
    )
    return VersionDiff(before=before, after=after, diff=text)
