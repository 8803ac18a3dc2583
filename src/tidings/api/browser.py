"""Calls from web pages: allowed origins, public keys' limits, and analytics.js's settings.

A web page calls /v1 with a public key (`tdp_...`), which anyone can read in its source.
So such a call comes from one of the workspace's `allowed_origins`, is rate-limited per
key and per client address, and may not carry privileged traits (core/capture.py). Any
call that carries an Origin header comes from a browser: write and secret keys are
refused there, since a key in a page is public whatever its kind.

analytics.js fetches its settings from `<cdnURL>/v1/projects/<key>/settings` when it
loads: Tidings serves that document, pointing the library at itself, so a website that
sets `cdnURL` to Tidings talks to no third party.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from cachetools import TTLCache
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from tidings.api.client_address import client_address
from tidings.api.errors import ApiError
from tidings.api.keys import KeyCache
from tidings.api.segment_protocol import Rejected, read_call
from tidings.api.throttle import RateLimit
from tidings.config import DEFAULT_BROWSER_ADDRESS_RATE, DEFAULT_BROWSER_KEY_RATE
from tidings.core.capture import FIRST_TOUCH_TRAIT, browser_trait_problems, first_touch
from tidings.core.problems import Problem
from tidings.runtime.ingest import Incoming
from tidings.runtime.merges import AliasCall
from tidings.storage.api_keys import KeyKind, KeyOwner
from tidings.storage.workspaces import allowed_origins

#: How long allowed origins are trusted without reading the settings again.
ORIGINS_SECONDS = 30.0

router = APIRouter(prefix="/v1", tags=["ingestion"])


class OriginCache:
    """Every workspace's allowed origins, read at most once per `ttl_seconds`."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl_seconds: float = ORIGINS_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._cache: TTLCache[str, dict[int, frozenset[str]]] = TTLCache(
            maxsize=1, ttl=ttl_seconds, timer=timer
        )
        self._lock = threading.Lock()

    def by_workspace(self) -> dict[int, frozenset[str]]:
        """The origins of each workspace; may query the database (call it from a thread)."""
        with self._lock:
            hit = self._cache.get("all")
        if hit is not None:
            return hit
        with self._engine.connect() as conn:
            found = allowed_origins(conn)
        with self._lock:
            self._cache["all"] = found
        return found

    def allows(self, workspace_id: int, origin: str) -> bool:
        """Whether `origin` may call for the workspace."""
        return origin in self.by_workspace().get(workspace_id, frozenset())

    def known(self, origin: str) -> bool:
        """Whether any workspace allows `origin` (a preflight names no workspace)."""
        return any(origin in origins for origins in self.by_workspace().values())


@dataclasses.dataclass
class BrowserGate:
    """What checks calls from web pages: the origins, and the public keys' rate limits."""

    origins: OriginCache
    public_url: str
    per_key: RateLimit = dataclasses.field(
        default_factory=lambda: RateLimit("browser-key", DEFAULT_BROWSER_KEY_RATE)
    )
    per_address: RateLimit = dataclasses.field(
        default_factory=lambda: RateLimit("browser-address", DEFAULT_BROWSER_ADDRESS_RATE)
    )

    def admit(self, request: Request, owner: KeyOwner, key: str) -> None:
        """Refuse a browser call from an origin the workspace does not allow, a browser call
        with a server key, and a public key's call over its rate limits."""
        origin = request.headers.get("origin")
        if origin is not None:
            if owner.kind is not KeyKind.PUBLIC:
                raise ApiError(
                    403,
                    "Server key in a web page",
                    f"a {owner.kind.value} key must not be in a web page, where anyone can "
                    "read it: revoke it, and give the page a public key (POST /api/keys "
                    'with {"kind": "public"})',
                )
            if not self.origins.allows(owner.workspace_id, origin):
                raise ApiError(
                    403,
                    "Origin not allowed",
                    f"pages on {origin!r} may not send to workspace {owner.workspace_key!r}; "
                    "add the origin to allowed_origins in its settings (PUT /api/settings)",
                )
        if owner.kind is KeyKind.PUBLIC:
            # The address first: one flooding address must not use up the key's budget.
            self.per_address.hit(client_address(request))
            # A prefix names the key in the counts without keeping the key in memory.
            self.per_key.hit(key[:16], per="key")


def gate_of(request: Request) -> BrowserGate:
    """The app's browser gate."""
    gate: BrowserGate = request.app.state.browser
    return gate


def call_problems(owner: KeyOwner, raw: Any, path: str) -> list[Problem]:
    """What a public key's call may not carry (privileged traits, consent grants)."""
    if owner.kind is not KeyKind.PUBLIC or not isinstance(raw, Mapping):
        return []
    traits = raw.get("traits")
    context = raw.get("context")
    problems = browser_trait_problems(traits, path) if isinstance(traits, Mapping) else []
    if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
        where = f"{path}.context" if path else "context"
        problems += browser_trait_problems(context["traits"], where)
    return problems


def with_first_touch(call: Incoming | AliasCall, raw: Any) -> Incoming | AliasCall:
    """The call, carrying the first-touch attributes of the page it came from (if any);
    storage keeps them only on a profile that has none yet."""
    if not isinstance(call, Incoming):
        return call
    traits = {k: v for k, v in call.traits.items() if k != FIRST_TOUCH_TRAIT}
    touch = first_touch(raw.get("context")) if isinstance(raw, Mapping) else {}
    if touch:
        traits[FIRST_TOUCH_TRAIT] = touch
    if traits == dict(call.traits):
        return call
    return dataclasses.replace(call, traits=traits)


def _settings_document(key: str, public_url: str) -> dict[str, Any]:
    """What analytics.js reads from its CDN, pointing it at this server."""
    scheme, _, rest = public_url.partition("://")
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": key,
                "apiHost": f"{rest.rstrip('/')}/v1",
                "protocol": scheme,
                "addBundledMetadata": False,
                "unbundledIntegrations": [],
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        # Nothing is reported to Segment's metrics endpoint.
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }


@router.get("/projects/{write_key}/settings")
async def project_settings(write_key: str, request: Request) -> JSONResponse:
    """The settings analytics.js loads from its CDN: point its `cdnURL` at Tidings."""
    gate = gate_of(request)
    keys: KeyCache = request.app.state.ingest.keys
    owner = await run_in_threadpool(keys.owner, write_key) if write_key.isascii() else None
    if owner is None:
        raise ApiError(401, "Unauthorized", "unknown or revoked key")
    if owner.kind is not KeyKind.PUBLIC:
        raise ApiError(
            403,
            "Not a public key",
            f"this is a {owner.kind.value} key, which must not be in a web page; pages use "
            'a public key (tdp_...), made with POST /api/keys and {"kind": "public"}',
        )
    origin = request.headers.get("origin")
    if origin is not None:
        await run_in_threadpool(gate.admit, request, owner, write_key)
    return JSONResponse(
        _settings_document(write_key, gate.public_url),
        headers={"Cache-Control": "public, max-age=300"},
    )


def read_call_from(
    owner: KeyOwner, raw: Any, path: str, received_at: datetime, call_type: str | None = None
) -> Incoming | AliasCall | Rejected:
    """`segment.read_call`, with what a public key may not send refused, and the page's
    first touch carried along."""
    problems = call_problems(owner, raw, path)
    kind = call_type or (raw.get("type") if isinstance(raw, Mapping) else None)
    if owner.kind is KeyKind.PUBLIC and kind == "alias":
        # An alias merges two existing profiles; anyone holding the page's key could merge
        # a stranger's profile into their own.
        problems.append(
            Problem(
                f"{path}.type" if path else "type",
                "alias merges two profiles and cannot come from a web page (a public key); "
                "call it from your server with a write key",
            )
        )
    if problems:
        message_id = raw.get("messageId") if isinstance(raw, Mapping) else None
        return Rejected(message_id if isinstance(message_id, str) else None, problems)
    call = read_call(raw, path, received_at, call_type)
    return call if isinstance(call, Rejected) else with_first_touch(call, raw)
