"""Signed tokens for the links in messages: opens, clicks, unsubscribes, preferences.

A token is `<workspace id>.<payload signed with that workspace's secret>`. The payload
only names stored things (a message, a link's position in it, a contact): a click token
can lead nowhere but to the URL the message stored when it was sent, so a forged or
edited token is refused rather than turned into an open redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer


class Purpose(StrEnum):
    """What a token may be used for; a token for one purpose is refused for another."""

    OPEN = "open"
    CLICK = "click"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    CONFIRM = "confirm"


class BadToken(ValueError):
    """The token was not made by this install, or was changed."""


@dataclass(frozen=True)
class Opened:
    """What a valid token says."""

    workspace_id: int
    payload: list[Any]


@lru_cache(maxsize=256)
def _serializer(secret: str, purpose: Purpose) -> URLSafeSerializer:
    # Building one derives its key; an email carries several tokens (measured in bench/).
    return URLSafeSerializer(secret, salt=f"tidings.{purpose.value}")


def make_token(workspace_id: int, secret: str, purpose: Purpose, *payload: Any) -> str:
    """Sign `payload` for `purpose` in this workspace."""
    return f"{workspace_id}.{_serializer(secret, purpose).dumps(list(payload))}"


def read_token(token: str, purpose: Purpose, secret_of: Callable[[int], str | None]) -> Opened:
    """Check the signature with the workspace's secret and return what the token says."""
    head, _, signed = token.partition(".")
    if not head.isdigit() or not signed or len(token) > 500:
        raise BadToken("malformed token")
    workspace_id = int(head)
    secret = secret_of(workspace_id)
    if not secret:
        raise BadToken("unknown workspace")
    try:
        payload = _serializer(secret, purpose).loads(signed)
    except BadSignature:
        raise BadToken("bad signature") from None
    if not isinstance(payload, list):
        raise BadToken("malformed payload")
    return Opened(workspace_id, payload)
