"""What the workspace's contacts and events carry, for completion in condition fields."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep
from tidings.api.auth import requires
from tidings.core.state import STANDARD_CONTACT_FIELDS
from tidings.storage.people import Role
from tidings.storage.seen_schema import seen_schema

router = APIRouter(tags=["schema"], dependencies=[requires(Role.VIEWER)])


class EventSchemaOut(BaseModel):
    """An event name seen lately, with the properties it carried."""

    name: str
    properties: list[str]


class SchemaOut(BaseModel):
    """The names a condition can use: `contact.*` (standard fields and attributes seen),
    `consent.*` channels, and events with their properties (`event.*`, `trigger.*`)."""

    contact: list[str]
    consent: list[str]
    events: list[EventSchemaOut]


@router.get("/schema", response_model=SchemaOut)
def schema(admin: AdminDep) -> SchemaOut:
    """The fields and events the workspace's newest contacts (2,000) and events (5,000)
    carry, with the standard contact fields; read from the data, so nothing is declared."""
    with admin.engine.connect() as conn:
        seen = seen_schema(conn, admin.workspace_id)
    return SchemaOut(
        contact=sorted(STANDARD_CONTACT_FIELDS | set(seen.contact)),
        consent=sorted({"email", "sms"} | set(seen.consent)),
        events=[EventSchemaOut(name=n, properties=p) for n, p in seen.events.items()],
    )
