"""Invitation tokens: signed with the workspace's secret, expiring, good for one use."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

#: How long an invitation can be accepted.
INVITE_LIFETIME = timedelta(days=7)
_SALT = "tidings-invitation"


@dataclass(frozen=True)
class Invitation:
    """What an accepted token says: who, in which workspace, and its one-use nonce's hash."""

    workspace_key: str
    email: str
    nonce_hash: str


def nonce_digest(nonce: str) -> str:
    """What the people table keeps of a nonce."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def make_invitation(secret: str, workspace_key: str, email: str, now: datetime) -> tuple[str, str]:
    """A new token and the hash of its nonce (to store, so the token works only once)."""
    nonce = secrets.token_urlsafe(16)
    expires = int((now + INVITE_LIFETIME).timestamp())
    token = URLSafeSerializer(secret, salt=_SALT).dumps(
        {"w": workspace_key, "e": email, "n": nonce, "x": expires}
    )
    return str(token), nonce_digest(nonce)


def workspace_of(token: str) -> str | None:
    """The workspace a token claims, read before its signature can be checked."""
    _, payload = URLSafeSerializer("unverified", salt=_SALT).loads_unsafe(token)
    if isinstance(payload, dict) and isinstance(payload.get("w"), str):
        return str(payload["w"])
    return None


def read_invitation(secret: str, token: str, now: datetime) -> Invitation | None:
    """The invitation in `token`, or None when it is forged, altered or expired."""
    try:
        payload = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or int(payload.get("x", 0)) < now.timestamp():
        return None
    return Invitation(str(payload["w"]), str(payload["e"]), nonce_digest(str(payload["n"])))
