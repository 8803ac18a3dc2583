"""`tidings workflows ...`: validate, deploy, publish, migrate, list, pause, resume, simulate,
test-send."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import typer
from rich.markup import escape

from tidings.api.segment_file import CallsFile, read_calls
from tidings.cli.context import open_context
from tidings.cli.dry_runs import deployed_workflows, show_dry_run
from tidings.cli.output import console, err_console, run_with_progress, show_figures, show_problems
from tidings.cli.publish import migrate, publish
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.core.duration import parse_duration
from tidings.core.preview import preview_template
from tidings.core.problems import Problem
from tidings.core.state import ContactView
from tidings.delivery.transports import Transports
from tidings.errors import ConfigError, ContactNotFound
from tidings.files import LoadedWorkflow, load_workflows
from tidings.runtime.dry_run import ContactSample, dry_run
from tidings.runtime.test_sends import (
    TestSendRefused,
    TestSendRequest,
    TransportMissing,
    send_test,
)
from tidings.runtime.transactions import attempts
from tidings.storage.contacts import find_contact, load_contacts
from tidings.storage.dry_runs import save_dry_run
from tidings.storage.engine import create_engine
from tidings.storage.reports import workflow_figures
from tidings.storage.workflows import WorkflowStatus, deploy_workflow, list_workflows, set_status
from tidings.storage.workspaces import report_time

app = typer.Typer(help="Check, deploy and simulate workflow files.", no_args_is_help=True)

EXIT_INVALID = 3
#: What a saved dry run may be called.
SAVED_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

Files = typer.Argument(..., help="workflow files (YAML or JSON), or folders of them", exists=True)
Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def _checked(paths: list[Path], known: frozenset[str] = frozenset()) -> list[LoadedWorkflow]:
    loaded = load_workflows(paths, known)
    failed = False
    for item in loaded:
        show_problems(str(item.path), item.problems)
        failed = failed or bool(item.errors)
    if failed:
        raise typer.Exit(EXIT_INVALID)
    return loaded


@app.command()
def validate(paths: list[Path] = Files) -> None:
    """Check workflow files; print every problem with its path, exit 3 if any is an error."""
    loaded = load_workflows(paths)
    errors = 0
    for item in loaded:
        show_problems(str(item.path), item.problems)
        errors += len(item.errors)
        if not item.errors:
            warnings = len(item.problems)
            note = f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""
            console.print(f"[green]{item.path}: ok[/green]{note}")
    if errors:
        err_console.print(f"[red]{errors} error{'s' * (errors != 1)}[/red]")
        raise typer.Exit(EXIT_INVALID)


@app.command()
def deploy(paths: list[Path] = Files, database: str | None = Database) -> None:
    """Validate and deploy workflows; a changed file becomes a new version."""
    ctx = open_context(load_settings(database_url=database))
    # An `enroll` step may name a workflow deployed before, not only one in these files.
    with ctx.engine.connect() as conn:
        deployed = frozenset(row.key for row in list_workflows(conn, ctx.workspace_id))
    loaded = _checked(paths, deployed)
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            for item in loaded:
                assert item.workflow is not None
                _, version, new = deploy_workflow(
                    conn, ctx.workspace_id, item.workflow, item.source, SystemClock().now()
                )
                state = "deployed" if new else "unchanged"
                console.print(f"{item.workflow.id}: {state}, version {version}, active")


@app.command("list")
def list_(database: str | None = Database) -> None:
    """List the workspace's workflows."""
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        rows = list_workflows(conn, ctx.workspace_id)
    if not rows:
        console.print("no workflows yet; deploy one with: tidings workflows deploy FILE")
    for row in rows:
        console.print(f"{row.key:<24} v{row.current_version:<4} {row.status.value:<9} {row.name}")


def _set(key: str, status: WorkflowStatus, database: str | None) -> None:
    ctx = open_context(load_settings(database_url=database))
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            set_status(conn, ctx.workspace_id, key, status, SystemClock().now())
    console.print(f"{key}: {status.value}")


@app.command()
def pause(key: str, database: str | None = Database) -> None:
    """Stop a workflow taking new contacts; journeys already running go on."""
    _set(key, WorkflowStatus.PAUSED, database)


@app.command()
def resume(key: str, database: str | None = Database) -> None:
    """Let a paused workflow take new contacts again."""
    _set(key, WorkflowStatus.ACTIVE, database)


@app.command()
def simulate(  # noqa: PLR0913 (the command's options)
    targets: list[str] = typer.Argument(
        ..., help="workflow files or folders, or keys of deployed workflows"
    ),
    events: Path | None = typer.Option(
        None,
        "--events",
        exists=True,
        dir_okay=False,
        help="replay this file of Segment calls (NDJSON, one call a line)",
    ),
    sample: int | None = typer.Option(
        None, "--sample", min=1, help="copy this many of the workspace's contacts, at random"
    ),
    contacts: str | None = typer.Option(
        None,
        "--contacts",
        help="'all' to copy every contact of the workspace; a number sizes the simulated store",
    ),
    since: str = typer.Option("30d", "--since", help="replay the sample's events from this ago"),
    days: float | None = typer.Option(
        None, "--days", min=0, help="virtual days (after the last replayed event, in a dry run)"
    ),
    seed: int = typer.Option(7, "--seed", help="seed of the sample or the simulated store"),
    save: str | None = typer.Option(
        None, "--save", help="keep the result under this name, for `tidings report --dry-run`"
    ),
    database: str | None = Database,
) -> None:
    """Dry-run workflows before launch: on the workspace's own contacts and settings
    (--sample, --contacts all, --events), or on a simulated store. Nothing is sent, and
    nothing in the database changes (but the result kept with --save)."""
    real = events is not None or sample is not None or contacts == "all"
    if sample is not None and contacts is not None:
        raise ConfigError("--sample N or --contacts all: choose one")
    if real and contacts not in (None, "all"):
        raise ConfigError(
            f"--contacts {contacts}: a number sizes a simulated store; for a dry run on the"
            " workspace's contacts use --sample N or --contacts all"
        )
    if real:
        _dry_run(targets, events, sample, contacts == "all", since, days, seed, save, database)
        return
    if save is not None:
        raise ConfigError(
            "--save keeps a dry run on real data: add --sample N, --contacts all or --events FILE"
        )
    population = _population(contacts)
    missing = [t for t in targets if not Path(t).exists()]
    if missing:
        raise ConfigError(
            f"{missing[0]}: no such file; to dry-run a deployed workflow on the workspace's"
            " contacts, add --sample N or --contacts all"
        )
    loaded = _checked([Path(t) for t in targets])
    with tempfile.TemporaryDirectory(prefix="tidings-sim-") as folder:
        engine = create_engine(f"sqlite:///{folder}/simulation.db")
        result = run_with_progress(
            engine, loaded, contacts=population, days=14 if days is None else days, seed=seed
        )
        with engine.connect() as conn:
            show_figures(workflow_figures(conn, result.workspace_id, result.catalog))
        engine.dispose()
    console.print(
        f"simulated {result.totals.events:,} events and {result.totals.delivered:,} messages"
    )


def _population(contacts: str | None) -> int:
    """The simulated store's size from --contacts."""
    if contacts is None:
        return 1000
    try:
        count = int(contacts)
    except ValueError:
        raise ConfigError(
            f"--contacts {contacts!r}: write 'all' (the workspace's contacts) or a number"
            " (the size of a simulated store)"
        ) from None
    if not 1 <= count <= 1_000_000:
        raise ConfigError(f"--contacts {count}: a simulated store has 1 to 1,000,000 contacts")
    return count


def _dry_run(  # noqa: PLR0913 (the command's options, passed on)
    targets: list[str],
    events: Path | None,
    sample: int | None,
    everyone: bool,
    since: str,
    days: float | None,
    seed: int,
    save: str | None,
    database: str | None,
) -> None:
    if save is not None and not SAVED_NAME.fullmatch(save):
        raise ConfigError(
            f"--save {save!r}: a name is 1 to 64 letters, digits, '-' or '_', like launch-check"
        )
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from exc
    paths = [Path(t) for t in targets if Path(t).exists()]
    keys = [t for t in targets if not Path(t).exists()]
    loaded = _checked(paths) if paths else []
    ctx = open_context(load_settings(database_url=database))
    with ctx.engine.connect() as conn:
        now = report_time(conn, ctx.workspace_id, SystemClock().now())
        tested = [(i.workflow, i.source) for i in loaded if i.workflow is not None]
        tested += deployed_workflows(keys, conn, ctx.workspace_id, ctx.catalog)
    calls = CallsFile()
    if events is not None:
        try:
            text = events.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{events}: not UTF-8 text (byte {exc.start})") from exc
        calls = read_calls(text, now)
        show_problems(str(events), calls.problems)
    chosen = (
        ContactSample(None if everyone else sample, window, seed) if everyone or sample else None
    )
    parts = [f"{events.name}" if events is not None else ""]
    if chosen is not None:
        who = "all contacts" if everyone else f"a sample of {sample:,} contacts"
        parts.append(f"{who} with their events of the last {since}")
    summary = dry_run(
        ctx.engine,
        ctx.workspace_id,
        tested,
        now,
        calls=calls.calls,
        where=calls.where,
        sample=chosen,
        days=7 if days is None else days,
        rejected=calls.rejected,
        label=" and ".join(p for p in parts if p),
    )
    show_dry_run(summary)
    if save is not None:
        for attempt in attempts(ctx.engine):
            with attempt as conn:
                save_dry_run(conn, ctx.workspace_id, save, summary.model_dump(mode="json"), now)
        console.print(f"kept as {save}; read it again with: tidings report --dry-run {save}")


def _event_properties(event: str) -> dict[str, object]:
    try:
        properties = json.loads(event)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--event: not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(properties, dict):
        raise ConfigError('--event: expected a JSON object, like {"cart_id": "c1"}')
    return properties


@app.command()
def preview(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a workflow file"),
    template: str = typer.Argument(..., help="the name of one of its templates"),
    contact: str | None = typer.Option(
        None, "--contact", help="render for this contact (id, user id or email) in the database"
    ),
    event: str = typer.Option(
        "{}", "--event", help="the sample trigger event's properties, as a JSON object"
    ),
    database: str | None = Database,
) -> None:
    """Render a template as its send step would, for a contact and a sample event;
    nothing is sent or stored."""
    [item] = _checked([path])
    assert item.workflow is not None  # _checked stops on errors
    properties = _event_properties(event)
    person = ContactView(id=0)
    if contact is not None:
        ctx = open_context(load_settings(database_url=database))
        with ctx.engine.connect() as conn:
            found = find_contact(conn, ctx.workspace_id, contact)
            if found is None:
                raise ContactNotFound(f"no contact {contact!r} in this workspace")
            person = load_contacts(conn, [found])[found]
    result = preview_template(item.workflow, template, person, properties)
    if isinstance(result, Problem):
        show_problems(str(path), [result])
        raise typer.Exit(EXIT_INVALID)
    for label, part in (("subject", result.subject), ("html", result.html), ("text", result.text)):
        if part is not None:
            console.print(f"[bold]{label}[/bold]", highlight=False)
            console.print(escape(part), highlight=False, soft_wrap=True)


# Publishing with a move lives in its own module; registered here, in the group's order.
app.command()(publish)
app.command()(migrate)


@app.command("test-send")
def test_send(
    key: str = typer.Argument(..., help="the workflow's key"),
    step: str = typer.Argument(..., help="the id of one of its send steps"),
    to: str = typer.Option(..., "--to", help="the address (email) or number (SMS) to send to"),
    contact: str | None = typer.Option(
        None, "--contact", help="render for this contact (id, user id or email)"
    ),
    event: str = typer.Option(
        "{}", "--event", help="the sample trigger event's properties, as a JSON object"
    ),
    database: str | None = Database,
) -> None:
    """Send one step's message to an address, marked "[Test]", through the configured mail
    server or SMS provider; it is recorded as a test and counted in no figure."""
    properties = _event_properties(event)
    settings = load_settings(database_url=database)
    ctx = open_context(settings)
    transports = Transports.from_settings(settings)
    ask = TestSendRequest(
        workspace_id=ctx.workspace_id,
        key=key,
        step_id=step,
        to=to,
        sent_by="cli",
        contact=contact,
        event=properties,
    )
    try:
        sent = send_test(ctx.engine, transports, ctx.catalog, ask, SystemClock().now())
    except TestSendRefused as exc:
        raise ConfigError(f"{key} {step}: {exc}") from exc
    except TransportMissing as exc:
        raise ConfigError(str(exc)) from exc
    finally:
        transports.close()
    if not sent.sent:
        raise ConfigError(f"the transport refused the test to {sent.recipient}: {sent.detail}")
    what = f"{sent.subject!r}" if sent.subject else "the text"
    console.print(f"sent {escape(what)} to {escape(sent.recipient)} (test {sent.id})")
