"""The contacts table: one profile per person, found by the business's own user id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, update

from tidings.core.state import ContactView
from tidings.storage.dialect import insert_for, prepared
from tidings.storage.tables import contacts

#: Traits that live in their own columns rather than in `attributes`.
_COLUMN_TRAITS = ("email", "phone", "timezone")


@dataclass(frozen=True)
class Identity:
    """How an incoming call names its contact, and the traits it carries."""

    external_id: str
    traits: Mapping[str, Any]


def contact_from_row(row: Row[Any]) -> ContactView:
    """Build the core's view of a contact from its row."""
    return ContactView(
        id=row.id,
        external_id=row.external_id,
        email=row.email,
        phone=row.phone,
        timezone=row.timezone,
        attributes=row.attributes,
        tags=frozenset(row.tags),
        consent=row.consent,
        score=row.score,
    )


def _split_traits(traits: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    columns = {k: traits[k] for k in _COLUMN_TRAITS if traits.get(k) is not None}
    attributes = {k: v for k, v in traits.items() if k not in _COLUMN_TRAITS and k != "consent"}
    return columns, attributes


def upsert_contacts(
    conn: Connection, workspace_id: int, identities: Sequence[Identity], now: datetime
) -> dict[str, ContactView]:
    """Create or update the contacts named in `identities`; return them by external id.

    Traits only add and overwrite: a trait missing from a call never erases a known value.
    """
    merged: dict[str, dict[str, Any]] = {}
    for ident in identities:
        merged.setdefault(ident.external_id, {}).update(ident.traits)
    by_external = prepared(conn, "contacts_by_external_id", _by_external_id)
    existing = {
        row.external_id: row
        for row in conn.execute(by_external, {"workspace_id": workspace_id, "ids": list(merged)})
    }
    new_rows = []
    for external_id, traits in merged.items():
        if external_id in existing:
            continue
        columns, attributes = _split_traits(traits)
        consent = traits.get("consent") if isinstance(traits.get("consent"), Mapping) else {}
        new_rows.append(
            {
                "workspace_id": workspace_id,
                "external_id": external_id,
                "email": columns.get("email"),
                "phone": columns.get("phone"),
                "timezone": columns.get("timezone", "UTC"),
                "attributes": attributes,
                "tags": [],
                "consent": dict(consent or {}),
                "score": 0.0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if new_rows:
        conn.execute(prepared(conn, "contacts_insert", _insert_new), new_rows)
    changed = []
    views: dict[str, ContactView] = {}
    for external_id, row in existing.items():
        traits = merged[external_id]
        columns, attributes = _split_traits(traits)
        consent = traits.get("consent") if isinstance(traits.get("consent"), Mapping) else {}
        new_attributes = {**row.attributes, **attributes}
        new_consent = {**row.consent, **(consent or {})}
        values = {c: columns.get(c, getattr(row, c)) for c in _COLUMN_TRAITS}
        views[external_id] = replace(
            contact_from_row(row), attributes=new_attributes, consent=new_consent, **values
        )
        if views[external_id] != contact_from_row(row):
            changed.append(
                {
                    "b_id": row.id,
                    **values,
                    "attributes": new_attributes,
                    "consent": new_consent,
                    "updated_at": now,
                }
            )
    if changed:
        conn.execute(prepared(conn, "contacts_update_traits", _update_by_id), changed)
    if new_rows:
        # Read back rather than RETURNING: a concurrent writer may have inserted the row.
        created = conn.execute(
            by_external,
            {"workspace_id": workspace_id, "ids": [r["external_id"] for r in new_rows]},
        )
        views.update((row.external_id, contact_from_row(row)) for row in created)
    return views


def _by_external_id(conn: Connection) -> Any:
    return select(contacts).where(
        contacts.c.workspace_id == bindparam("workspace_id"),
        contacts.c.external_id.in_(bindparam("ids", expanding=True)),
    )


def _insert_new(conn: Connection) -> Any:
    return insert_for(conn, contacts).on_conflict_do_nothing(
        index_elements=["workspace_id", "external_id"]
    )


def _update_by_id(conn: Connection) -> Any:
    return update(contacts).where(contacts.c.id == bindparam("b_id"))


def load_contacts(conn: Connection, ids: Iterable[int]) -> dict[int, ContactView]:
    """The contacts with these ids, as core views."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    stmt = prepared(
        conn,
        "contacts_by_id",
        lambda c: select(contacts).where(contacts.c.id.in_(bindparam("ids", expanding=True))),
    )
    return {row.id: contact_from_row(row) for row in conn.execute(stmt, {"ids": wanted})}


def save_contacts(conn: Connection, views: Iterable[ContactView], now: datetime) -> None:
    """Write back contacts that workflows changed (attributes, tags, score, consent)."""
    rows = [
        {
            "b_id": v.id,
            "email": v.email,
            "phone": v.phone,
            "timezone": v.timezone,
            "attributes": dict(v.attributes),
            "tags": sorted(v.tags),
            "consent": dict(v.consent),
            "score": v.score,
            "updated_at": now,
        }
        for v in views
    ]
    if rows:
        conn.execute(prepared(conn, "contacts_update_all", _update_by_id), rows)


def find_contact(conn: Connection, workspace_id: int, ref: str) -> int | None:
    """A contact's id from its numeric id, external id or email."""
    query = select(contacts.c.id).where(contacts.c.workspace_id == workspace_id)
    if ref.isdigit():
        found = conn.execute(query.where(contacts.c.id == int(ref))).scalar()
        if found is not None:
            return int(found)
    for column in (contacts.c.external_id, contacts.c.email):
        found = conn.execute(query.where(column == ref).limit(1)).scalar()
        if found is not None:
            return int(found)
    return None


def external_ids(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The business's own user ids of these contacts, by contact id."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(contacts.c.id, contacts.c.external_id).where(contacts.c.id.in_(wanted))
    )
    return {row.id: row.external_id for row in rows if row.external_id is not None}


def count_contacts(conn: Connection) -> int:
    """How many contacts the database holds, across workspaces."""
    return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())
