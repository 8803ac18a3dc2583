"""The suppression list: addresses nothing is ever sent to, kept only as keyed hashes.

Erased contacts, hard bounces, complaints and addresses added by hand all land here; the
dispatcher checks every recipient against it.

Each identifier is kept as HMAC-SHA256. With TIDINGS_SECRET_KEY set, the key is derived
from it and the workspace's secret, so a copy of the database alone cannot check the list
against guessed addresses; without it the key is the workspace's secret, which lives in
the same database. Entries hashed an older way (plain SHA-256 from before keyed hashes,
or the workspace secret alone from before a secret key was set) are still matched, and
each is re-keyed the next time its identifier is suppressed again; migration 0006
re-keys the plain ones whose address a contact still has. Only a reason code is kept,
never a provider's or a person's text, which can name the person.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import Connection, bindparam, delete, select, update

from tidings.cleaning import fold_email
from tidings.storage.dialect import insert_for, prepared
from tidings.storage.engine import SECRET_KEY_OPTION
from tidings.storage.tables import suppressions, workspaces


class SuppressionReason(StrEnum):
    """Why an identifier is on the list. Stored as these strings."""

    HARD_BOUNCE = "hard_bounce"  #: the receiving server said the address does not exist
    COMPLAINT = "complaint"  #: the person reported a message as spam
    ERASED = "erased"  #: the contact was erased; only hashes of their identifiers remain
    MANUAL = "manual"  #: added by hand, through the API or the CLI


class HashVersion(IntEnum):
    """How `value_hash` was made."""

    LEGACY = 1  #: plain SHA-256 (before keyed hashes); matched until re-keyed
    KEYED = 2  #: HMAC-SHA256 under the workspace's secret (kept in the same database)
    #: HMAC-SHA256 under a key derived from TIDINGS_SECRET_KEY (kept outside the database)
    #: and the workspace's secret: a dump of the database alone cannot check a guess.
    SERVER_KEYED = 3


def _normal(kind: str, value: str) -> str:
    """Emails compare as `fold_email` folds them; other identifiers as given, trimmed."""
    return f"{kind}:{fold_email(value) if kind == 'email' else value.strip()}"


def identifier_hash(kind: str, value: str, secret: str) -> str:
    """The keyed hash kept for an identifier (HMAC-SHA256 under `secret`)."""
    return hmac.new(secret.encode(), _normal(kind, value).encode(), hashlib.sha256).hexdigest()


def legacy_hash(kind: str, value: str) -> str:
    """The plain SHA-256 that lists written before keyed hashes hold."""
    return hashlib.sha256(_normal(kind, value).encode()).hexdigest()


def server_key(secret_key: str, workspace_secret: str) -> str:
    """The hashing key of `HashVersion.SERVER_KEYED`: one per workspace, made from the
    configured secret key, which the database never holds."""
    message = f"suppressions:{workspace_secret}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _secret(conn: Connection, workspace_id: int) -> str:
    stmt = prepared(
        conn,
        "workspace_secret",
        lambda c: select(workspaces.c.secret).where(workspaces.c.id == bindparam("workspace_id")),
    )
    secret: str | None = conn.execute(stmt, {"workspace_id": workspace_id}).scalar()
    if secret is None:
        raise LookupError(f"no workspace with id {workspace_id}")
    return secret


def _keys(
    conn: Connection, workspace_id: int, secret: str | None = None
) -> list[tuple[HashVersion, str | None]]:
    """The ways an identifier may have been hashed, the one new entries use first (None:
    the unkeyed legacy hash). With a configured secret key, entries keyed by the workspace
    secret alone are still matched, and re-keyed when suppressed again. `secret` is the
    workspace's, when the caller holds it already (it never changes once made)."""
    if secret is None:
        secret = _secret(conn, workspace_id)
    secret_key = conn.get_execution_options().get(SECRET_KEY_OPTION)
    ways: list[tuple[HashVersion, str | None]] = []
    if secret_key:
        ways.append((HashVersion.SERVER_KEYED, server_key(secret_key, secret)))
    return [*ways, (HashVersion.KEYED, secret), (HashVersion.LEGACY, None)]


#: Per identifier, its hash for each way, the current way first.
_Hashes = dict[tuple[str, str], list[tuple[HashVersion, str]]]


def _hashes(
    conn: Connection,
    workspace_id: int,
    identifiers: Iterable[tuple[str, str]],
    secret: str | None = None,
) -> _Hashes:
    ways = _keys(conn, workspace_id, secret)
    return {
        (kind, value): [
            (version, identifier_hash(kind, value, key) if key else legacy_hash(kind, value))
            for version, key in ways
        ]
        for kind, value in identifiers
    }


def _rekey(conn: Connection, workspace_id: int, hashes: _Hashes) -> None:
    """Bring entries made an older way to the current one; an older entry whose current
    twin already exists would collide when re-keyed, so it goes."""
    for (kind, _), ((version, current), *older) in hashes.items():
        where = (suppressions.c.workspace_id == workspace_id, suppressions.c.kind == kind)
        found = conn.execute(
            select(suppressions.c.id).where(*where, suppressions.c.value_hash == current)
        ).first()
        twin = found is not None
        for old_version, old in older:
            match = (
                *where,
                suppressions.c.value_hash == old,
                suppressions.c.hash_version == old_version,
            )
            if twin:
                conn.execute(delete(suppressions).where(*match))
                continue
            done = conn.execute(
                update(suppressions).where(*match).values(value_hash=current, hash_version=version)
            )
            twin = bool(done.rowcount)


def suppress(
    conn: Connection,
    workspace_id: int,
    identifiers: Iterable[tuple[str, str]],
    reason: SuppressionReason,
    now: datetime,
) -> int:
    """Put (kind, value) identifiers on the list; one already there keeps its first
    reason (an entry hashed an older way is re-keyed). Returns how many were given."""
    hashes = _hashes(conn, workspace_id, identifiers)
    if not hashes:
        return 0
    _rekey(conn, workspace_id, hashes)
    rows = [
        {
            "workspace_id": workspace_id,
            "kind": kind,
            "value_hash": ways[0][1],
            "hash_version": ways[0][0],
            "reason": SuppressionReason(reason).value,
            "created_at": now,
        }
        for (kind, _), ways in hashes.items()
    ]
    stmt = insert_for(conn, suppressions).on_conflict_do_nothing(
        index_elements=["workspace_id", "kind", "value_hash"]
    )
    conn.execute(stmt, rows)
    return len(rows)


def suppressed(
    conn: Connection,
    workspace_id: int,
    identifiers: Iterable[tuple[str, str]],
    *,
    secret: str | None = None,
) -> dict[tuple[str, str], str]:
    """The (kind, value) identifiers on the list, with the reason code of each. A caller
    that holds the workspace's `secret` (the dispatcher, once per workspace) passes it,
    saving a read per call; with no identifiers there is nothing to read."""
    identifiers = list(identifiers)
    if not identifiers:
        return {}
    hashes = _hashes(conn, workspace_id, identifiers, secret)
    if not hashes:
        return {}
    by_hash: dict[tuple[str, int], tuple[str, str]] = {}
    for identifier, ways in hashes.items():
        for version, value_hash in ways:
            by_hash[(value_hash, version)] = identifier
    stmt = prepared(
        conn,
        "suppressions_lookup",
        lambda c: select(
            suppressions.c.value_hash, suppressions.c.hash_version, suppressions.c.reason
        ).where(
            suppressions.c.workspace_id == bindparam("workspace_id"),
            suppressions.c.value_hash.in_(bindparam("hashes", expanding=True)),
        ),
    )
    params = {"workspace_id": workspace_id, "hashes": [h for h, _ in by_hash]}
    found: dict[tuple[str, str], str] = {}
    for value_hash, version, reason in conn.execute(stmt, params):
        match = by_hash.get((value_hash, version))
        if match is not None:
            found.setdefault(match, reason)
    return found


def unsuppress(conn: Connection, workspace_id: int, kind: str, value: str) -> bool:
    """Take an identifier off the list (its keyed and any legacy entry); False when it
    was not on it."""
    [ways] = _hashes(conn, workspace_id, [(kind, value)]).values()
    done = conn.execute(
        delete(suppressions).where(
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.kind == kind,
            suppressions.c.value_hash.in_([value_hash for _, value_hash in ways]),
        )
    )
    return bool(done.rowcount)
