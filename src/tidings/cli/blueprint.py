"""`tidings blueprints list|show|use`: the ten classic flows, ready to fill in and deploy."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from tidings.blueprints import Blueprint, blueprints, find_blueprint, use_blueprint
from tidings.cli.context import open_context
from tidings.cli.output import console, make_table, show_problems
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.core.problems import Problem
from tidings.errors import ConfigError
from tidings.runtime.transactions import attempts
from tidings.storage.workflows import deploy_workflow

app = typer.Typer(
    help="Blueprints: the classic flows as workflows to fill in.", no_args_is_help=True
)

EXIT_INVALID = 3
Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def _found(name: str) -> Blueprint:
    found = find_blueprint(name)
    if isinstance(found, Problem):
        show_problems("blueprint", [found])
        raise typer.Exit(EXIT_INVALID)
    return found


def _values(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--set {pair!r}: write it as name=value, like --set wait=2d")
        values[name.strip()] = value
    return values


@app.command("list")
def list_() -> None:
    """Every blueprint with what it does."""
    # One line each, the name first: it is what `show` and `use` take.
    for name, found in blueprints().items():
        console.print(
            f"[bold]{escape(name)}[/bold]  {escape(found.title)}: {escape(found.summary)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def show(name: str = typer.Argument(..., help="the blueprint's name")) -> None:
    """A blueprint's parameters (with their defaults) and its workflow as the defaults make it."""
    found = _found(name)
    console.print(f"[bold]{escape(found.title)}[/bold]: {escape(found.summary)}")
    table = make_table("Parameters", ["parameter", "default", "meaning"], 3)
    for p in found.parameters:
        table.add_row(escape(p.name), escape(p.default), escape(p.help))
    console.print(table)
    console.print(escape(use_blueprint(found, {}).source), highlight=False, soft_wrap=True)


@app.command()
def use(
    name: str = typer.Argument(..., help="the blueprint's name"),
    set_: list[str] = typer.Option([], "--set", help="a parameter, name=value (repeatable)"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="write the workflow file here (default: KEY.yaml)"
    ),
    deploy: bool = typer.Option(False, "--deploy", help="also deploy it (as `workflow deploy`)"),
    database: str | None = Database,
) -> None:
    """Fill a blueprint in, validate it and write the workflow file; exit 3 with every
    problem."""
    found = _found(name)
    used = use_blueprint(found, _values(set_))
    show_problems(f"blueprint {name}", used.problems)
    if used.workflow is None or any(p.severity == "error" for p in used.problems):
        raise typer.Exit(EXIT_INVALID)
    target = output or Path(f"{used.workflow.id}.yaml")
    target.write_text(used.source, encoding="utf-8")
    console.print(f"{escape(name)}: written to [bold]{escape(str(target))}[/bold]")
    if deploy:
        ctx = open_context(load_settings(database_url=database))
        for attempt in attempts(ctx.engine):
            with attempt as conn:
                _, version, _ = deploy_workflow(
                    conn, ctx.workspace_id, used.workflow, used.source, SystemClock().now()
                )
        console.print(f"{escape(used.workflow.id)}: deployed, version {version}")
