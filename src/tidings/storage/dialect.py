"""The one place that picks dialect-specific statement builders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT on this connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(conn: Connection) -> bool:
    """True on PostgreSQL, where row locks and SKIP LOCKED exist."""
    return conn.dialect.name == "postgresql"
