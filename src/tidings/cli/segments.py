"""`tidings segments ...`: define, list, show, preview, refresh, export and delete segments."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from tidings.cli.context import Context, open_context
from tidings.cli.output import console, show_problems
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.errors import SegmentNotFound, SpecInvalid
from tidings.runtime.exports import write_segment_csv
from tidings.runtime.segments import define_segment, preview
from tidings.runtime.sweeps import sweep_segments
from tidings.runtime.transactions import attempts
from tidings.storage import segments as segment_store
from tidings.storage.segments import Segment

app = typer.Typer(
    help="Segments: named conditions over contacts and behaviour.", no_args_is_help=True
)

EXIT_INVALID = 3
Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")
Key = typer.Argument(..., help="the segment's key, such as hot-leads")


def _context(database: str | None) -> Context:
    return open_context(load_settings(database_url=database))


def _find(ctx: Context, key: str) -> Segment:
    with ctx.engine.connect() as conn:
        segment = segment_store.find_segment(conn, ctx.workspace_id, key)
    if segment is None:
        raise SegmentNotFound(f"no segment {key!r}; `tidings segments list` shows them")
    return segment


def _print_members(ctx: Context, ids: list[int]) -> None:
    with ctx.engine.connect() as conn:
        found = segment_store.who(conn, ids)
    for contact_id, user_id, email in found:
        console.print(f"  {contact_id}  {escape(user_id or '')}  {escape(email or '')}")


@app.command()
def define(
    key: str = Key,
    condition: str = typer.Option(..., "--condition", "-c", help="who is in it"),
    name: str | None = typer.Option(None, "--name", help="a readable name (default: the key)"),
    database: str | None = Database,
) -> None:
    """Create or change a segment and fill it now."""
    ctx = _context(database)
    try:
        defined = define_segment(
            ctx.engine, ctx.workspace_id, key, name or key, condition, SystemClock().now()
        )
    except SpecInvalid as exc:
        show_problems(exc.source, exc.problems)
        raise typer.Exit(EXIT_INVALID) from exc
    verb = "created" if defined.created else "updated"
    console.print(f"segment {escape(key)} {verb}: {defined.size:,} contacts")


@app.command("list")
def list_all(database: str | None = Database) -> None:
    """Every segment with its size."""
    ctx = _context(database)
    with ctx.engine.connect() as conn:
        found = segment_store.list_segments(conn, ctx.workspace_id)
        sizes = segment_store.sizes(conn, ctx.workspace_id)
    table = Table(title="Segments", title_justify="left")
    for header in ("segment", "name", "contacts", "condition"):
        table.add_column(header, justify="right" if header == "contacts" else "left")
    for segment in found:
        table.add_row(
            escape(segment.key),
            escape(segment.name),
            f"{sizes.get(segment.id, 0):,}",
            escape(segment.condition),
        )
    console.print(table)


@app.command()
def show(
    key: str = Key,
    limit: int = typer.Option(20, "--limit", help="how many members to list"),
    database: str | None = Database,
) -> None:
    """A segment's size and its first members."""
    ctx = _context(database)
    segment = _find(ctx, key)
    with ctx.engine.connect() as conn:
        size = segment_store.size_of(conn, segment)
        ids = segment_store.member_ids(conn, segment, 0, limit)
    console.print(f"[bold]{escape(segment.name)}[/bold] ({escape(segment.key)}): {size:,} contacts")
    console.print(f"  {escape(segment.condition)}")
    _print_members(ctx, ids)


@app.command("preview")
def preview_condition(
    condition: str = typer.Argument(..., help="a condition to try, nothing is saved"),
    database: str | None = Database,
) -> None:
    """How many contacts a condition would hold now, and a few of them."""
    ctx = _context(database)
    try:
        size, sample = preview(ctx.engine, ctx.workspace_id, condition, SystemClock().now())
    except SpecInvalid as exc:
        show_problems(exc.source, exc.problems)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"{size:,} contacts")
    _print_members(ctx, sample)


@app.command()
def refresh(database: str | None = Database) -> None:
    """Recompute every segment now (the scheduler does this every minute) and announce
    who entered and left."""
    ctx = _context(database)
    moved = sweep_segments(ctx.engine, SystemClock(), ctx.catalog)
    console.print(f"{moved:,} memberships changed")


@app.command()
def export(
    key: str = Key,
    out: Path | None = typer.Option(None, "--out", "-o", help="CSV file (default: stdout)"),
    database: str | None = Database,
) -> None:
    """Write the members as CSV."""
    ctx = _context(database)
    segment = _find(ctx, key)
    with ctx.engine.connect() as conn:
        if out is None:
            rows = write_segment_csv(conn, segment, sys.stdout)
        else:
            with out.open("w", newline="", encoding="utf-8") as handle:
                rows = write_segment_csv(conn, segment, handle)
    if out is not None:
        console.print(f"{rows:,} contacts written to {escape(str(out))}")


@app.command()
def delete(key: str = Key, database: str | None = Database) -> None:
    """Delete a segment and its memberships."""
    ctx = _context(database)
    segment = _find(ctx, key)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            segment_store.delete_segment(conn, segment)
    console.print(f"segment {escape(key)} deleted")
