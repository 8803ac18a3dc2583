"""POST /api/workflows/{key}/dry-run: what a deployed workflow would do to the workspace's
own contacts, replayed on a copy (runtime/dry_run.py); nothing is sent or changed.

Bounded for a request: a sample of at most `API_LIMITS.contacts` contacts, a history window
of at most a year, `API_LIMITS.days` more days and `API_LIMITS.seconds` of work, one dry run
at a time per server. FastAPI runs this plain `def` route on a worker thread, off the event
loop, so ingest and the console go on answering meanwhile.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.moves import draft_spec
from tidings.api.admin.views import WorkflowKey
from tidings.api.audit import note_unchanged
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.core.duration import parse_duration
from tidings.errors import ConfigError, WorkflowNotFound
from tidings.runtime.dry_run import ContactSample, Limits, dry_run
from tidings.runtime.dry_summary import DryRunSummary
from tidings.storage import browse
from tidings.storage.people import Role
from tidings.storage.workflows import version_sources
from tidings.storage.workspaces import report_time

router = APIRouter(prefix="/workflows", tags=["workflows"], dependencies=[requires(Role.EDITOR)])

#: What one dry run may take when asked over HTTP.
API_LIMITS = Limits(contacts=2_000, events=50_000, days=30, history=200_000, seconds=60)
#: One dry run at a time: each copies contacts and keeps a worker thread busy.
_RUNNING = threading.BoundedSemaphore(1)


class DryRunIn(BaseModel):
    """Which contacts to copy, how far back to replay their events, how long to go on."""

    sample: int = Field(500, ge=1, le=API_LIMITS.contacts, description="contacts, at random")
    since: str = Field("30d", max_length=16, description="replay the events of this long ago")
    days: float = Field(7, ge=0, le=API_LIMITS.days, description="virtual days after")
    seed: int = Field(7, ge=0, le=2**31 - 1)
    #: Run the builder's unpublished draft of the workflow instead of its live version: the
    #: publish dialog's "on your contacts" before anything is published.
    draft: bool = False


@router.post("/{key}/dry-run", response_model=DryRunSummary, responses=problems(400, 404, 422, 429))
def dry_run_workflow(
    key: WorkflowKey, body: DryRunIn, admin: AdminDep, request: Request
) -> DryRunSummary:
    """Replay a sample of the workspace's contacts and their recent events through the
    workflow's current version (or, with `draft`, its unpublished draft), with the
    workspace's policies, scoring model and segments;
    per step: reached, sent, deferred and dropped by each policy, arms taken."""
    note_unchanged(request)  # a dry run changes nothing: nothing for the audit trail
    try:
        since = parse_duration(body.since)
    except ValueError as exc:
        raise ConfigError(f"since: {exc}") from exc
    with admin.engine.connect() as conn:
        now = report_time(conn, admin.workspace_id, admin.clock.now())
        if not body.draft:
            row = browse.get_workflow(conn, admin.workspace_id, key)
            if row is None:
                raise WorkflowNotFound(f"no workflow {key!r} in this workspace")
            spec = admin.catalog.version(conn, row.id, row.current_version)
            version = (row.current_version, row.current_version)
            source = version_sources(conn, admin.workspace_id, key, version).get(
                row.current_version
            )
    if body.draft:
        # Read exactly as publishing will read it (the migration dry run does the same).
        spec, source = draft_spec(admin, key)
    if not _RUNNING.acquire(blocking=False):
        raise ApiError(429, "Busy", "another dry run is running; try again when it is done")
    try:
        return dry_run(
            admin.engine,
            admin.workspace_id,
            [(spec, source or "")],
            now,
            sample=ContactSample(body.sample, since, body.seed),
            days=body.days,
            limits=API_LIMITS,
            label=f"a sample of {body.sample:,} contacts, events of the last {body.since}",
        )
    finally:
        _RUNNING.release()
