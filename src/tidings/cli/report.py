"""`tidings report`: the measurement in the terminal (Rich tables), or as an HTML page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import typer
from rich.markup import escape

from tidings.cli.context import open_context
from tidings.cli.dry_runs import show_dry_run
from tidings.cli.output import console, make_table, show_figures
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.core.duration import parse_duration
from tidings.errors import ConfigError, NotFound
from tidings.reporting.build import Options, Report, build_report
from tidings.reporting.formats import money, percent
from tidings.reporting.html import MODEL_NAMES, write_html
from tidings.runtime.dry_summary import DryRunSummary
from tidings.storage.dry_runs import dry_run_names, load_dry_run
from tidings.storage.reports import Period
from tidings.storage.workspaces import report_time

Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{option}: {value!r} is not a date; write it as YYYY-MM-DD") from exc


def _duration(value: str, option: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from exc


def report(
    html: Path | None = typer.Option(
        None, "--html", help="write a self-contained HTML page with charts to this file"
    ),
    since: str | None = typer.Option(None, "--since", help="first day, YYYY-MM-DD (UTC)"),
    until: str | None = typer.Option(None, "--until", help="last day included, YYYY-MM-DD"),
    window: str = typer.Option("7d", "--window", help="attribution window before a conversion"),
    half_life: str = typer.Option("2d", "--half-life", help="time-decay attribution half-life"),
    dry_run: str | None = typer.Option(
        None, "--dry-run", help="show the dry run kept with `workflows simulate --save NAME`"
    ),
    database: str | None = Database,
) -> None:
    """Funnels, experiments, holdout lift, attribution, customer value and the audit."""
    if dry_run is not None:
        show_saved_dry_run(dry_run, database)
        return
    first, last = _day(since, "--since"), _day(until, "--until")
    if first is not None and last is not None and first > last:
        raise ConfigError("--since must be on or before --until")
    options = Options(
        period=Period.of_days(first, last),
        attribution_window=_duration(window, "--window"),
        half_life=_duration(half_life, "--half-life"),
    )
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        now = report_time(conn, ctx.workspace_id, SystemClock().now())
        found = build_report(conn, ctx.workspace_id, ctx.catalog, now, options)
    if html is not None:
        written = write_html(found, html)
        console.print(f"report written to [bold]{escape(str(written))}[/bold]")
        return
    show_report(found)


def show_saved_dry_run(name: str, database: str | None) -> None:
    """A dry run kept with --save, as it was printed then."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        found = load_dry_run(conn, ctx.workspace_id, name)
        names = dry_run_names(conn, ctx.workspace_id) if found is None else []
    if found is None:
        kept = f"; kept: {', '.join(names[:10])}" if names else "; none is kept yet"
        raise NotFound(f"--dry-run: no dry run kept as {name!r}{kept}")
    show_dry_run(DryRunSummary.model_validate(found))


def show_report(found: Report) -> None:
    """The whole report, section by section."""
    show_figures(found.workflows)
    show_experiments(found)
    show_attribution(found)
    show_value(found)
    show_findings(found)


def show_experiments(found: Report) -> None:
    """Each experiment's arms and verdicts, then each holdout's lift."""
    for x in found.experiments:
        kind = "A/B variants" if x.kind == "variants" else "random split"
        title = f"Experiment {x.workflow} > {x.step} ({kind}, judged by {x.metric})"
        table = make_table(
            escape(title),
            ("arm", "contacts", "clicked", "converted", "revenue/contact", "chance best"),
            1,
        )
        for arm in x.arms:
            mark = " [green]winner[/green]" if arm.name == x.winner else ""
            table.add_row(
                escape(arm.name) + mark,
                f"{arm.assigned:,}",
                f"{arm.clicked:,} {percent(arm.click_rate)}" if x.kind == "variants" else "",
                f"{arm.converted:,} {percent(arm.conversion_rate)}",
                money(arm.revenue_per_contact),
                percent(arm.probability_best),
            )
        console.print(table)
        for v in x.comparisons:
            if v.comparison is None:
                continue
            c = v.comparison
            if v.metric == "revenue per contact":
                shown = f"{c.difference:+.2f} ({c.low:+.2f} to {c.high:+.2f})"
            else:
                shown = f"{c.difference * 100:+.1f} pts ({c.low * 100:+.1f} to {c.high * 100:+.1f})"
            console.print(
                escape(f"  {v.arm} vs control, {v.metric}: {shown}, p = {c.p_value:.3f}: {v.said}")
            )
        console.print(f"  [bold]{escape(x.conclusion)}[/bold]")
    for lift in found.lifts:
        console.print(
            f"[bold]Holdout lift[/bold] {escape(lift.workflow)}: {lift.treated:,} treated, "
            f"{lift.holdout:,} held out"
        )
        if lift.conversion is not None and lift.incremental_revenue is not None:
            c = lift.conversion
            revenue, low, high = lift.incremental_revenue
            console.print(
                f"  conversion {c.a:.1%} held out vs {c.b:.1%} treated "
                f"({c.difference * 100:+.1f} pts, {c.low * 100:+.1f} to {c.high * 100:+.1f}); "
                f"incremental revenue {revenue:,.2f} ({low:,.2f} to {high:,.2f}) of "
                f"{lift.attributed_revenue:,.2f} attributed"
            )
        console.print(f"  [bold]{escape(lift.conclusion)}[/bold]")


def show_attribution(found: Report) -> None:
    """Revenue credited to each workflow by every model, side by side."""
    a = found.attribution
    table = make_table(
        f"Attribution: revenue credited ({a.window.days}-day window)",
        ("workflow", *(MODEL_NAMES[m] for m in a.models)),
        1,
    )
    for row in a.workflows:
        table.add_row(escape(row.workflow), *(money(row.credits[m].revenue) for m in a.models))
    console.print(table)
    console.print(
        f"  {a.conversions:,} conversions worth {a.revenue:,.2f}; {a.untouched:,} "
        f"({a.untouched_revenue:,.2f}) had no message before them"
    )


def show_value(found: Report) -> None:
    """Lifetime value to date per source and segment; time to convert per workflow."""
    v = found.value
    table = make_table(
        "Customer value to date",
        ("group", "contacts", "buyers", "per contact", "median", "90th pct"),
        1,
    )
    for spread in [v.overall, *v.by_source, *v.by_segment]:
        table.add_row(
            escape(spread.group),
            f"{spread.contacts:,}",
            f"{spread.buyers:,}",
            money(spread.value.mean),
            money(spread.value.median),
            money(spread.value.p90),
        )
    console.print(table)
    timing = make_table(
        "Time from entry to conversion", ("workflow", "conversions", "median", "90th"), 1
    )
    for key, d in v.hours_to_convert.items():
        timing.add_row(escape(key), f"{d.count:,}", f"{d.median:.1f} h", f"{d.p90:.1f} h")
    console.print(timing)


def show_findings(found: Report) -> None:
    """The audit, each finding with its numbers and what to do."""
    console.print("[bold]Audit[/bold]")
    if not found.findings:
        console.print("  nothing to flag")
    for finding in found.findings:
        console.print(
            f"  [yellow]{escape(finding.kind)}[/yellow] {escape(finding.subject)}: "
            f"{escape(finding.summary)}\n    [dim]what to do: {escape(finding.advice)}[/dim]",
            soft_wrap=True,
        )
