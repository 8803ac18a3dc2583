"""The workspaces table: one install serves several brands or clients."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, select, update

from tidings.storage.dialect import insert_for, prepared
from tidings.storage.tables import workspaces


def ensure_workspace(conn: Connection, key: str, name: str, now: datetime) -> int:
    """The id of the workspace `key`, creating it if it does not exist."""
    stmt = insert_for(conn, workspaces).values(
        key=key, name=name, created_at=now, secret=secrets.token_urlsafe(32), settings={}
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    found = find_workspace(conn, key)
    assert found is not None
    return found


def find_workspace(conn: Connection, key: str) -> int | None:
    """The id of the workspace `key`, or None."""
    return conn.execute(select(workspaces.c.id).where(workspaces.c.key == key)).scalar()


@dataclass(frozen=True)
class WorkspaceRecord:
    """A workspace's key, signing secret and stored delivery settings."""

    id: int
    key: str
    secret: str
    settings: dict[str, Any]


def load_workspace(conn: Connection, workspace_id: int) -> WorkspaceRecord | None:
    """One workspace with its secret and settings."""
    row = conn.execute(
        select(workspaces.c.id, workspaces.c.key, workspaces.c.secret, workspaces.c.settings).where(
            workspaces.c.id == workspace_id
        )
    ).first()
    if row is None:
        return None
    return WorkspaceRecord(row.id, row.key, row.secret, dict(row.settings or {}))


def mark_simulated(conn: Connection, workspace_id: int, at: datetime) -> None:
    """Say that a simulation filled this workspace, its virtual clock ending at `at`."""
    conn.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(simulated_at=at))


def report_time(conn: Connection, workspace_id: int, now: datetime) -> datetime:
    """The moment a report on this workspace is as of: `now`, or for a simulated
    workspace the end of its virtual time, in which all its data lives."""
    found = conn.execute(
        select(workspaces.c.simulated_at).where(workspaces.c.id == workspace_id)
    ).scalar_one_or_none()
    return now if found is None else found


def load_scoring_document(conn: Connection, workspace_id: int) -> dict[str, Any]:
    """The workspace's stored lead-scoring model (empty when there is none)."""
    found = conn.execute(
        select(workspaces.c.scoring).where(workspaces.c.id == workspace_id)
    ).scalar_one_or_none()
    return dict(found or {})


def save_scoring_document(conn: Connection, workspace_id: int, document: dict[str, Any]) -> None:
    """Replace the workspace's lead-scoring model."""
    conn.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(scoring=document))
    touch_config(conn, workspace_id)


def touch_config(conn: Connection, workspace_id: int | ColumnElement[int]) -> None:
    """Say that the workspace's live workflows, scoring model or segments changed, in the
    transaction that changes them: every process reads them again at its next transaction
    (`Catalog.config`). The stamp is random, so it never names an older state again, nor
    one of another database, and a rolled-back change leaves the old stamp in force."""
    conn.execute(
        update(workspaces)
        .where(workspaces.c.id == workspace_id)
        .values(config_stamp=secrets.randbits(62))
    )


def config_stamp(conn: Connection, workspace_id: int) -> int | None:
    """The workspace's current stamp (see `touch_config`), or None if there is no such
    workspace."""
    stmt = prepared(
        conn,
        "workspace_config_stamp",
        lambda c: select(workspaces.c.config_stamp).where(
            workspaces.c.id == bindparam("workspace_id")
        ),
    )
    found: int | None = conn.execute(stmt, {"workspace_id": workspace_id}).scalar_one_or_none()
    return found


def save_settings(conn: Connection, workspace_id: int, settings: dict[str, Any]) -> None:
    """Replace the workspace's delivery settings."""
    conn.execute(
        update(workspaces).where(workspaces.c.id == workspace_id).values(settings=settings)
    )


def list_workspace_keys(conn: Connection) -> list[str]:
    """Every workspace's key, in alphabetical order."""
    return list(conn.execute(select(workspaces.c.key).order_by(workspaces.c.key)).scalars())


def allowed_origins(conn: Connection) -> dict[int, frozenset[str]]:
    """Each workspace's allowed web origins (the `allowed_origins` setting), by id."""
    rows = conn.execute(select(workspaces.c.id, workspaces.c.settings))
    return {
        row.id: frozenset(str(o) for o in (row.settings or {}).get("allowed_origins") or ())
        for row in rows
    }
