"""The contacts table: one profile per person, found by the business's own user id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, update

from tidings.core.state import ContactView
from tidings.storage.dialect import insert_for
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
) -> dict[str, int]:
    """Create or update the contacts named in `identities`; return their ids by external id.

    Traits only add and overwrite: a trait missing from a call never erases a known value.
    """
    merged: dict[str, dict[str, Any]] = {}
    for ident in identities:
        merged.setdefault(ident.external_id, {}).update(ident.traits)
    existing = {
        row.external_id: row
        for row in conn.execute(
            select(contacts).where(
                contacts.c.workspace_id == workspace_id,
                contacts.c.external_id.in_(list(merged)),
            )
        )
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
        stmt = insert_for(conn, contacts).on_conflict_do_nothing(
            index_elements=["workspace_id", "external_id"]
        )
        conn.execute(stmt, new_rows)
    changed = []
    for external_id, row in existing.items():
        traits = merged[external_id]
        columns, attributes = _split_traits(traits)
        consent = traits.get("consent") if isinstance(traits.get("consent"), Mapping) else {}
        new_attributes = {**row.attributes, **attributes}
        new_consent = {**row.consent, **(consent or {})}
        values = {c: columns.get(c, getattr(row, c)) for c in _COLUMN_TRAITS}
        if (
            new_attributes != row.attributes
            or new_consent != row.consent
            or any(values[c] != getattr(row, c) for c in _COLUMN_TRAITS)
        ):
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
        stmt = update(contacts).where(contacts.c.id == bindparam("b_id"))
        conn.execute(stmt, changed)
    ids = {external_id: row.id for external_id, row in existing.items()}
    if new_rows:
        # Read back rather than RETURNING: a concurrent writer may have inserted the row.
        created = conn.execute(
            select(contacts.c.id, contacts.c.external_id).where(
                contacts.c.workspace_id == workspace_id,
                contacts.c.external_id.in_([r["external_id"] for r in new_rows]),
            )
        )
        ids.update((row.external_id, row.id) for row in created)
    return ids


def load_contacts(conn: Connection, ids: Iterable[int]) -> dict[int, ContactView]:
    """The contacts with these ids, as core views."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(contacts).where(contacts.c.id.in_(wanted)))
    return {row.id: contact_from_row(row) for row in rows}


def save_contacts(conn: Connection, views: Iterable[ContactView], now: datetime) -> None:
    """Write back contacts that workflows changed (attributes, tags, score, consent)."""
    rows = [
        {
            "b_id": v.id,
            "attributes": dict(v.attributes),
            "tags": sorted(v.tags),
            "consent": dict(v.consent),
            "score": v.score,
            "updated_at": now,
        }
        for v in views
    ]
    if rows:
        conn.execute(update(contacts).where(contacts.c.id == bindparam("b_id")), rows)


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
