"""Who is calling: the workspace behind a write key, from Basic auth or the body."""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from fastapi import Request
from sqlalchemy import Engine

from tidings.api.errors import ApiError
from tidings.storage.api_keys import KeyOwner, owner_of

#: How long a known key is trusted without asking the database again. A revoked key
#: stops working within this time.
CACHE_SECONDS = 30.0
#: Known keys remembered at once: far more than any install has, so none is ever pushed out.
CACHE_SIZE = 10_000
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Tidings"'}


class KeyCache:
    """Key lookups, remembered briefly so a busy ingest path skips one query per call.

    Only keys that exist are remembered: a flood of made-up keys costs one query each
    but can never push a real key out of the cache.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        ttl_seconds: float = CACHE_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._known: TTLCache[str, KeyOwner] = TTLCache(
            maxsize=CACHE_SIZE, ttl=ttl_seconds, timer=timer
        )
        # TTLCache is not thread-safe, and look-ups run in the server's thread pool.
        self._lock = threading.Lock()

    def owner(self, key: str) -> KeyOwner | None:
        """The owner of `key`, or None when it is unknown or revoked.

        This may query the database: call it from a thread, not on the event loop.
        """
        with self._lock:
            hit = self._known.get(key)
        if hit is not None:
            return hit
        with self._engine.connect() as conn:
            owner = owner_of(conn, key)
        if owner is not None:
            with self._lock:
                self._known[key] = owner
        return owner


def presented_key(request: Request, body: Any) -> str:
    """The write key: the Basic auth username (Segment's way), or `writeKey` in the body."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError(
                401, "Unauthorized", "malformed Basic credentials", headers=_CHALLENGE
            ) from exc
        key = decoded.split(":", 1)[0]
        if key:
            return key
    written = body.get("writeKey") if isinstance(body, dict) else None
    # Keys are ASCII: anything else (a lone surrogate, which cannot even be hashed) is no key.
    if isinstance(written, str) and written and written.isascii():
        return written
    raise ApiError(
        401, "Unauthorized", "send your write key as the Basic auth username", headers=_CHALLENGE
    )


def authenticate(cache: KeyCache, request: Request, body: Any) -> KeyOwner:
    """The workspace of the presented key; 401 for a missing, unknown or revoked one."""
    owner = cache.owner(presented_key(request, body))
    if owner is None:
        raise ApiError(401, "Unauthorized", "unknown or revoked key", headers=_CHALLENGE)
    return owner
