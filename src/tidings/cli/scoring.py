"""`tidings scoring ...`: set the lead-scoring model from a file, show it."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.markup import escape

from tidings.cli.context import open_context
from tidings.cli.output import console, err_console, show_problems
from tidings.config import load_settings
from tidings.errors import SpecInvalid
from tidings.runtime.scoring import set_scoring
from tidings.storage.workspaces import load_scoring_document

app = typer.Typer(
    help="Lead scoring: named scores, rules, decay, thresholds.", no_args_is_help=True
)

EXIT_INVALID = 3
Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


@app.command("set")
def set_model(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a YAML or JSON file"),
    database: str | None = Database,
) -> None:
    """Check a scoring model and make it the workspace's; exit 3 with every problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        err_console.print(f"[red]{escape(str(path))}: {escape(str(exc))}[/red]")
        raise typer.Exit(EXIT_INVALID) from exc
    ctx = open_context(load_settings(database_url=database))
    try:
        scoring = set_scoring(ctx.engine, ctx.workspace_id, document)
    except SpecInvalid as exc:
        show_problems(str(path), exc.problems)
        raise typer.Exit(EXIT_INVALID) from exc
    names = ", ".join(escape(n) for n in scoring.scores) or "none"
    console.print(f"scoring set: scores {names}; {len(scoring.thresholds)} threshold(s)")


@app.command()
def show(database: str | None = Database) -> None:
    """Print the workspace's scoring model as YAML."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        document = load_scoring_document(conn, ctx.workspace_id)
    console.print(escape(yaml.safe_dump(document, sort_keys=False)) if document else "no scoring")
