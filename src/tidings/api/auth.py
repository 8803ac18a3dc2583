"""Who is calling /api, and whether their role allows the route.

Two ways in: a secret API key as `Authorization: Bearer tds_...` (machines; acts as an
owner of its workspace), or the `tidings_session` cookie a person gets at login. A cookie
is sent by the browser on its own, so every state-changing request made with one must also
carry `X-CSRF-Token`, which only the console's own script can read (from the login answer).

Every /api route declares the least role it needs with `requires(...)` on its router, or
says it is `public()`; tests/integration/test_route_roles.py fails on a route that does
neither.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from tidings.api.errors import ApiError
from tidings.api.keys import KeyCache, presented_key
from tidings.runtime.transactions import attempts
from tidings.storage.api_keys import KeyKind
from tidings.storage.people import Role, role_in
from tidings.storage.sessions import LiveSession, find_session

COOKIE = "tidings_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Tidings"'}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the workspace acted on, the role, and who to name in the log."""

    workspace_id: int
    workspace_key: str
    role: Role
    actor_type: str  #: "key" or "person"
    actor: str  #: the key's prefix, or the person's email
    session: LiveSession | None = None


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session, derived from its secret token so nothing more is stored.

    A page on another site can make the browser send the cookie but cannot read it, so it
    cannot compute this.
    """
    return hmac.new(session_token.encode(), b"tidings csrf", hashlib.sha256).hexdigest()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if header.lower().startswith("basic "):
        # Scripts written for /v1 send keys as the Basic username; /api takes that too.
        return presented_key(request, None)
    return None


def _by_key(request: Request, key: str) -> Caller:
    keys: KeyCache = request.app.state.ingest.keys
    owner = keys.owner(key)
    if owner is None or owner.kind is not KeyKind.SECRET:
        raise ApiError(
            401, "Unauthorized", "a valid secret key is needed for /api", headers=_CHALLENGE
        )
    # Keys predate people: a secret key can do everything in its workspace.
    return Caller(owner.workspace_id, owner.workspace_key, Role.OWNER, "key", key[:10])


def session_of(request: Request) -> tuple[str, LiveSession] | None:
    """The cookie's token and its live session, or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    service = request.app.state.ingest
    for attempt in attempts(service.engine):
        with attempt as conn:
            live = find_session(conn, token, service.clock.now())
    return None if live is None else (token, live)


def check_csrf(request: Request, token: str) -> None:
    """Refuse a state-changing cookie request without the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token_for(token).encode()):
        raise ApiError(
            403,
            "CSRF token missing or wrong",
            "send the csrf_token from POST /api/session as the X-CSRF-Token header",
        )


def authenticate(request: Request) -> Caller:
    """The caller, by Bearer key or session cookie; 401 without either, 403 on a bad CSRF."""
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    key = _bearer(request)
    if key is not None:
        caller = _by_key(request, key)
    else:
        found = session_of(request)
        if found is None:
            raise ApiError(
                401,
                "Unauthorized",
                "log in with POST /api/session, or send a secret key as a Bearer token",
                headers=_CHALLENGE,
            )
        token, live = found
        check_csrf(request, token)
        service = request.app.state.ingest
        with service.engine.connect() as conn:
            role = role_in(conn, live.person_id, live.workspace_id)
        if role is None:
            raise ApiError(401, "Unauthorized", "you are no longer a member of this workspace")
        caller = Caller(
            live.workspace_id, live.workspace_key, role, "person", live.email, session=live
        )
    request.state.caller = caller
    return caller


@dataclass(frozen=True)
class Policy:
    """The least role a router's routes need: one for reads, one for changes, and exceptions.

    `routes` names endpoints (their function names) that need a different role, e.g. a
    contact export is a read that only owners may make.
    """

    read: Role
    write: Role
    routes: Mapping[str, Role] = field(default_factory=dict)
    public: bool = False

    def needed(self, method: str, endpoint: str) -> Role:
        """The role a call to `endpoint` with `method` needs."""
        if endpoint in self.routes:
            return self.routes[endpoint]
        return self.read if method in SAFE_METHODS else self.write


def _endpoint_name(request: Request) -> str:
    endpoint: Callable[..., Any] | None = request.scope.get("endpoint")
    return getattr(endpoint, "__name__", "")


def requires(
    write: Role, *, read: Role = Role.VIEWER, routes: Mapping[str, Role] | None = None
) -> DependsParam:
    """A router dependency: authenticate, then refuse with 403 a role below the policy."""
    policy = Policy(read, write, dict(routes or {}))

    def check(request: Request, caller: Caller = Depends(authenticate)) -> Caller:
        needed = policy.needed(request.method, _endpoint_name(request))
        if not caller.role.allows(needed):
            raise ApiError(
                403,
                "Forbidden",
                f"this needs the {needed.value} role; you are {caller.role.value} "
                f"in workspace {caller.workspace_key!r} (an owner can change that)",
            )
        return caller

    check.policy = policy  # type: ignore[attr-defined]
    dependency: DependsParam = Depends(check)
    return dependency


def public() -> DependsParam:
    """A router dependency that says, on purpose, its routes check credentials themselves."""

    def open_route() -> None:
        return None

    open_route.policy = Policy(Role.VIEWER, Role.VIEWER, public=True)  # type: ignore[attr-defined]
    dependency: DependsParam = Depends(open_route)
    return dependency
