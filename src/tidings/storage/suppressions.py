"""The suppression list: addresses nothing is ever sent to, kept only as keyed hashes.

Erased contacts, hard bounces, complaints and addresses added by hand all land here; the
dispatcher checks every recipient against it.

Each identifier is kept as HMAC-SHA256 under the workspace's secret, so a copy of the
table cannot be checked against a list of guessed addresses without that secret. Lists
written before keyed hashes (`hash_version` 1, plain SHA-256) cannot be re-keyed without
the address: they are still matched, and each is re-keyed the next time its identifier
is suppressed again. Only a reason code is kept, never a provider's or a person's text,
which can name the person.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import Connection, bindparam, delete, select, update

from tidings.storage.dialect import insert_for, prepared
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
    KEYED = 2  #: HMAC-SHA256 under the workspace's secret


def _normal(kind: str, value: str) -> str:
    """Emails compare without case or surrounding spaces; other identifiers as given."""
    return f"{kind}:{value.strip().lower() if kind == 'email' else value.strip()}"


def identifier_hash(kind: str, value: str, secret: str) -> str:
    """The keyed hash kept for an identifier (HMAC-SHA256 under the workspace secret)."""
    return hmac.new(secret.encode(), _normal(kind, value).encode(), hashlib.sha256).hexdigest()


def legacy_hash(kind: str, value: str) -> str:
    """The plain SHA-256 that lists written before keyed hashes hold."""
    return hashlib.sha256(_normal(kind, value).encode()).hexdigest()


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


def _hashes(
    conn: Connection, workspace_id: int, identifiers: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """Per identifier, its keyed and its legacy hash."""
    secret = _secret(conn, workspace_id)
    return {
        (kind, value): (identifier_hash(kind, value, secret), legacy_hash(kind, value))
        for kind, value in identifiers
    }


def suppress(
    conn: Connection,
    workspace_id: int,
    identifiers: Iterable[tuple[str, str]],
    reason: SuppressionReason,
    now: datetime,
) -> int:
    """Put (kind, value) identifiers on the list; one already there keeps its first
    reason (a legacy entry is re-keyed). Returns how many were given."""
    hashes = _hashes(conn, workspace_id, identifiers)
    if not hashes:
        return 0
    rekey = [
        {"b_kind": kind, "b_legacy": legacy, "b_keyed": keyed}
        for (kind, _), (keyed, legacy) in hashes.items()
    ]
    # A legacy row whose keyed twin already exists would collide when re-keyed: drop it.
    for change in rekey:
        twin = conn.execute(
            select(suppressions.c.id).where(
                suppressions.c.workspace_id == workspace_id,
                suppressions.c.kind == change["b_kind"],
                suppressions.c.value_hash == change["b_keyed"],
            )
        ).first()
        if twin is not None:
            conn.execute(
                delete(suppressions).where(
                    suppressions.c.workspace_id == workspace_id,
                    suppressions.c.kind == change["b_kind"],
                    suppressions.c.value_hash == change["b_legacy"],
                    suppressions.c.hash_version == HashVersion.LEGACY,
                )
            )
    conn.execute(
        update(suppressions)
        .where(
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.kind == bindparam("b_kind"),
            suppressions.c.value_hash == bindparam("b_legacy"),
            suppressions.c.hash_version == HashVersion.LEGACY,
        )
        .values(value_hash=bindparam("b_keyed"), hash_version=HashVersion.KEYED),
        rekey,
    )
    rows = [
        {
            "workspace_id": workspace_id,
            "kind": kind,
            "value_hash": keyed,
            "hash_version": HashVersion.KEYED,
            "reason": SuppressionReason(reason).value,
            "created_at": now,
        }
        for (kind, _), (keyed, _legacy) in hashes.items()
    ]
    stmt = insert_for(conn, suppressions).on_conflict_do_nothing(
        index_elements=["workspace_id", "kind", "value_hash"]
    )
    conn.execute(stmt, rows)
    return len(rows)


def suppressed(
    conn: Connection, workspace_id: int, identifiers: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The (kind, value) identifiers on the list, with the reason code of each."""
    hashes = _hashes(conn, workspace_id, identifiers)
    if not hashes:
        return {}
    by_hash: dict[tuple[str, int], tuple[str, str]] = {}
    for identifier, (keyed, legacy) in hashes.items():
        by_hash[(keyed, HashVersion.KEYED)] = identifier
        by_hash[(legacy, HashVersion.LEGACY)] = identifier
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
    [(keyed, legacy)] = _hashes(conn, workspace_id, [(kind, value)]).values()
    done = conn.execute(
        delete(suppressions).where(
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.kind == kind,
            suppressions.c.value_hash.in_([keyed, legacy]),
        )
    )
    return bool(done.rowcount)
