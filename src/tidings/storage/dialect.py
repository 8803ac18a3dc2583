"""The one place that picks dialect-specific statement builders."""

from __future__ import annotations

from collections.abc import Callable
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


_STATEMENTS: dict[tuple[str, str], Any] = {}


def prepared(conn: Connection, name: str, build: Callable[[Connection], Any]) -> Any:
    """A statement built once per dialect and reused, parameters bound at execution.

    Building a SQLAlchemy statement costs more than running a small one (cache keys,
    coercions); the hot paths build theirs once (measured in bench/).
    """
    key = (conn.dialect.name, name)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build(conn)
    return statement
