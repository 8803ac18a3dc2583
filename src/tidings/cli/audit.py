"""The CLI's lines on the audit trail: a change made from a shell is recorded as the same
action the API records for it, so the log answers who changed what whichever way it was done."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from tidings.clock import SystemClock
from tidings.storage.audit import record_change


def note_cli_change(
    conn: Connection,
    workspace_id: int,
    action: str,
    subject_type: str,
    subject_key: str = "",
    **details: Any,
) -> None:
    """Record `action` (the API's name for it) on the audit trail, by the CLI, now."""
    record_change(
        conn,
        workspace_id,
        actor_type="cli",
        actor="cli",
        at=SystemClock().now(),
        action=action,
        subject_type=subject_type,
        subject_key=subject_key,
        details=details,
    )
