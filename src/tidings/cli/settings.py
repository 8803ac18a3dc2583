"""`tidings settings ...`: the workspace's delivery settings (sender, send-time policies,
topics, alert targets) from a file, and shown; what `GET`/`PUT /api/settings` do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError
from rich.markup import escape

from tidings.cli.audit import note_cli_change
from tidings.cli.context import open_context
from tidings.cli.output import console, err_console, show_problems
from tidings.config import load_settings
from tidings.core.problems import Problem
from tidings.core.values import unstorable
from tidings.delivery.settings import (
    DeliverySettings,
    keep_masked,
    mask_credentials,
    with_known_timezone,
)
from tidings.runtime.transactions import attempts
from tidings.storage.workspaces import load_workspace, save_settings

app = typer.Typer(
    help="Delivery settings: sender, send-time policies, topics, alerts.", no_args_is_help=True
)

EXIT_INVALID = 3
Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def _problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems with a dotted path (`policies.caps[0].limit`)."""
    found = []
    for error in exc.errors():
        path = ""
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        found.append(Problem(path, error["msg"]))
    return found


def check_settings(document: Any) -> tuple[DeliverySettings | None, list[Problem]]:
    """The settings a document describes, or every problem with it."""
    if not isinstance(document, dict):
        return None, [Problem("", "expected a mapping of settings, like sender: and policies:")]
    try:
        settings = DeliverySettings.model_validate(document)
    except ValidationError as exc:
        return None, _problems(exc)
    bad = unstorable(settings.model_dump(mode="json"), "")
    if bad:
        return None, [Problem(p.path.lstrip("."), p.message, p.hint) for p in bad]
    settings, wrong = with_known_timezone(settings)
    return (None, wrong) if wrong else (settings, [])


@app.command("set")
def set_settings(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a YAML or JSON file"),
    database: str | None = Database,
) -> None:
    """Check settings and make them the workspace's (all of them: what the file leaves out
    takes its default); exit 3 with every problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        err_console.print(f"[red]{escape(str(path))}: {escape(str(exc))}[/red]")
        raise typer.Exit(EXIT_INVALID) from exc
    settings, problems = check_settings(document)
    if settings is None:
        show_problems(str(path), problems)
        raise typer.Exit(EXIT_INVALID)
    ctx = open_context(load_settings(database_url=database))
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            record = load_workspace(conn, ctx.workspace_id)
            stored = record.settings if record is not None else {}
            wanted = keep_masked(settings.model_dump(mode="json", by_alias=True), stored)
            save_settings(conn, ctx.workspace_id, wanted)
            # Audited like `PUT /api/settings`, so the log answers who changed the settings
            # whichever way they were changed.
            note_cli_change(
                conn,
                ctx.workspace_id,
                "delivery.put_settings",
                "delivery",
                command="tidings settings set",
                file=path.name,
            )
    console.print(f"settings set from {escape(str(path))}")


@app.command()
def show(
    database: str | None = Database,
    reveal: bool = typer.Option(
        False, "--reveal", help="print credentials (the Slack webhook URL) in full"
    ),
) -> None:
    """Print the workspace's delivery settings as YAML (defaults included); credentials
    show only their scheme and host unless --reveal."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        record = load_workspace(conn, ctx.workspace_id)
    stored = record.settings if record is not None else {}
    settings = DeliverySettings.model_validate(stored).model_dump(mode="json", by_alias=True)
    if not reveal:
        settings = mask_credentials(settings)
    console.print(escape(yaml.safe_dump(settings, sort_keys=False)), soft_wrap=True)
