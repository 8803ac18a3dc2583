"""The sessions table: a browser's login, known to the server only by its token's hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from tidings.storage.tables import people, sessions, workspaces

#: A session nobody has used for this long ends.
IDLE_LIMIT = timedelta(hours=12)
#: Every session ends this long after login, however busy.
ABSOLUTE_LIMIT = timedelta(days=7)
#: last_seen_at is written at most this often, so reads do not each cost a write.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class LiveSession:
    """A valid session: who, in which workspace."""

    id: int
    person_id: int
    email: str
    name: str
    workspace_id: int
    workspace_key: str
    workspace_name: str


def digest(token: str) -> str:
    """SHA-256 of a session token: 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: Connection, person_id: int, workspace_id: int, now: datetime) -> str:
    """A new session's token; only its hash is stored, so the cookie is its one copy."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        sessions.insert().values(
            token_hash=digest(token),
            person_id=person_id,
            workspace_id=workspace_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_LIMIT,
        )
    )
    return token


def find_session(conn: Connection, token: str, now: datetime) -> LiveSession | None:
    """The live session behind `token`, touched; None when unknown, idle or expired."""
    row = conn.execute(
        select(
            sessions.c.id,
            sessions.c.person_id,
            sessions.c.workspace_id,
            sessions.c.last_seen_at,
            sessions.c.expires_at,
            people.c.email,
            people.c.name,
            people.c.disabled,
            workspaces.c.key,
            workspaces.c.name.label("workspace_name"),
        )
        .join(people, people.c.id == sessions.c.person_id)
        .join(workspaces, workspaces.c.id == sessions.c.workspace_id)
        .where(sessions.c.token_hash == digest(token))
    ).one_or_none()
    if row is None:
        return None
    if row.disabled or now >= row.expires_at or now >= row.last_seen_at + IDLE_LIMIT:
        conn.execute(delete(sessions).where(sessions.c.id == row.id))
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(last_seen_at=now))
    return LiveSession(
        row.id,
        row.person_id,
        row.email,
        row.name,
        row.workspace_id,
        row.key,
        row.workspace_name,
    )


def end_session(conn: Connection, token: str) -> None:
    """Forget a session: its cookie no longer works anywhere."""
    conn.execute(delete(sessions).where(sessions.c.token_hash == digest(token)))
