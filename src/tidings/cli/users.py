"""`tidings users ...`: who may log in to the console, with which role."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape
from rich.table import Table

from tidings.cli.context import open_context
from tidings.cli.output import console
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.errors import TidingsError
from tidings.passwords import hash_password, password_problem
from tidings.runtime.transactions import attempts
from tidings.storage.people import (
    Role,
    add_person,
    count_owners,
    find_person,
    list_members,
    remove_member,
    role_in,
    set_password,
    set_role,
)

app = typer.Typer(help="People who log in to the console, and their roles.", no_args_is_help=True)

Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")
Workspace = typer.Option(None, "--workspace", help="workspace key (default: TIDINGS_WORKSPACE)")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, without its newline: `echo "$PASSWORD" | tidings users add ...`.
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command()
def add(
    email: str = typer.Argument(..., help="the email they log in with"),
    role: Role = typer.Option(..., "--role", help="owner, editor, approver or viewer"),
    name: str = typer.Option("", "--name", help="the name the console shows"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from stdin instead of a prompt"
    ),
    database: str | None = Database,
    workspace: str | None = Workspace,
) -> None:
    """Add a person (or set an existing person's password and role) in the workspace."""
    password = _read_password(password_stdin)
    problem = password_problem(password)
    if problem:
        raise TidingsError(f"password: {problem}")
    settings = load_settings(database_url=database, workspace=workspace)
    ctx = open_context(settings)
    now = SystemClock().now()
    hashed = hash_password(password)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            person = find_person(conn, email)
            if person is None:
                person_id = add_person(conn, email, name, now, password_hash=hashed)
            else:
                person_id = person.id
                set_password(conn, person_id, hashed)
            set_role(conn, person_id, ctx.workspace_id, role, now)
    console.print(
        f"{escape(email.strip().lower())} is {role.value} in workspace "
        f"{escape(settings.workspace)}; they log in at {escape(settings.public_url)}/"
    )


@app.command("list")
def list_people(database: str | None = Database, workspace: str | None = Workspace) -> None:
    """The workspace's people and roles."""
    ctx = open_context(load_settings(database_url=database, workspace=workspace))
    with ctx.engine.connect() as conn:
        members = list_members(conn, ctx.workspace_id)
    if not members:
        console.print("no people yet: add one with `tidings users add EMAIL --role owner`")
        return
    table = Table("email", "name", "role", "status")
    for member in members:
        status = "invited" if member.invited else "active"
        table.add_row(escape(member.email), escape(member.name), member.role.value, status)
    console.print(table)


@app.command()
def remove(
    email: str = typer.Argument(..., help="the person's email"),
    database: str | None = Database,
    workspace: str | None = Workspace,
) -> None:
    """Take a person out of the workspace; their sessions end at once."""
    ctx = open_context(load_settings(database_url=database, workspace=workspace))
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            person = find_person(conn, email)
            role = None if person is None else role_in(conn, person.id, ctx.workspace_id)
            if person is None or role is None:
                raise TidingsError(
                    f"no person {email!r} in this workspace; see `tidings users list`"
                )
            if role is Role.OWNER and count_owners(conn, ctx.workspace_id) <= 1:
                raise TidingsError(f"{email} is the last owner; add another owner first")
            remove_member(conn, person.id, ctx.workspace_id)
    console.print(f"removed {escape(email)}")
