"""`tidings forms ...`: define forms from YAML or JSON files, list them, read their figures."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from tidings.cli.context import Context, open_context
from tidings.cli.output import console, show_problems
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.core.forms import FormSpec, redirect_problem
from tidings.core.problems import Problem
from tidings.core.values import unstorable
from tidings.errors import NotFound
from tidings.files import read_document
from tidings.runtime.transactions import attempts
from tidings.storage import forms as form_store
from tidings.storage.workspaces import load_workspace

app = typer.Typer(help="Forms: hosted at /f/<workspace>/<form>, or embedded.", no_args_is_help=True)

EXIT_INVALID = 3
Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def _context(database: str | None) -> Context:
    return open_context(load_settings(database_url=database))


def _problems(data: object) -> tuple[FormSpec | None, list[Problem]]:
    if found := unstorable(data):
        return None, found
    try:
        return FormSpec.model_validate(data), []
    except ValidationError as exc:
        return None, [
            Problem(".".join(str(p) for p in error["loc"]), error["msg"]) for error in exc.errors()
        ]


@app.command()
def deploy(
    path: Path = typer.Argument(..., help="the form's YAML or JSON file", exists=True),
    database: str | None = Database,
) -> None:
    """Define a form, or change it (each change is a new version)."""
    data, _, problems = read_document(path)
    spec, found = (None, problems) if problems else _problems(data)
    settings = load_settings(database_url=database)
    ctx = open_context(settings)
    if spec is not None:
        with ctx.engine.connect() as conn:
            record = load_workspace(conn, ctx.workspace_id)
        allowed = tuple((record.settings if record else {}).get("allowed_origins") or ())
        if why := redirect_problem(spec.redirect, allowed):
            found = [Problem("redirect", why)]
    if spec is None or found:
        show_problems(str(path), found)
        raise typer.Exit(EXIT_INVALID)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            version = form_store.save_form(conn, ctx.workspace_id, spec, SystemClock().now())
    url = f"{settings.public_url.rstrip('/')}/f/{settings.workspace}/{spec.key}"
    console.print(f"form {escape(spec.key)} at version {version}: {escape(url)}", soft_wrap=True)


@app.command("list")
def list_all(database: str | None = Database) -> None:
    """Every form, with its version and figures."""
    ctx = _context(database)
    table = Table(title="Forms", title_justify="left")
    for header in ("form", "name", "version", "views", "starts", "submissions", "conversion"):
        table.add_column(header, justify="left" if header in ("form", "name") else "right")
    with ctx.engine.connect() as conn:
        for form in form_store.list_forms(conn, ctx.workspace_id):
            [total] = form_store.form_figures(conn, ctx.workspace_id, form.key, "")
            views, starts, submits = (int(total.view), int(total.start), int(total.submit))
            rate = f"{submits / views:.1%}" if views else "-"
            table.add_row(
                escape(form.key), escape(form.spec.name), str(form.version),
                f"{views:,}", f"{starts:,}", f"{submits:,}", rate,
            )  # fmt: skip
    console.print(table)


@app.command()
def figures(
    key: str = typer.Argument(..., help="the form's key"),
    by: str = typer.Option("source", "--by", help="page or source"),
    database: str | None = Database,
) -> None:
    """Views, starts, submissions and conversion rate by page or by source."""
    if by not in ("page", "source"):
        raise typer.BadParameter("--by is page or source")
    ctx = _context(database)
    with ctx.engine.connect() as conn:
        if form_store.load_form(conn, ctx.workspace_id, key) is None:
            raise NotFound(f"no form {key!r}; `tidings forms list` shows them")
        rows = form_store.form_figures(conn, ctx.workspace_id, key, by)
    table = Table(title=f"Form {escape(key)} by {by}", title_justify="left")
    for header in (by, "views", "starts", "submissions", "conversion"):
        table.add_column(header, justify="left" if header == by else "right")
    for row in rows:
        views, submits = int(row.view), int(row.submit)
        rate = f"{submits / views:.1%}" if views else "-"
        label = getattr(row, by) or "(none)"
        table.add_row(escape(label), f"{views:,}", f"{int(row.start):,}", f"{submits:,}", rate)
    console.print(table)
