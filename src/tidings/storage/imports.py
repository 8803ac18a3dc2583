"""The statements an import needs: find known contacts by any identifier, write in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from tidings.storage.tables import contacts

_COLUMNS = ("external_id", "email", "phone", "timezone", "attributes", "tags", "consent")


def find_known(
    conn: Connection,
    workspace_id: int,
    *,
    external_ids: set[str],
    emails: set[str],
    phones: set[str],
) -> list[dict[str, Any]]:
    """Contacts with any of these user ids, emails or phones, as mutable dicts.

    One query per kind of identifier, each on its own index: an OR of the three makes
    the planner scan the table, and a table filled by this very import has no
    statistics yet to tell it otherwise.
    """
    found: dict[int, dict[str, Any]] = {}
    for column, values in (
        (contacts.c.external_id, external_ids),
        (contacts.c.email, emails),
        (contacts.c.phone, phones),
    ):
        if not values:
            continue
        rows = conn.execute(
            select(contacts.c.id, *(contacts.c[c] for c in _COLUMNS))
            .where(contacts.c.workspace_id == workspace_id, column.in_(sorted(values)))
            .order_by(contacts.c.id)
            .with_for_update()
        )
        for row in rows:
            found.setdefault(
                row.id,
                {
                    **row._mapping,
                    "attributes": dict(row.attributes),
                    "tags": list(row.tags),
                    "consent": dict(row.consent),
                },
            )
    return [found[i] for i in sorted(found)]


def insert_contacts(conn: Connection, workspace_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Create contacts in one statement."""
    if rows:
        conn.execute(insert(contacts), [{**r, "workspace_id": workspace_id} for r in rows])


def update_contacts(conn: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Write back changed contacts in one statement."""
    if not rows:
        return
    statement = (
        update(contacts)
        .where(contacts.c.id == bindparam("b_id"))
        .values({c: bindparam(f"b_{c}") for c in _COLUMNS} | {"updated_at": bindparam("b_at")})
    )
    conn.execute(
        statement,
        [{"b_id": r["id"], **{f"b_{c}": r[c] for c in _COLUMNS}, "b_at": now} for r in rows],
    )


def refresh_statistics(conn: Connection) -> None:
    """Let PostgreSQL's planner see the rows this import has written so far: without it,
    the planner still believes the table is as small as before the import, and its plans
    for the look-ups grow slower with every batch (measured in bench/)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE contacts")
