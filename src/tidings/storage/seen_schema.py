"""The contact fields and events a workspace's data has shown lately: what the console's
condition editor offers as you type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from tidings.storage.tables import contacts, events

#: How many of the newest contacts and events are read: enough to see every field in use,
#: bounded so the editor's completion costs the same on a database of any size.
RECENT_CONTACTS = 2_000
RECENT_EVENTS = 5_000
#: Names kept per list, so a workspace with generated names stays usable.
MAX_NAMES = 200
#: The event each identify call stores (runtime.ingest.IDENTIFY): its traits are already
#: the contact's fields, and no workflow waits for it by name.
IDENTIFY = "$identify"


@dataclass(frozen=True)
class SeenSchema:
    """Custom contact attributes, consent channels, and each event with its properties."""

    contact: list[str]
    consent: list[str]
    events: dict[str, list[str]]


def _keys(value: Any) -> list[str]:
    return [str(k) for k in value] if isinstance(value, dict) else []


def seen_schema(conn: Connection, workspace_id: int) -> SeenSchema:
    """What the newest contacts and events of the workspace carry."""
    attributes: set[str] = set()
    consent: set[str] = set()
    for row in conn.execute(
        select(contacts.c.attributes, contacts.c.consent)
        .where(contacts.c.workspace_id == workspace_id)
        .order_by(contacts.c.id.desc())
        .limit(RECENT_CONTACTS)
    ):
        attributes.update(_keys(row.attributes))
        consent.update(_keys(row.consent))
    found: dict[str, set[str]] = {}
    for row in conn.execute(
        select(events.c.name, events.c.properties)
        .where(events.c.workspace_id == workspace_id, events.c.name != IDENTIFY)
        .order_by(events.c.id.desc())
        .limit(RECENT_EVENTS)
    ):
        if row.name in found or len(found) < MAX_NAMES:
            found.setdefault(row.name, set()).update(_keys(row.properties))
    return SeenSchema(
        contact=sorted(attributes)[:MAX_NAMES],
        consent=sorted(consent)[:MAX_NAMES],
        events={name: sorted(props)[:MAX_NAMES] for name, props in sorted(found.items())},
    )
