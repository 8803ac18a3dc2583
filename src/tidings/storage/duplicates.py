"""Finding contacts that are the same person: one email or one phone, several profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from tidings.storage.tables import contacts


def duplicate_groups(conn: Connection, workspace_id: int) -> list[tuple[str, list[Any]]]:
    """(shared identifier, rows) for each email or phone that more than one contact has.

    Emails compare trimmed and lowercased. Only the duplicated keys' rows are read, so the
    cost follows the number of duplicates, not of contacts.
    """
    groups: list[tuple[str, list[Any]]] = []
    for label, column in (
        ("email", func.lower(func.trim(contacts.c.email))),
        ("phone", contacts.c.phone),
    ):
        keys = [
            r[0]
            for r in conn.execute(
                select(column)
                .where(contacts.c.workspace_id == workspace_id, column.is_not(None), column != "")
                .group_by(column)
                .having(func.count() > 1)
            )
        ]
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            rows = conn.execute(
                select(contacts, column.label("shared"))
                .where(contacts.c.workspace_id == workspace_id, column.in_(part))
                .order_by(contacts.c.id)
                .with_for_update()
            ).all()
            by_key: dict[str, list[Any]] = {}
            for row in rows:
                by_key.setdefault(row.shared, []).append(row)
            groups += [(f"{label} {key}", found) for key, found in by_key.items()]
    return groups


def contact_row(conn: Connection, contact_id: int) -> Any:
    """One contact's row as it is now (a merge changes the survivor as it goes)."""
    return conn.execute(select(contacts).where(contacts.c.id == contact_id)).one()
