"""Log in and out: `/api/session`, and switching the session's workspace.

The answer to a wrong password and to an unknown email is the same, and both verify an
argon2 hash (a dummy one for the unknown email), so neither the body nor the time taken
tells which emails have accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, field_validator

from tidings.api.auth import COOKIE, Caller, check_csrf, csrf_token_for, public, session_of
from tidings.api.client_address import client_address, last_entry
from tidings.api.errors import ApiError
from tidings.api.login_throttle import LoginThrottle
from tidings.core.values import text_problem
from tidings.passwords import verify_password
from tidings.runtime.transactions import attempts
from tidings.storage.people import Membership, Person, find_person, memberships_of
from tidings.storage.sessions import ABSOLUTE_LIMIT, LiveSession, end_session, start_session

router = APIRouter(prefix="/api", tags=["session"], dependencies=[public()])


@dataclass(frozen=True)
class AuthSettings:
    """How sessions are issued, shared by the session routes."""

    throttle: LoginThrottle
    #: Believe X-Forwarded-Proto and the last X-Forwarded-For entry (api/client_address.py):
    #: only behind a proxy that sets them.
    trust_proxy: bool = False


class Login(BaseModel):
    """Credentials, and optionally the workspace to open (by its key)."""

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    workspace: str | None = Field(None, max_length=64)

    @field_validator("email", "workspace")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        # Both are looked up in the database, which refuses NUL (PostgreSQL) with a 500.
        if value is not None and (why := text_problem(value)) is not None:
            raise ValueError(why)
        return value


class SwitchWorkspace(BaseModel):
    """The workspace to move the session to."""

    workspace: str = Field(min_length=1, max_length=64)


class SignedInPerson(BaseModel):
    """The person logged in."""

    email: str
    name: str


class WorkspaceOut(BaseModel):
    """A workspace: its key (what login and switching take) and its display name."""

    key: str
    name: str


class WorkspaceRole(BaseModel):
    """A workspace the person belongs to, and their role there."""

    key: str
    name: str
    role: str


class SessionOut(BaseModel):
    """Who is logged in, where, as what; and the token state-changing requests must send."""

    person: SignedInPerson
    role: str
    workspace: WorkspaceOut
    workspaces: list[WorkspaceRole]
    csrf_token: str


def settings_of(request: Request) -> AuthSettings:
    """The app's session settings."""
    found: AuthSettings = request.app.state.auth
    return found


def is_https(request: Request) -> bool:
    """Whether the browser reached us over https (directly, or through a trusted proxy)."""
    if settings_of(request).trust_proxy:
        # The proxy's own entry is the last one: the ones before it came from the client.
        proto = last_entry(request.headers.getlist("x-forwarded-proto"))
        if proto:
            return proto.lower() == "https"
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: unreadable by scripts, never sent by other sites' requests."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(ABSOLUTE_LIMIT.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def session_body(
    person: SignedInPerson, here: Membership, all_: list[Membership], token: str
) -> SessionOut:
    """The answer shared by login, who-am-I and workspace switching."""
    return SessionOut(
        person=person,
        role=here.role.value,
        workspace=WorkspaceOut(key=here.workspace_key, name=here.workspace_name),
        workspaces=[
            WorkspaceRole(key=m.workspace_key, name=m.workspace_name, role=m.role.value)
            for m in all_
        ],
        csrf_token=csrf_token_for(token),
    )


def _choose(memberships: list[Membership], wanted: str | None) -> Membership:
    if not memberships:
        raise ApiError(403, "Forbidden", "you belong to no workspace; ask an owner to add you")
    if wanted is None:
        return memberships[0]
    for membership in memberships:
        if membership.workspace_key == wanted:
            return membership
    raise ApiError(
        403,
        "Forbidden",
        f"you are not a member of workspace {wanted!r}; yours are "
        + ", ".join(m.workspace_key for m in memberships),
    )


def open_session(
    request: Request, response: Response, person: Person, wanted: str | None
) -> SessionOut:
    """Start a session for `person` (ending the one the browser had) and set its cookie."""
    service = request.app.state.ingest
    old = request.cookies.get(COOKIE)
    for attempt in attempts(service.engine):
        with attempt as conn:
            memberships = memberships_of(conn, person.id)
            here = _choose(memberships, wanted)
            if old:
                # A fresh token at every login: a token planted before login is worth nothing.
                end_session(conn, old)
            token = start_session(conn, person.id, here.workspace_id, service.clock.now())
    set_cookie(request, response, token)
    request.state.caller = Caller(
        here.workspace_id, here.workspace_key, here.role, "person", person.email
    )
    return session_body(
        SignedInPerson(email=person.email, name=person.name), here, memberships, token
    )


@router.post("/session", response_model=SessionOut)
def login(credentials: Login, request: Request, response: Response) -> SessionOut:
    """Log in with email and password; the answer carries the CSRF token to send back."""
    auth = settings_of(request)
    email = credentials.email.strip().lower()
    address = client_address(request)
    wait = auth.throttle.retry_after(email, address)
    if wait is not None:
        raise ApiError(
            429,
            "Too many attempts",
            f"too many failed logins; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    service = request.app.state.ingest
    with service.engine.connect() as conn:
        person = find_person(conn, email)
    usable = person if person is not None and not person.disabled else None
    if not verify_password(usable.password_hash if usable else None, credentials.password):
        auth.throttle.failed(email, address)
        raise ApiError(401, "Unauthorized", "wrong email or password")
    assert usable is not None  # verify_password is False without a hash
    auth.throttle.succeeded(email)
    return open_session(request, response, usable, credentials.workspace)


def _current(request: Request) -> tuple[str, LiveSession]:
    found = session_of(request)
    if found is None:
        raise ApiError(401, "Unauthorized", "not logged in: POST /api/session first")
    return found


@router.get("/session", response_model=SessionOut)
def whoami(request: Request) -> SessionOut:
    """The logged-in person, their workspace and role; 401 when not logged in."""
    token, live = _current(request)
    service = request.app.state.ingest
    with service.engine.connect() as conn:
        memberships = memberships_of(conn, live.person_id)
    here = _choose(memberships, live.workspace_key)
    return session_body(SignedInPerson(email=live.email, name=live.name), here, memberships, token)


@router.delete("/session", status_code=204)
def logout(request: Request, response: Response) -> Response:
    """End the session on the server and clear the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        check_csrf(request, token)
        service = request.app.state.ingest
        for attempt in attempts(service.engine):
            with attempt as conn:
                end_session(conn, token)
    done = Response(status_code=204)
    done.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request))
    return done


@router.post("/session/workspace", response_model=SessionOut)
def switch_workspace(body: SwitchWorkspace, request: Request, response: Response) -> SessionOut:
    """Move to another of the person's workspaces, with a new session token."""
    token, live = _current(request)
    check_csrf(request, token)
    service = request.app.state.ingest
    with service.engine.connect() as conn:
        person = find_person(conn, live.email)
    if person is None:
        raise ApiError(401, "Unauthorized", "not logged in: POST /api/session first")
    return open_session(request, response, person, body.workspace)
