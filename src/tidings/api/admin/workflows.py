"""Workflows: create from YAML or JSON, versions, activate, pause, archive, stats, enrollments."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import yaml
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from tidings.api.admin.deps import AdminDep, RawBody
from tidings.api.admin.knowledge import workspace_knowledge
from tidings.api.admin.views import AfterQuery, EnrollmentOut, WorkflowKey, enrollment_out
from tidings.api.audit import note_change, note_unchanged
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.api.preview_frames import FrameStore
from tidings.core.approvers import member_problems
from tidings.core.duration import parse_duration
from tidings.core.preview import preview_template, render_message
from tidings.core.problems import Problem
from tidings.core.render import TimeLimit
from tidings.core.spec import MessageTemplate
from tidings.core.state import ContactView
from tidings.errors import ContactNotFound, SpecInvalid, WorkflowNotFound
from tidings.runtime.test_sends import workflow_to_test
from tidings.runtime.transactions import attempts
from tidings.storage import browse
from tidings.storage.contacts import find_contact, load_contacts
from tidings.storage.list_figures import ListFigures, list_figures
from tidings.storage.people import Role, list_members
from tidings.storage.reports import Period, WorkflowFigures, earlier, workflow_figures
from tidings.storage.workflows import WorkflowStatus, deploy_workflow, list_workflows, set_status
from tidings.storage.workspaces import report_time

router = APIRouter(prefix="/workflows", tags=["workflows"], dependencies=[requires(Role.EDITOR)])
MAX_SPEC_BYTES = 256 * 1024


class WorkflowOut(BaseModel):
    """A workflow and where it stands."""

    key: str
    name: str
    status: str
    version: int


class VersionOut(BaseModel):
    """One stored version of a workflow."""

    version: int
    created_at: datetime
    spec: dict[str, Any]


class WorkflowDetail(WorkflowOut):
    """A workflow with all its versions."""

    versions: list[VersionOut]


class Deployed(WorkflowOut):
    """The result of creating or changing a workflow."""

    created_version: bool
    warnings: list[dict[str, str]]


def _find(admin: AdminDep, key: str) -> Any:
    with admin.engine.connect() as conn:
        row = browse.get_workflow(conn, admin.workspace_id, key)
    if row is None:
        raise WorkflowNotFound(f"no workflow {key!r} in this workspace")
    return row


class ListedFigures(BaseModel):
    """A workflow's figures for the list, over the period asked for."""

    in_journey: int = Field(description="journeys active or waiting now, whatever the period")
    entered: int = Field(description="journeys that entered inside the period")
    converted: int = Field(description="conversions inside the period")
    entered_converted: int = Field(
        description="of the journeys that entered inside the period, those that converted: "
        "the conversion rate is this over `entered`"
    )
    last_entered_at: datetime | None = Field(
        description="the latest entry inside the period, if any"
    )
    has_goal: bool = Field(description="whether the current version has a goal to convert on")


class WorkflowListed(WorkflowOut):
    """A workflow in the list, with its figures when they were asked for."""

    figures: ListedFigures | None = None


def _figures_since(admin: AdminDep, conn: Connection, text: str) -> datetime:
    """The start of the period `figures` asks for, back from the workspace's now."""
    try:
        span = parse_duration(text)
    except ValueError as exc:
        raise ApiError(400, "Invalid query", problems=[Problem("figures", str(exc))]) from exc
    except OverflowError as exc:
        problem = Problem("figures", f"{text!r} is longer than the calendar", "like 30d")
        raise ApiError(400, "Invalid query", problems=[problem]) from exc
    return earlier(report_time(conn, admin.workspace_id, admin.clock.now()), span)


@router.get("", response_model=list[WorkflowListed], responses=problems(400))
def list_all(
    admin: AdminDep,
    figures: str | None = Query(
        None,
        description="add each workflow's figures over this period back from now, like 30d",
    ),
) -> list[WorkflowListed]:
    """Every workflow in the workspace; with `figures`, how each is doing."""
    with admin.engine.connect() as conn:
        rows = list_workflows(conn, admin.workspace_id)
        found: dict[int, ListFigures] = {}
        if figures is not None:
            since = _figures_since(admin, conn, figures)
            found = list_figures(conn, admin.workspace_id, since)
        # The catalog keeps the specs it has read: no statement per workflow once warm.
        goals = {
            r.id: admin.catalog.version(conn, r.id, r.current_version).goal is not None
            for r in rows
            if r.id in found
        }
    listed = []
    for r in rows:
        counted = found.get(r.id)
        shown = None
        if counted is not None:
            shown = ListedFigures(**asdict(counted), has_goal=goals[r.id])
        listed.append(
            WorkflowListed(
                key=r.key,
                name=r.name,
                status=r.status.value,
                version=r.current_version,
                figures=shown,
            )
        )
    return listed


@router.post(
    "",
    response_model=Deployed,
    status_code=201,
    responses=problems(413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def create(request: Request, admin: AdminDep, raw: RawBody) -> Deployed:
    """Create a workflow, or a new version of it, from YAML or JSON; problems come back as 422."""
    if len(raw) > MAX_SPEC_BYTES:
        raise ApiError(413, "Body too large", f"at most {MAX_SPEC_BYTES:,} bytes")
    source = raw.decode("utf-8", errors="replace")
    if "\x00" in source:
        raise ApiError(400, "Unreadable workflow", "the body contains a NUL character")
    try:
        is_json = "json" in request.headers.get("content-type", "")
        document = json.loads(source) if is_json else yaml.safe_load(source)
    except (ValueError, yaml.YAMLError) as exc:
        raise ApiError(400, "Unreadable workflow", str(exc).splitlines()[0]) from exc
    except RecursionError as exc:
        # Both readers recurse; a document this deep is never a workflow.
        raise ApiError(400, "Unreadable workflow", "the document is nested too deeply") from exc
    with admin.engine.connect() as conn:
        known = workspace_knowledge(conn, admin.workspace_id)
        members = [(m.email, m.role.value) for m in list_members(conn, admin.workspace_id)]
    workflow, problems = known.validate(document)
    errors = [p for p in problems if p.severity == "error"]
    if workflow is None or errors:
        raise SpecInvalid("workflow", errors or [Problem("", "not a workflow")])
    # A person named to approve who cannot decide here would wait the step out.
    problems = [*problems, *member_problems(workflow, members)]
    for attempt in attempts(admin.engine):
        with attempt as conn:
            _, version, created = deploy_workflow(
                conn, admin.workspace_id, workflow, source, admin.clock.now()
            )
    note_change(request, workflow.id, version=version, created_version=created)
    warnings = [{"path": p.path, "message": p.message, "hint": p.hint} for p in problems]
    return Deployed(
        key=workflow.id,
        name=workflow.name,
        status="active",
        version=version,
        created_version=created,
        warnings=warnings,
    )


@router.get("/{key}", response_model=WorkflowDetail)
def get_one(key: WorkflowKey, admin: AdminDep) -> WorkflowDetail:
    """A workflow with every version's spec."""
    row = _find(admin, key)
    with admin.engine.connect() as conn:
        versions = browse.workflow_versions_of(conn, row.id)
    return WorkflowDetail(
        key=row.key,
        name=row.name,
        status=row.status,
        version=row.current_version,
        versions=[
            VersionOut(version=v.version, created_at=v.created_at, spec=v.spec) for v in versions
        ],
    )


def _set(key: WorkflowKey, admin: AdminDep, status: WorkflowStatus) -> WorkflowOut:
    for attempt in attempts(admin.engine):
        with attempt as conn:
            set_status(conn, admin.workspace_id, key, status, admin.clock.now())
    row = _find(admin, key)
    return WorkflowOut(key=row.key, name=row.name, status=row.status, version=row.current_version)


@router.post("/{key}/activate", response_model=WorkflowOut)
def activate(key: WorkflowKey, admin: AdminDep) -> WorkflowOut:
    """Let the workflow take new contacts."""
    return _set(key, admin, WorkflowStatus.ACTIVE)


@router.post("/{key}/pause", response_model=WorkflowOut)
def pause(key: WorkflowKey, admin: AdminDep) -> WorkflowOut:
    """Take no new contacts; journeys already running go on."""
    return _set(key, admin, WorkflowStatus.PAUSED)


@router.post("/{key}/archive", response_model=WorkflowOut)
def archive(key: WorkflowKey, admin: AdminDep) -> WorkflowOut:
    """Retire the workflow."""
    return _set(key, admin, WorkflowStatus.ARCHIVED)


@router.get("/{key}/stats", response_model=WorkflowFigures)
def stats(
    key: WorkflowKey,
    admin: AdminDep,
    since: date | None = Query(None, description="first day included, YYYY-MM-DD (UTC)"),
    until: date | None = Query(None, description="last day included, YYYY-MM-DD (UTC)"),
    daily: bool = Query(False, description="add a row per UTC day"),
    version: int | None = Query(None, ge=1, description="only journeys on this version"),
) -> WorkflowFigures:
    """Entered, sent, delivered, opened, clicked, converted, revenue, unsubscribed, bounced,
    resends, exited and waiting: in total, per version, per step (with drop-off) and per
    day."""
    _find(admin, key)
    period = Period.of_days(since, until)
    with admin.engine.connect() as conn:
        (figures,) = [
            f
            for f in workflow_figures(
                conn, admin.workspace_id, admin.catalog, period, daily=daily, version=version
            )
            if f.key == key
        ]
    return figures


@router.get("/{key}/enrollments", response_model=list[EnrollmentOut])
def enrollments(
    key: WorkflowKey,
    admin: AdminDep,
    status: str | None = Query(None, pattern="^(active|waiting|completed|exited)$"),
    step: str | None = Query(
        None, max_length=64, description="only journeys at this step (where they wait or ended)"
    ),
    after: AfterQuery = 0,
    limit: int = Query(50, ge=1, le=500),
) -> list[EnrollmentOut]:
    """The workflow's enrollments, in id order, a page at a time."""
    row = _find(admin, key)
    with admin.engine.connect() as conn:
        found = browse.list_enrollments(
            conn,
            admin.workspace_id,
            workflow_id=row.id,
            status=status,
            step_id=step,
            after=after,
            limit=limit,
        )
    return [enrollment_out(r) for r in found]


class TemplateSource(BaseModel):
    """Template text being edited, rendered in place of the stored template."""

    subject: str | None = Field(None, max_length=2_000)
    html: str | None = Field(None, max_length=200_000)
    text: str | None = Field(None, max_length=50_000)

    def template(self) -> MessageTemplate:
        """As a template; one with a subject alone gets an empty text, so it still renders."""
        text = "" if self.html is None and self.text is None else self.text
        return MessageTemplate(subject=self.subject, html=self.html, text=text)


class PreviewIn(BaseModel):
    """What to render: a template, for a contact (or a blank one), with a sample event."""

    template: str = Field(max_length=64)
    #: The contact: its id, user id or email; a contact with no fields when unset.
    contact: str | None = Field(None, max_length=320)
    #: The trigger event's properties, as `event.*` and `trigger.*` read them.
    event: dict[str, Any] = Field(default_factory=dict)
    #: The template's text as an editor has it now, rendered in place of the stored one.
    source: TemplateSource | None = None
    #: Render from the workspace's draft of the workflow when it validates (the builder).
    draft: bool = False


class TemplatePreviewOut(BaseModel):
    """A rendered message; nothing was sent or stored."""

    subject: str | None
    html: str | None
    text: str | None
    #: Where the HTML can be shown as a page of its own, with its inline styles, under a
    #: strict policy of its own (no scripts): for a sandboxed iframe, for a few minutes.
    frame: str | None = None


@router.post("/{key}/preview", response_model=TemplatePreviewOut, responses=problems(400, 404))
def preview(
    key: WorkflowKey, body: PreviewIn, request: Request, admin: AdminDep
) -> TemplatePreviewOut:
    """Render one of the current version's templates for a contact and a sample event,
    as its send step would; nothing is sent, stored or counted."""
    note_unchanged(request)  # the builder previews as the editor types: no audit entry each
    with admin.engine.connect() as conn:
        spec = None
        if body.draft:
            try:
                spec = workflow_to_test(conn, admin.catalog, admin.workspace_id, key)
            except WorkflowNotFound:
                # A workflow still being drawn: the text typed renders without it.
                if body.source is None:
                    raise
        else:
            row = _find(admin, key)
            spec = admin.catalog.version(conn, row.id, row.current_version)
        person = ContactView(id=0)
        if body.contact is not None:
            found = find_contact(conn, admin.workspace_id, body.contact)
            if found is None:
                raise ContactNotFound(f"no contact {body.contact!r} in this workspace")
            person = load_contacts(conn, [found])[found]
    source = body.source.template() if body.source is not None else None
    limit = TimeLimit(admin.limits.render_seconds, admin.limits.render_clock)
    if spec is None:
        assert source is not None  # only a draft preview with its text gets here
        result = render_message(source, body.template, (key, key), person, body.event, limit)
    else:
        result = preview_template(spec, body.template, person, body.event, limit, source)
    if isinstance(result, Problem):
        raise ApiError(400, "Bad Request", result.message, [result])
    frames: FrameStore = request.app.state.preview_frames
    frame = frames.keep(admin.workspace_id, result.html) if result.html is not None else None
    return TemplatePreviewOut(
        subject=result.subject, html=result.html, text=result.text, frame=frame
    )
