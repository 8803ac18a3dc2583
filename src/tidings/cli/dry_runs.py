"""A dry run's summary in the terminal (`workflows simulate`, `report --dry-run`), and the
workflows a dry run is asked about: files, or keys of deployed workflows."""

from __future__ import annotations

from rich.markup import escape
from sqlalchemy import Connection

from tidings.cli.output import console, err_console, make_table
from tidings.core.spec import Workflow
from tidings.errors import WorkflowNotFound
from tidings.runtime.dry_summary import DryRunSummary, WorkflowSummary
from tidings.storage import browse
from tidings.storage.workflows import Catalog, version_sources


def _rules(counts: dict[str, int]) -> str:
    return ", ".join(f"{rule} {count:,}" for rule, count in sorted(counts.items()))


def show_dry_run(summary: DryRunSummary) -> None:
    """What each workflow would have done, step by step, then what never ran."""
    console.print(
        f"[bold]dry run[/bold]: {escape(summary.source)}; virtual time"
        f" {summary.started_at:%Y-%m-%d %H:%M} to {summary.ended_at:%Y-%m-%d %H:%M} UTC;"
        f" {summary.contacts:,} contacts copied, {summary.events:,} events replayed"
        + (f", {summary.rejected:,} refused" if summary.rejected else ""),
        highlight=False,
    )
    for workflow in summary.workflows:
        _show_workflow(workflow)
    for warning in summary.warnings:
        err_console.print(f"[yellow]warning: {escape(warning)}[/yellow]", soft_wrap=True)
    console.print("nothing was sent and nothing in the database changed", highlight=False)


def _show_workflow(workflow: WorkflowSummary) -> None:
    title = f"{workflow.key} ({workflow.name}): {workflow.entered:,} entered on {workflow.trigger}"
    table = make_table(
        escape(title),
        ("step", "kind", "reached", "sent", "queued", "held", "deferred", "dropped"),
        2,
    )
    for step in workflow.steps:
        table.add_row(
            escape(step.step_id),
            step.kind,
            f"{step.reached:,}",
            f"{step.sent:,}",
            f"{step.queued:,}",
            escape(_rules(step.held)),
            escape(_rules(step.deferred)),
            escape(_rules(step.dropped)),
        )
        for arm in step.arms:
            table.add_row(f"  {escape(arm.label)}", "", f"{arm.taken:,}", *[""] * 5)
    console.print(table)
    if workflow.never_reached:
        never = ", ".join(workflow.never_reached)
        console.print(f"  never reached: {escape(never)}", highlight=False)
    if workflow.arms_never_taken:
        untaken = "; ".join(workflow.arms_never_taken)
        console.print(f"  never taken: {escape(untaken)}", highlight=False)


def deployed_workflows(
    keys: list[str], conn: Connection, workspace_id: int, catalog: Catalog
) -> list[tuple[Workflow, str]]:
    """The current version of each deployed workflow named, and its source text."""
    found: list[tuple[Workflow, str]] = []
    for key in keys:
        row = browse.get_workflow(conn, workspace_id, key)
        if row is None:
            raise WorkflowNotFound(f"{key}: no such file, and no deployed workflow with that key")
        spec = catalog.version(conn, row.id, row.current_version)
        version = (row.current_version, row.current_version)
        source = version_sources(conn, workspace_id, key, version).get(row.current_version, "")
        found.append((spec, source))
    return found
