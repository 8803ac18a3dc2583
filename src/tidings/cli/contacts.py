"""`tidings contacts ...`: the story of one contact, imports from CSV, one person's data
exported or erased."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress

from tidings.cleaning import Unclean, clean_region
from tidings.cli.audit import note_cli_change
from tidings.cli.context import open_context
from tidings.cli.output import console, err_console, show_problems, show_story
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.errors import ContactNotFound, SpecInvalid
from tidings.runtime.imports import import_contacts, report_text
from tidings.runtime.merges import merge_duplicates
from tidings.runtime.transactions import attempts
from tidings.storage.browse import get_contact
from tidings.storage.contacts import find_contact
from tidings.storage.erasure import Erased, erase_contact
from tidings.storage.personal_data import personal_data
from tidings.storage.step_log import contact_story

app = typer.Typer(
    help="Look at contacts, import them from CSV, export or erase one person's data.",
    no_args_is_help=True,
)

EXIT_INVALID = 3


@app.command()
def why(
    ref: str = typer.Argument(..., help="the contact's id, your user id for them, or their email"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Tell the story of each decision: which trigger, which branch and why, what was held."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        contact_id = find_contact(conn, ctx.workspace_id, ref)
        if contact_id is None:
            raise ContactNotFound(f"no contact {ref!r} in workspace {ctx.workspace_id}")
        show_story(f"Contact {ref} (id {contact_id})", contact_story(conn, contact_id))


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a CSV file"),
    map_: list[str] = typer.Option(
        [],
        "--map",
        help="COLUMN=FIELD (email, phone, external_id, ..., attributes.NAME) or COLUMN= to skip",
    ),
    region: str | None = typer.Option(
        None, "--region", help="read local phone numbers as this country (US, FR)"
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="report what would happen; write nothing"
    ),
    encoding: str = typer.Option(
        "utf-8-sig", "--encoding", help="the file's encoding (cp1252 for old Excel)"
    ),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Import contacts from CSV: created, updated, merged and rejected rows, each with its
    line number; all or nothing (an interrupted import writes nothing)."""
    mapping: dict[str, str] = {}
    for item in map_:
        column, sep, target = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: write COLUMN=FIELD", param_hint="--map")
        mapping[column.strip()] = target.strip()
    try:
        phone_region = clean_region(region) if region else None
    except Unclean as exc:
        raise typer.BadParameter(str(exc), param_hint="--region") from exc
    ctx = open_context(load_settings(database_url=database))
    try:
        with path.open(encoding=encoding, newline="") as handle:
            total = sum(1 for _ in handle)
            handle.seek(0)
            with Progress(transient=True, console=err_console) as progress:
                task = progress.add_task("importing", total=max(total - 1, 1))
                report = import_contacts(
                    ctx.engine,
                    ctx.workspace_id,
                    handle,
                    SystemClock().now(),
                    mapping=mapping,
                    region=phone_region,
                    dry_run=dry_run,
                    progress=lambda rows: progress.update(task, completed=rows),
                )
    except UnicodeDecodeError as exc:
        err_console.print(
            f"[red]{escape(str(path))} is not {escape(encoding)} text (byte {exc.start});"
            " pass --encoding cp1252 (old Excel) or latin-1[/red]"
        )
        raise typer.Exit(EXIT_INVALID) from exc
    except SpecInvalid as exc:
        show_problems(str(path), exc.problems)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(escape(report_text(report)), end="")


@app.command()
def dedupe(
    dry_run: bool = typer.Option(False, "--dry-run", help="report only; merge nothing"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Merge contacts that share an email or a phone; events, journeys and consent
    withdrawals move to one profile. Prints what was (or would be) merged."""
    ctx = open_context(load_settings(database_url=database))
    found = merge_duplicates(ctx.engine, ctx.workspace_id, SystemClock().now(), dry_run=dry_run)
    for group in found:
        others = ", ".join(str(i) for i in group.merged)
        if group.skipped:
            ids = f"{group.survivor}, {others}"
            console.print(f"{escape(group.shared)}: left alone, {escape(group.skipped)} ({ids})")
        else:
            console.print(
                f"{escape(group.shared)}: {others} into {group.survivor}"
                f" ({group.events} events, {group.journeys} journeys)"
            )
    merged = sum(len(g.merged) for g in found if not g.skipped)
    verb = "would be merged (dry run)" if dry_run else "merged"
    console.print(f"{merged} contact(s) {verb}")


@app.command("export")
def export_data(
    ref: str = typer.Argument(..., help="the contact's id, your user id for them, or their email"),
    out: Path | None = typer.Option(None, "--out", "-o", help="JSON file (default: stdout)"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Everything stored about one contact, as JSON (a data-subject access request)."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        contact_id = find_contact(conn, ctx.workspace_id, ref)
        data = personal_data(conn, ctx.workspace_id, contact_id) if contact_id else None
    if data is None:
        raise ContactNotFound(f"no contact {ref!r} in workspace {ctx.workspace_id}")
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"written to {escape(str(out))}")


@app.command()
def erase(
    ref: str = typer.Argument(..., help="the contact's id, your user id for them, or their email"),
    yes: bool = typer.Option(False, "--yes", help="erase without asking"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Erase a contact and everything about them (the right to erasure), as
    `DELETE /api/contacts/ID` does: only hashes of their email, phone and ids remain, on the
    suppression list. Asks first unless --yes; prints what was erased."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        contact_id = find_contact(conn, ctx.workspace_id, ref)
    if contact_id is None:
        raise ContactNotFound(f"no contact {ref!r} in workspace {ctx.workspace_id}")
    if not yes and not typer.confirm(
        f"Erase contact {ref} (id {contact_id}) and everything about them? This cannot be undone",
        default=False,
    ):
        console.print("nothing changed")
        raise typer.Exit(1)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            row = get_contact(conn, ctx.workspace_id, contact_id)
            if row is None:  # erased (or merged away) since it was looked up
                raise ContactNotFound(f"no contact {ref!r} in workspace {ctx.workspace_id}")
            erased = erase_contact(conn, ctx.workspace_id, row, SystemClock().now())
            # Audited like `DELETE /api/contacts/ID`, so the log answers who erased whom
            # whichever way it was done; the id only, never what named the person.
            note_cli_change(
                conn,
                ctx.workspace_id,
                "contacts.erase",
                "contacts",
                str(contact_id),
                command="tidings contacts erase",
            )
    console.print(escape(erased_text(contact_id, erased)))


def erased_text(contact_id: int, erased: Erased) -> str:
    """What an erasure removed, table by table, for the terminal."""
    counts = ", ".join(f"{name} {count}" for name, count in erased.rows.items() if count)
    return (
        f"erased contact {contact_id}: {counts}\n"
        f"{erased.suppressed} identifier(s) kept as hashes on the suppression list"
    )
