"""`tidings demo`: the whole product on a simulated store, in about a minute."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from sqlalchemy import Engine, inspect

from tidings.cli.output import console, run_with_progress, show_figures, show_story
from tidings.cli.report import show_experiments
from tidings.clock import SystemClock
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.delivery.transports import Recorder, Transports
from tidings.errors import TidingsError
from tidings.files import load_workflows
from tidings.passwords import hash_password
from tidings.reporting.build import build_report
from tidings.reporting.html import write_html
from tidings.runtime.transactions import attempts
from tidings.simulation.scenario import DEMO_APPEAL, DEMO_SETTINGS, demo_story
from tidings.storage.contacts import count_contacts
from tidings.storage.engine import create_engine
from tidings.storage.people import Role, add_person, set_role
from tidings.storage.step_log import contact_story

#: The example workflows the demo runs; users copy them as a starting point.
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "workflows"
DEFAULT_DATABASE = "sqlite:///tidings-demo.db"
#: The demo's login. Public on purpose: it opens only the demo's own, simulated database.
DEMO_EMAIL = "demo@tidings.local"
DEMO_PASSWORD = "tidings-demo"


def demo(
    contacts_count: int = typer.Option(
        5000, "--contacts", min=10, max=200_000, help="simulated contacts"
    ),
    days: float = typer.Option(30, "--days", min=1, max=366, help="virtual days"),
    seed: int = typer.Option(7, "--seed", help="seed of the simulated population"),
    database: str = typer.Option(DEFAULT_DATABASE, "--database", help="an empty database to fill"),
    smtp: str | None = typer.Option(
        None,
        "--smtp",
        help="deliver the demo's email through this SMTP server, like smtp://127.0.0.1:1025",
    ),
    report: Path = typer.Option(
        Path("tidings-demo-report.html"), "--report", help="where to write the HTML report"
    ),
) -> None:
    """Run the example workflows on a simulated store for 30 virtual days and report."""
    started = time.perf_counter()
    loaded = load_workflows([EXAMPLES])
    broken = [item for item in loaded if item.errors]
    if broken:
        raise TidingsError(f"example workflow {broken[0].path} is invalid: {broken[0].errors[0]}")
    if database == DEFAULT_DATABASE:
        for suffix in ("", "-wal", "-shm", "-migrate.lock"):
            Path(f"tidings-demo.db{suffix}").unlink(missing_ok=True)
    engine = create_engine(database)
    _require_empty(engine)
    console.print(
        f"[bold]Tidings demo[/bold]: {contacts_count:,} customers of a small online store, "
        f"{days:g} virtual days, workflows from {EXAMPLES}"
    )
    channels = None
    if smtp is not None:
        channels = Transports(
            "http://localhost:8000",
            http=Recorder(),
            smtp=SmtpChannel(SmtpConfig.from_url(smtp, timeout=10)),
            sms=Recorder(),
        )
    try:
        result = run_with_progress(
            engine,
            loaded,
            contacts=contacts_count,
            days=days,
            seed=seed,
            channels=channels,
            settings=DEMO_SETTINGS,
            appeal=DEMO_APPEAL,
        )
    finally:
        if channels is not None:
            channels.close()
    with engine.connect() as conn:
        found = build_report(conn, result.workspace_id, result.catalog, result.ended_at)
        show_figures(found.workflows)
        show_experiments(found)
        example = demo_story(conn, result.workspace_id)
        if example is not None:
            external_id, contact_id = example
            lines = [
                line for line in contact_story(conn, contact_id) if line.action != "not_enrolled"
            ]
            show_story(f"The story of one recovered cart: contact {external_id}", lines[:14])
            command = f"tidings contacts why {external_id} --database {database}"
            console.print(f"\nAsk about any contact: [bold]{command}[/bold]")
    written = write_html(found, Path(report), title="Fernhill (simulated store): Tidings report")
    console.print(
        f"Planted in the simulation: customers click the free-shipping offer "
        f"{DEMO_APPEAL['first_order_shipping']:g}x as often; the experiment above should find it."
    )
    console.print(f"The full report, with charts: [bold]{escape(str(written))}[/bold]")
    elapsed = time.perf_counter() - started
    held = result.deliveries
    console.print(
        f"Send-time policies: {held.deferred:,} messages deferred by the cap of 3 emails a "
        f"week, {held.dropped:,} dropped as duplicates; each decision is on the contact's timeline"
    )
    where = f" to {smtp}" if smtp else " (simulated; --smtp URL sends them to a real server)"
    console.print(
        f"{result.totals.events:,} events, {result.totals.delivered:,} messages{where}, "
        f"{result.totals.steps:,} scheduled steps in {elapsed:.1f}s"
    )
    add_demo_login(engine, result.workspace_id)
    console.print(
        f"\nThe console: [bold]tidings serve --database {escape(database)}[/bold], then open "
        f"http://127.0.0.1:8000/ and log in as [bold]{DEMO_EMAIL}[/bold] with password "
        f"[bold]{DEMO_PASSWORD}[/bold] (an owner; for this demo database only)"
    )


def add_demo_login(engine: Engine, workspace_id: int) -> None:
    """The demo's owner login, so the console can be tried on the demo's data at once."""
    now = SystemClock().now()
    for attempt in attempts(engine):
        with attempt as conn:
            person_id = add_person(
                conn, DEMO_EMAIL, "Demo owner", now, password_hash=hash_password(DEMO_PASSWORD)
            )
            set_role(conn, person_id, workspace_id, Role.OWNER, now)


def _require_empty(engine: Engine) -> None:
    if "contacts" not in inspect(engine).get_table_names():
        return
    with engine.connect() as conn:
        if count_contacts(conn):
            raise TidingsError(
                "the demo fills a database of its own; give it an empty one with --database"
            )
