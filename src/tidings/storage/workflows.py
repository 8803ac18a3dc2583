"""The workflows and workflow_versions tables. Versions are immutable once stored."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from tidings.core.entry import LiveVersion
from tidings.core.spec import Workflow
from tidings.errors import WorkflowNotFound
from tidings.storage.dialect import prepared
from tidings.storage.segments import Segment, list_segments
from tidings.storage.tables import workflow_versions, workflows
from tidings.storage.workspaces import config_stamp, load_scoring_document, touch_config


class WorkflowStatus(StrEnum):
    """Whether a workflow takes new contacts."""

    ACTIVE = "active"  #: triggers start journeys
    PAUSED = "paused"  #: no new journeys; running ones go on
    ARCHIVED = "archived"  #: retired


@dataclass(frozen=True)
class WorkflowRow:
    """A workflow's identity and current state."""

    id: int
    key: str
    name: str
    status: WorkflowStatus
    current_version: int
    updated_at: datetime


def spec_to_json(workflow: Workflow) -> dict[str, Any]:
    """The stored form of a spec."""
    return workflow.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def deploy_workflow(
    conn: Connection, workspace_id: int, workflow: Workflow, source: str, now: datetime
) -> tuple[int, int, bool]:
    """Store `workflow` and make it live. Return (workflow id, version, whether it is new).

    An unchanged spec keeps its version; a changed one becomes the next version, and
    enrollments already running stay on the version they started with.
    """
    spec = spec_to_json(workflow)
    row = conn.execute(
        select(workflows).where(
            workflows.c.workspace_id == workspace_id, workflows.c.key == workflow.id
        )
    ).one_or_none()
    if row is None:
        workflow_id = conn.execute(
            workflows.insert()
            .values(
                workspace_id=workspace_id,
                key=workflow.id,
                name=workflow.name,
                status=WorkflowStatus.ACTIVE,
                current_version=1,
                priority=workflow.priority,
                created_at=now,
                updated_at=now,
            )
            .returning(workflows.c.id)
        ).scalar_one()
        version = 1
    else:
        workflow_id = row.id
        current = conn.execute(
            select(workflow_versions.c.spec).where(
                workflow_versions.c.workflow_id == row.id,
                workflow_versions.c.version == row.current_version,
            )
        ).scalar_one()
        if current == spec:
            conn.execute(
                update(workflows)
                .where(workflows.c.id == row.id)
                .values(status=WorkflowStatus.ACTIVE, updated_at=now)
            )
            touch_config(conn, workspace_id)
            return row.id, row.current_version, False
        version = row.current_version + 1
        conn.execute(
            update(workflows)
            .where(workflows.c.id == row.id)
            .values(
                name=workflow.name,
                current_version=version,
                priority=workflow.priority,
                status=WorkflowStatus.ACTIVE,
                updated_at=now,
            )
        )
    conn.execute(
        workflow_versions.insert().values(
            workflow_id=workflow_id,
            version=version,
            workspace_id=workspace_id,
            spec=spec,
            source=source,
            created_at=now,
        )
    )
    touch_config(conn, workspace_id)
    return workflow_id, version, True


def set_status(
    conn: Connection, workspace_id: int, key: str, status: WorkflowStatus, now: datetime
) -> None:
    """Pause, resume or archive a workflow."""
    result = conn.execute(
        update(workflows)
        .where(workflows.c.workspace_id == workspace_id, workflows.c.key == key)
        .values(status=status, updated_at=now)
    )
    if result.rowcount == 0:
        raise WorkflowNotFound(f"no workflow {key!r} in this workspace")
    touch_config(conn, workspace_id)


def list_workflows(conn: Connection, workspace_id: int) -> list[WorkflowRow]:
    """Every workflow in the workspace, by key."""
    rows = conn.execute(
        select(workflows).where(workflows.c.workspace_id == workspace_id).order_by(workflows.c.key)
    )
    return [
        WorkflowRow(r.id, r.key, r.name, WorkflowStatus(r.status), r.current_version, r.updated_at)
        for r in rows
    ]


@dataclass(frozen=True)
class WorkspaceConfig:
    """What every transaction of a workspace asks about its setup: the live workflows,
    the scoring model and the segments, as of one `config_stamp`."""

    stamp: int
    #: The active workflows' ids and current versions, highest priority first. Their specs
    #: are parsed when asked for (`Catalog.version`): one that no longer loads fails the
    #: journeys that need it, never the reads of the scoring model and the segments.
    live: tuple[tuple[int, int], ...]
    #: The stored scoring model as JSON text with sorted keys ("{}" when there is none).
    scoring: str
    segments: tuple[Segment, ...]


class Catalog:
    """Workflow versions by id, parsed once: versions never change, so caching is safe.
    And each workspace's `WorkspaceConfig`, kept until its stamp moves.

    One catalog belongs to one database; ids mean nothing across databases.
    """

    def __init__(self) -> None:
        self._versions: dict[tuple[int, int], Workflow] = {}
        self._ids: dict[tuple[int, str], int] = {}
        self._keys: dict[int, str] = {}
        self._configs: dict[int, WorkspaceConfig] = {}
        self._lock = threading.Lock()

    def config(self, conn: Connection, workspace_id: int) -> WorkspaceConfig:
        """The workspace's live workflows, scoring model and segments as this transaction
        sees them: one small read of the workspace's stamp while nothing changed, since
        every change to them gives the workspace a new stamp in its own transaction
        (`touch_config`). A publish committed before a transaction begins is seen by it,
        on every worker, as when they were read each time."""
        stamp = config_stamp(conn, workspace_id)
        with self._lock:
            found = self._configs.get(workspace_id)
        if found is not None and stamp is not None and found.stamp == stamp:
            return found
        # Read after the stamp: what is read is at least as new as the stamp says, and a
        # newer stamp, once committed, is what the next transaction reads and misses on.
        found = WorkspaceConfig(
            stamp=stamp if stamp is not None else 0,
            live=tuple(self._live_rows(conn, workspace_id)),
            scoring=json.dumps(load_scoring_document(conn, workspace_id), sort_keys=True),
            segments=tuple(list_segments(conn, workspace_id)),
        )
        if stamp is not None:
            with self._lock:
                self._configs[workspace_id] = found
        return found

    def version(self, conn: Connection, workflow_id: int, version: int) -> Workflow:
        """The spec of one workflow version."""
        key = (workflow_id, version)
        found = self._versions.get(key)
        if found is None:
            spec = conn.execute(
                select(workflow_versions.c.spec).where(
                    workflow_versions.c.workflow_id == workflow_id,
                    workflow_versions.c.version == version,
                )
            ).scalar_one()
            found = Workflow.model_validate(spec)
            self._versions[key] = found
            self._ids[(0, found.id)] = workflow_id
        return found

    def key_of(self, conn: Connection, workflow_id: int) -> str | None:
        """A workflow's key (what people and conditions name it by), or None if it is gone.
        A key never changes for an id, so it is kept."""
        found = self._keys.get(workflow_id)
        if found is None:
            found = conn.execute(
                select(workflows.c.key).where(workflows.c.id == workflow_id)
            ).scalar_one_or_none()
            if found is not None:
                self._keys[workflow_id] = found
        return found

    def live(self, conn: Connection, workspace_id: int) -> list[tuple[int, LiveVersion]]:
        """The active workflows at their current versions, highest priority first."""
        return self.resolve(conn, self._live_rows(conn, workspace_id))

    def resolve(
        self, conn: Connection, live: Iterable[tuple[int, int]]
    ) -> list[tuple[int, LiveVersion]]:
        """(workflow id, version) pairs with their specs."""
        return [(i, LiveVersion(self.version(conn, i, version), version)) for i, version in live]

    def _live_rows(self, conn: Connection, workspace_id: int) -> list[tuple[int, int]]:
        stmt = prepared(
            conn,
            "workflows_live",
            lambda c: (
                select(workflows.c.id, workflows.c.current_version)
                .where(
                    workflows.c.workspace_id == bindparam("workspace_id"),
                    workflows.c.status == WorkflowStatus.ACTIVE.value,
                )
                .order_by(workflows.c.priority.desc(), workflows.c.id)
            ),
        )
        rows = conn.execute(stmt, {"workspace_id": workspace_id}).all()
        return [(r.id, r.current_version) for r in rows]

    def by_key(
        self, conn: Connection, workspace_id: int, key: str
    ) -> tuple[int, LiveVersion] | None:
        """An active workflow by key at its current version, or None."""
        row = conn.execute(
            select(workflows.c.id, workflows.c.current_version).where(
                workflows.c.workspace_id == workspace_id,
                workflows.c.key == key,
                workflows.c.status == WorkflowStatus.ACTIVE,
            )
        ).one_or_none()
        if row is None:
            return None
        return row.id, LiveVersion(
            self.version(conn, row.id, row.current_version), row.current_version
        )


def version_sources(
    conn: Connection, workspace_id: int, key: str, versions: tuple[int, int]
) -> dict[int, str]:
    """The deployed source text of some versions of workflow `key`, by version."""
    rows = conn.execute(
        select(workflow_versions.c.version, workflow_versions.c.source)
        .join(workflows, workflows.c.id == workflow_versions.c.workflow_id)
        .where(
            workflows.c.workspace_id == workspace_id,
            workflows.c.key == key,
            workflow_versions.c.version.in_(versions),
        )
    )
    return {r.version: r.source for r in rows}
