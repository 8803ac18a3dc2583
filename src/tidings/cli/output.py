"""How the CLI shows things: Rich tables for figures, a readable story for a contact."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from tidings.core.problems import Problem
from tidings.delivery.transports import Transports
from tidings.files import LoadedWorkflow
from tidings.simulation.scenario import ScenarioResult, run_scenario
from tidings.storage.reports import WorkflowFigures
from tidings.storage.step_log import LogLine

# Piped output (CI logs, files) would otherwise be cut to 80 columns and wrap the tables.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
#: Every error, warning and progress bar goes here, so stdout holds only results: a command's
#: output can be piped or redirected to a file without problems mixed into it.
#: soft_wrap: a message is one line however long, so that grep and logs find it whole.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _rate(part: int, whole: int) -> str:
    return f"{part:,} [dim]{part / whole:>4.0%}[/dim]" if whole else f"{part:,}"


def show_problems(source: str, problems: Sequence[Problem]) -> None:
    """One line per problem on stderr, errors in red and warnings in yellow, with its path."""
    for problem in problems:
        style = "yellow" if problem.severity == "warning" else "red"
        err_console.print(f"[{style}]{escape(f'{source}: {problem}')}[/{style}]", soft_wrap=True)


def run_with_progress(
    engine: Engine,
    loaded: Sequence[LoadedWorkflow],
    *,
    contacts: int,
    days: float,
    seed: int,
    channels: Transports | None = None,
    settings: dict[str, Any] | None = None,
    appeal: dict[str, float] | None = None,
) -> ScenarioResult:
    """Run a simulated scenario with a progress bar that disappears when done."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(f"simulating {contacts:,} contacts for {days:g} days", total=1.0)
        return run_scenario(
            engine,
            [(item.workflow, item.source) for item in loaded if item.workflow is not None],
            contacts=contacts,
            days=days,
            seed=seed,
            progress=lambda done: progress.update(task, completed=done),
            channels=channels,
            settings=settings,
            appeal=appeal,
        )


def make_table(title: str, headers: Sequence[str], left: int) -> Table:
    """A table whose first `left` columns are text and the rest right-aligned numbers."""
    table = Table(title=title, title_justify="left")
    for number, header in enumerate(headers):
        table.add_column(header, justify="left" if number < left else "right", no_wrap=True)
    return table


def show_figures(figures: Sequence[WorkflowFigures]) -> None:
    """A summary table of all workflows, then one table per workflow, step by step."""
    counts = ("entered", "sent", "opened", "clicked", "converted", "revenue")
    summary = make_table(
        "Workflows", ("workflow", *counts, "unsubscribed", "bounced", "exited", "waiting"), 1
    )
    for f in figures:
        summary.add_row(
            f"{escape(f.key)} [dim]v{f.version}[/dim]",
            f"{f.entered:,}",
            f"{f.sent:,}",
            _rate(f.opened, f.delivered),
            _rate(f.clicked, f.delivered),
            _rate(f.converted, f.entered),
            f"{f.revenue:,.2f}",
            f"{f.unsubscribed:,}",
            f"{f.bounced:,}",
            f"{f.exited:,}",
            f"{f.waiting:,}",
        )
    console.print(summary)
    for f in figures:
        headers = ("step", "type", *counts, "waiting here", "left here", "drop-off")
        table = make_table(f"{escape(f.name)}: step by step", headers, 2)
        for s in f.steps:
            sends = s.kind == "send"
            table.add_row(
                escape(s.step_id),
                s.kind,
                f"{s.entered:,}",
                f"{s.sent:,}" if sends else "",
                _rate(s.opened, s.delivered) if sends else "",
                _rate(s.clicked, s.delivered) if sends else "",
                f"{s.converted:,}",
                f"{s.revenue:,.2f}",
                f"{s.waiting:,}" if s.waiting else "",
                f"{s.left:,}" if s.left else "",
                f"{s.drop_off:.0%}" if s.drop_off is not None else "",
            )
        console.print(table)


_ACTION_STYLE = {
    "enrolled": "bold green",
    "converted": "bold green",
    "exited": "yellow",
    "completed": "yellow",
    "held": "red",
    "not_enrolled": "dim",
}


def show_story(title: str, lines: Sequence[LogLine]) -> None:
    """Every decision about a contact, oldest first: when, where, what and why."""
    console.print(f"[bold]{title}[/bold]")
    if not lines:
        console.print("  no workflow has considered this contact yet")
        return
    for line in lines:
        where = line.workflow_key or "-"
        if line.step_id:
            where += f" > {line.step_id}"
        style = _ACTION_STYLE.get(line.action, "")
        action = f"{line.action:<12}"
        action = f"[{style}]{action}[/{style}]" if style else action
        values = line.data.get("values") if isinstance(line.data, dict) else None
        because = ""
        if values:
            shown = ", ".join(f"{k} = {v!r}" for k, v in values.items())
            because = f" [dim]({escape(shown)})[/dim]"
        console.print(
            f"  {line.at:%Y-%m-%d %H:%M} UTC  {where:<38} {action:<12} {line.detail}{because}",
            soft_wrap=True,
        )
