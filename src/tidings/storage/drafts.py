"""The workflow_drafts table: one unpublished working copy per workflow key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from tidings.storage.tables import workflow_drafts


@dataclass(frozen=True)
class Draft:
    """A workflow's working copy, as last saved."""

    key: str
    source: str
    updated_at: datetime
    updated_by: str


def get_draft(conn: Connection, workspace_id: int, key: str) -> Draft | None:
    """The draft saved under `key`, or None."""
    row = conn.execute(
        select(workflow_drafts).where(
            workflow_drafts.c.workspace_id == workspace_id, workflow_drafts.c.key == key
        )
    ).one_or_none()
    return None if row is None else Draft(row.key, row.source, row.updated_at, row.updated_by)


def save_draft(
    conn: Connection, workspace_id: int, key: str, source: str, now: datetime, by: str
) -> Draft:
    """Keep `source` as the draft of `key`, replacing the one before."""
    values = {"source": source, "updated_at": now, "updated_by": by}
    changed = conn.execute(
        update(workflow_drafts)
        .where(workflow_drafts.c.workspace_id == workspace_id, workflow_drafts.c.key == key)
        .values(**values)
    ).rowcount
    if not changed:
        conn.execute(workflow_drafts.insert().values(workspace_id=workspace_id, key=key, **values))
    return Draft(key, source, now, by)


def discard_draft(conn: Connection, workspace_id: int, key: str) -> bool:
    """Drop the draft of `key`; whether there was one."""
    result = conn.execute(
        delete(workflow_drafts).where(
            workflow_drafts.c.workspace_id == workspace_id, workflow_drafts.c.key == key
        )
    )
    return bool(result.rowcount)


def draft_keys(conn: Connection, workspace_id: int) -> list[Draft]:
    """Every draft in the workspace, by key."""
    rows = conn.execute(
        select(workflow_drafts)
        .where(workflow_drafts.c.workspace_id == workspace_id)
        .order_by(workflow_drafts.c.key)
    )
    return [Draft(r.key, r.source, r.updated_at, r.updated_by) for r in rows]
