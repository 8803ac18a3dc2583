"""`tidings workflows publish` and `tidings workflows migrate`: a new version, and the
journeys waiting in older versions moved onto it after a dry run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from tidings.cli.audit import note_cli_change
from tidings.cli.context import Context, open_context
from tidings.cli.output import console, make_table, show_problems
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.core.moves import MovePlan, parse_step_map
from tidings.core.spec import Workflow
from tidings.errors import ConfigError, WorkflowNotFound
from tidings.files import load_workflows
from tidings.runtime import moves
from tidings.runtime.transactions import attempts
from tidings.storage.workflows import deploy_workflow

EXIT_INVALID = 3

Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")
Maps = typer.Option(
    [], "--map", help="OLD=NEW: journeys waiting in step OLD go to step NEW (repeatable)"
)
Yes = typer.Option(False, "--yes", help="apply without asking, after printing the dry run")


def _step_map(maps: list[str]) -> dict[str, str]:
    try:
        return parse_step_map(maps)
    except ValueError as exc:
        raise ConfigError(f"--map {exc}") from exc


def _show(plan: MovePlan, key: str) -> None:
    if not plan.moves and not plan.stranded:
        console.print(f"{key}: no journeys wait in an older version")
        return
    table = make_table(
        f"{key}: journeys waiting in older versions, moving to version {plan.to_version}",
        ["from", "to", "contacts", "deadline, or why they stay"],
        2,
    )
    # The last column is words, not a number: left-aligned, wrapped when long.
    table.columns[3].justify, table.columns[3].no_wrap = "left", False
    for line in plan.lines():
        target = f"v{plan.to_version} {line.to_step}" if line.to_step else "stays"
        table.add_row(
            escape(f"v{line.from_version} {line.from_step}"),
            escape(target),
            f"{line.contacts:,}",
            escape(line.note),
        )
    console.print(table)
    console.print(f"{len(plan.moves):,} move, {len(plan.stranded):,} stay on their version")


def _confirmed(plan: MovePlan, yes: bool, question: str) -> bool:
    if yes or not (plan.moves or plan.stranded):
        return True
    return typer.confirm(question, default=False)


def _move(ctx: Context, key: str, step_map: dict[str, str]) -> None:
    clock = SystemClock()
    done = moves.apply(ctx.engine, clock, ctx.catalog, ctx.workspace_id, key, step_map)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            # Audited like `POST /api/workflows/{key}/migration/apply`.
            note_cli_change(
                conn,
                ctx.workspace_id,
                "workflows.apply_migration",
                "workflows",
                key,
                to_version=done.to_version,
                moved=len(done.moves),
                stranded=len(done.stranded),
                map=step_map,
            )
    console.print(
        f"{key}: moved {len(done.moves):,} to version {done.to_version}; "
        f"{len(done.stranded):,} stay on their version"
    )


def _dry_run(ctx: Context, key: str, step_map: dict[str, str], new: Workflow | None) -> MovePlan:
    clock = SystemClock()
    try:
        return moves.plan(ctx.engine, clock, ctx.catalog, ctx.workspace_id, key, step_map, new)
    except WorkflowNotFound:
        if new is None:
            raise
        return MovePlan(1)  # a new workflow: nobody waits in it yet


def publish(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a workflow file"),
    migrate: bool = typer.Option(
        False, "--migrate", help="move journeys waiting in older versions onto the new one"
    ),
    maps: list[str] = Maps,
    yes: bool = Yes,
    database: str | None = Database,
) -> None:
    """Deploy one workflow file as the next version. Journeys already running stay on their
    version, unless --migrate: then a dry run shows where each waiting journey would go,
    and, once confirmed, they move."""
    [item] = load_workflows([path])
    show_problems(str(item.path), item.problems)
    if item.workflow is None or item.errors:
        raise typer.Exit(EXIT_INVALID)
    if maps and not migrate:
        raise ConfigError("--map only applies with --migrate")
    workflow = item.workflow
    ctx = open_context(load_settings(database_url=database))
    step_map = _step_map(maps)
    if migrate:
        plan = _dry_run(ctx, workflow.id, step_map, workflow)
        _show(plan, workflow.id)
        if not _confirmed(plan, yes, "Publish, and move these journeys?"):
            console.print("nothing changed")
            raise typer.Exit(1)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            _, version, new = deploy_workflow(
                conn, ctx.workspace_id, workflow, item.source, SystemClock().now()
            )
    console.print(f"{workflow.id}: {'deployed' if new else 'unchanged'}, version {version}, active")
    if migrate:
        _move(ctx, workflow.id, step_map)


def migrate(
    key: str = typer.Argument(..., help="the workflow's key"),
    maps: list[str] = Maps,
    yes: bool = Yes,
    database: str | None = Database,
) -> None:
    """Move the journeys waiting in older versions of a workflow onto its current version,
    after a dry run."""
    ctx = open_context(load_settings(database_url=database))
    step_map = _step_map(maps)
    plan = _dry_run(ctx, key, step_map, None)
    _show(plan, key)
    if not (plan.moves or plan.stranded):
        return
    if not _confirmed(plan, yes, "Move these journeys?"):
        console.print("nothing changed")
        raise typer.Exit(1)
    _move(ctx, key, step_map)
