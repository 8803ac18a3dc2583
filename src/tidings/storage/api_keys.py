"""The api_keys table: keys are shown once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select, update

from tidings.storage.tables import api_keys, workspaces


class KeyKind(StrEnum):
    """What a key may do."""

    WRITE = "write"  #: send events (/v1) from a server or an app
    SECRET = "secret"  #: the admin API (/api); keep it on servers
    #: send events (/v1) from web pages: anyone can read it there, so it only adds
    #: events, from the workspace's allowed origins, rate-limited, with no privileged traits
    PUBLIC = "public"

    @property
    def prefix(self) -> str:
        """How keys of this kind start, so a leaked one is recognisable."""
        return {"write": "tdw_", "secret": "tds_", "public": "tdp_"}[self.value]


@dataclass(frozen=True)
class KeyOwner:
    """The workspace a presented key belongs to."""

    workspace_id: int
    workspace_key: str
    kind: KeyKind


def _digest(key: str) -> str:
    # A plain SHA-256 suffices: keys carry 256 random bits, so there is nothing to guess
    # that a slow password hash would protect, and every request pays for the lookup.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, workspace_id: int, kind: KeyKind, now: datetime) -> str:
    """Make a new key and return it; only its hash is stored, so this is the one sight of it."""
    key = kind.prefix + secrets.token_urlsafe(32)
    conn.execute(
        api_keys.insert().values(
            workspace_id=workspace_id,
            kind=kind.value,
            prefix=key[:10],
            key_hash=_digest(key),
            created_at=now,
        )
    )
    return key


def owner_of(conn: Connection, key: str) -> KeyOwner | None:
    """The workspace of an unrevoked key, or None for an unknown or revoked one."""
    row = conn.execute(
        select(api_keys.c.workspace_id, api_keys.c.kind, workspaces.c.key)
        .join(workspaces, workspaces.c.id == api_keys.c.workspace_id)
        .where(api_keys.c.key_hash == _digest(key), api_keys.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    return KeyOwner(row.workspace_id, row.key, KeyKind(row.kind))


def revoke_key(conn: Connection, workspace_id: int, key_id: int, now: datetime) -> bool:
    """Revoke one of the workspace's keys; False when it has no such unrevoked key."""
    result = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.workspace_id == workspace_id,
            api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)
