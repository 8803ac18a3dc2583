"""API keys: list (prefixes only), create (shown once), revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import KeyIdPath
from tidings.api.audit import note_change
from tidings.api.auth import requires
from tidings.errors import NotFound
from tidings.runtime.transactions import attempts
from tidings.storage import browse
from tidings.storage.api_keys import KeyKind, create_key, revoke_key
from tidings.storage.people import Role

router = APIRouter(prefix="/keys", tags=["keys"], dependencies=[requires(Role.OWNER)])


class KeyOut(BaseModel):
    """A key as lists show it: never the key itself."""

    id: int
    kind: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewKey(BaseModel):
    """What kind of key to make."""

    kind: KeyKind


class CreatedKey(BaseModel):
    """A new key: this response is the only time it is shown."""

    kind: str
    key: str


@router.get("", response_model=list[KeyOut])
def list_all(admin: AdminDep) -> list[KeyOut]:
    """The workspace's keys."""
    with admin.engine.connect() as conn:
        rows = browse.list_keys(conn, admin.workspace_id)
    return [
        KeyOut(
            id=r.id, kind=r.kind, prefix=r.prefix, created_at=r.created_at, revoked_at=r.revoked_at
        )
        for r in rows
    ]


@router.post("", response_model=CreatedKey, status_code=201)
def create(request: NewKey, admin: AdminDep, http: Request) -> CreatedKey:
    """A new key; Tidings keeps only its hash, so copy it from this response."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            key = create_key(conn, admin.workspace_id, request.kind, admin.clock.now())
    # The log names the key by the prefix the keys list shows, never by the key itself.
    note_change(http, key[:10], kind=request.kind.value)
    return CreatedKey(kind=request.kind.value, key=key)


@router.delete("/{key_id}", status_code=204)
def revoke(key_id: KeyIdPath, admin: AdminDep) -> None:
    """Revoke a key: it stops working within the key cache's 30 seconds."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            if not revoke_key(conn, admin.workspace_id, key_id, admin.clock.now()):
                raise NotFound(f"no active key {key_id} in this workspace")
