"""The workspaces table: one install serves several brands or clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from tidings.storage.dialect import insert_for
from tidings.storage.tables import workspaces


def ensure_workspace(conn: Connection, key: str, name: str, now: datetime) -> int:
    """The id of the workspace `key`, creating it if it does not exist."""
    stmt = insert_for(conn, workspaces).values(key=key, name=name, created_at=now)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    found = find_workspace(conn, key)
    assert found is not None
    return found


def find_workspace(conn: Connection, key: str) -> int | None:
    """The id of the workspace `key`, or None."""
    return conn.execute(select(workspaces.c.id).where(workspaces.c.key == key)).scalar()
