"""People in the workspace: list, invite, change a role, remove; and accepting an invitation."""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from tidings.api.admin.deps import AdminDep
from tidings.api.audit import note_change
from tidings.api.auth import public, requires
from tidings.api.errors import ApiError
from tidings.api.invitations import make_invitation, read_invitation, workspace_of
from tidings.api.session import SessionOut, open_session
from tidings.core.problems import Problem
from tidings.errors import NotFound
from tidings.passwords import hash_password, password_problem
from tidings.runtime.transactions import attempts
from tidings.storage.people import (
    Role,
    accept_invitation,
    add_person,
    count_owners,
    find_person,
    list_members,
    remove_member,
    role_in,
    set_role,
)
from tidings.storage.workspaces import find_workspace, load_workspace

router = APIRouter(prefix="/people", tags=["people"], dependencies=[requires(Role.OWNER)])
invitations = APIRouter(prefix="/invitations", tags=["people"], dependencies=[public()])


class PersonOut(BaseModel):
    """A member of the workspace."""

    email: str
    name: str
    role: Role
    #: True until they accept their invitation and choose a password.
    invited: bool
    created_at: datetime


class Invite(BaseModel):
    """Who to invite, and as what."""

    email: str = Field(min_length=3, max_length=320)
    role: Role
    name: str = Field("", max_length=200)


class Invited(PersonOut):
    """An invited person, with the one-time link to send them (shown only here)."""

    invite_token: str | None
    invite_url: str | None


class RoleChange(BaseModel):
    """A person's new role."""

    role: Role


class Acceptance(BaseModel):
    """Accepting an invitation: the token from the link, a password and a display name."""

    token: str = Field(min_length=1, max_length=2048)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field("", max_length=200)


def _valid_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ApiError(400, "Invalid request", problems=[Problem("email", str(exc))]) from exc


def _member(conn: Connection, admin: AdminDep, email: str) -> int:
    person = find_person(conn, email)
    if person is None or role_in(conn, person.id, admin.workspace_id) is None:
        raise NotFound(f"no person {email!r} in this workspace")
    return person.id


def _keep_an_owner(conn: Connection, admin: AdminDep, person_id: int) -> None:
    if role_in(conn, person_id, admin.workspace_id) is Role.OWNER and (
        count_owners(conn, admin.workspace_id) <= 1
    ):
        raise ApiError(
            409,
            "Last owner",
            "the workspace needs an owner: make someone else owner first",
        )


@router.get("", response_model=list[PersonOut])
def list_people(admin: AdminDep) -> list[PersonOut]:
    """The workspace's people and their roles."""
    with admin.engine.connect() as conn:
        members = list_members(conn, admin.workspace_id)
    return [
        PersonOut(
            email=m.email, name=m.name, role=m.role, invited=m.invited, created_at=m.created_at
        )
        for m in members
    ]


@router.post("", response_model=Invited, status_code=201)
def invite(body: Invite, request: Request, admin: AdminDep) -> Invited:
    """Add a person; someone new gets a one-time invitation link valid for 7 days."""
    email = _valid_email(body.email)
    now = admin.clock.now()
    token = None
    for attempt in attempts(admin.engine):
        with attempt as conn:
            person = find_person(conn, email)
            if person is not None and role_in(conn, person.id, admin.workspace_id) is not None:
                raise ApiError(
                    409,
                    "Already a member",
                    f"{email} is already in this workspace; PATCH their role",
                )
            if person is None:
                workspace = load_workspace(conn, admin.workspace_id)
                assert workspace is not None
                token, nonce_hash = make_invitation(workspace.secret, workspace.key, email, now)
                person_id = add_person(conn, email, body.name, now, invite_hash=nonce_hash)
            else:
                person_id = person.id  # already has a password from another workspace
            set_role(conn, person_id, admin.workspace_id, body.role, now)
    note_change(request, email, role=body.role.value, invited=token is not None)
    base = request.app.state.links.public_url
    return Invited(
        email=email,
        name=body.name if person is None else person.name,
        role=body.role,
        invited=token is not None,
        created_at=now,
        invite_token=token,
        invite_url=f"{base}/invite#{token}" if token else None,
    )


@router.patch("/{email}", response_model=PersonOut)
def change_role(email: str, body: RoleChange, admin: AdminDep, request: Request) -> PersonOut:
    """Give a person another role; the last owner cannot stop being one."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            person_id = _member(conn, admin, email)
            if body.role is not Role.OWNER:
                _keep_an_owner(conn, admin, person_id)
            set_role(conn, person_id, admin.workspace_id, body.role, admin.clock.now())
            member = next(
                m for m in list_members(conn, admin.workspace_id) if m.email == email.lower()
            )
    note_change(request, member.email, role=Role(member.role).value)
    return PersonOut(
        email=member.email,
        name=member.name,
        role=member.role,
        invited=member.invited,
        created_at=member.created_at,
    )


@router.delete("/{email}", status_code=204)
def remove(email: str, admin: AdminDep) -> None:
    """Take a person out of the workspace; their sessions here end at once."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            person_id = _member(conn, admin, email)
            _keep_an_owner(conn, admin, person_id)
            remove_member(conn, person_id, admin.workspace_id)


@invitations.post("/accept", response_model=SessionOut)
def accept(body: Acceptance, request: Request, response: Response) -> SessionOut:
    """Choose a password with the invitation's token, and be logged in."""
    service = request.app.state.ingest
    refused = ApiError(
        400,
        "Invalid invitation",
        "this invitation link is wrong, expired or already used; ask an owner for a new one",
    )
    problem = password_problem(body.password)
    if problem:
        raise ApiError(400, "Invalid request", problems=[Problem("password", problem)])
    claimed = workspace_of(body.token)
    if claimed is None:
        raise refused
    now = service.clock.now()
    for attempt in attempts(service.engine):
        with attempt as conn:
            workspace_id = find_workspace(conn, claimed)
            workspace = None if workspace_id is None else load_workspace(conn, workspace_id)
            found = (
                None if workspace is None else read_invitation(workspace.secret, body.token, now)
            )
            if found is None:
                raise refused
            person_id = accept_invitation(
                conn, found.email, found.nonce_hash, body.name.strip(), hash_password(body.password)
            )
            if person_id is None:
                raise refused
            person = find_person(conn, found.email)
            workspace_key = found.workspace_key
    assert person is not None
    return open_session(request, response, person, workspace_key)
