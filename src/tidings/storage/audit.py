"""The audit_log table: who changed what, when, in each workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from tidings.storage.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change."""

    id: int
    actor_type: str
    actor: str
    at: datetime
    action: str
    subject_type: str
    subject_key: str
    details: dict[str, Any]


def record_change(  # noqa: PLR0913 (keyword-only: the entry's fields)
    conn: Connection,
    workspace_id: int,
    *,
    actor_type: str,
    actor: str,
    at: datetime,
    action: str,
    subject_type: str,
    subject_key: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry; entries are never changed or removed."""
    conn.execute(
        audit_log.insert().values(
            workspace_id=workspace_id,
            actor_type=actor_type,
            actor=actor,
            at=at,
            action=action,
            subject_type=subject_type,
            subject_key=subject_key[:200],
            details=details or {},
        )
    )


def list_changes(
    conn: Connection,
    workspace_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest entries first; `before_id` continues a page where the last one ended.

    `subject` is "type" or "type:key" (e.g. "workflows:welcome").
    """
    query = select(audit_log).where(audit_log.c.workspace_id == workspace_id)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if subject:
        kind, _, key = subject.partition(":")
        query = query.where(audit_log.c.subject_type == kind)
        if key:
            query = query.where(audit_log.c.subject_key == key)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit))
    return [
        AuditEntry(
            r.id,
            r.actor_type,
            r.actor,
            r.at,
            r.action,
            r.subject_type,
            r.subject_key,
            dict(r.details or {}),
        )
        for r in rows
    ]
