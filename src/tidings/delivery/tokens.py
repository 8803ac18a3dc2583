"""Signed tokens for the links in messages: opens, clicks, unsubscribes, preferences.

A token is `<workspace id>.<payload signed with that workspace's secret>`. The payload
only names stored things (a message, a link's position in it, a contact): a click token
can lead nowhere but to the URL the message stored when it was sent, so a forged or
edited token is refused rather than turned into an open redirect.

Tokens are canonical: each message, link and purpose has exactly one token. A token that
reads as valid but is not byte for byte what `make_token` writes (a changed last base64
character, a workspace id with leading zeros or non-ASCII digits) is refused, so nobody
can mint look-alike links, and a forged id never reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

#: The longest token accepted; real ones are about 60 characters.
MAX_TOKEN_LENGTH = 500
#: A workspace id as `make_token` writes it: ASCII digits, no leading zero, fits 64 bits.
_WORKSPACE_ID = re.compile(r"[1-9][0-9]{0,17}")


class Purpose(StrEnum):
    """What a token may be used for; a token for one purpose is refused for another."""

    OPEN = "open"
    CLICK = "click"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    CONFIRM = "confirm"
    FORM = "form"  #: a rendered form: which one, when, for whom, which fields it asked
    VISITOR = "visitor"  #: the cookie that knows a returning form visitor
    APPROVAL = "approval"  #: a link to one approval in the console's inbox, until its deadline


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
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadToken("malformed token")
    head, _, signed = token.partition(".")
    # fullmatch, not isdigit: "²" and full-width digits are digits to Python, not to us.
    if _WORKSPACE_ID.fullmatch(head) is None or not signed:
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
    # The signature check tolerates re-encodings (base64's spare bits, JSON spacing); only
    # the one token this install would have written is accepted.
    if make_token(workspace_id, secret, purpose, *payload) != token:
        raise BadToken("not in canonical form")
    return Opened(workspace_id, payload)
