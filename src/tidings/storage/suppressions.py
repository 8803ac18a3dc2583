"""The suppression list: addresses nothing is ever sent to, kept only as hashes.

Erased contacts, hard bounces, complaints and addresses added by hand all land here; the
dispatcher checks every recipient against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select

from tidings.storage.dialect import insert_for, prepared
from tidings.storage.tables import suppressions


def identifier_hash(kind: str, value: str) -> str:
    """The SHA-256 kept for an identifier; emails compare without case or spaces."""
    normal = value.strip().lower() if kind == "email" else value.strip()
    return hashlib.sha256(f"{kind}:{normal}".encode()).hexdigest()


def suppress(
    conn: Connection,
    workspace_id: int,
    identifiers: Iterable[tuple[str, str]],
    reason: str,
    now: datetime,
) -> int:
    """Put (kind, value) identifiers on the list; one already there stays as it was.
    Returns how many were given."""
    rows = [
        {
            "workspace_id": workspace_id,
            "kind": kind,
            "value_hash": identifier_hash(kind, value),
            "reason": reason[:200],
            "created_at": now,
        }
        for kind, value in identifiers
    ]
    if rows:
        stmt = insert_for(conn, suppressions).on_conflict_do_nothing(
            index_elements=["workspace_id", "kind", "value_hash"]
        )
        conn.execute(stmt, rows)
    return len(rows)


def suppressed(
    conn: Connection, workspace_id: int, identifiers: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The (kind, value) identifiers on the list, with the reason each was put there."""
    by_hash = {identifier_hash(kind, value): (kind, value) for kind, value in identifiers}
    if not by_hash:
        return {}
    stmt = prepared(
        conn,
        "suppressions_lookup",
        lambda c: select(suppressions.c.value_hash, suppressions.c.reason).where(
            suppressions.c.workspace_id == bindparam("workspace_id"),
            suppressions.c.value_hash.in_(bindparam("hashes", expanding=True)),
        ),
    )
    rows = conn.execute(stmt, {"workspace_id": workspace_id, "hashes": list(by_hash)})
    return {by_hash[value_hash]: reason for value_hash, reason in rows}


def unsuppress(conn: Connection, workspace_id: int, kind: str, value: str) -> bool:
    """Take an identifier off the list; False when it was not on it."""
    done = conn.execute(
        delete(suppressions).where(
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.kind == kind,
            suppressions.c.value_hash == identifier_hash(kind, value),
        )
    )
    return bool(done.rowcount)
