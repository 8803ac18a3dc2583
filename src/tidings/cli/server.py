"""`tidings init` (a workspace and its keys) and `tidings serve` (API plus scheduler)."""

from __future__ import annotations

import logging
import os
import signal

import typer
import uvicorn

from tidings.api.app import create_app
from tidings.cli.context import open_store
from tidings.cli.output import console
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.runtime.loop import SchedulerLoop
from tidings.storage.api_keys import KeyKind, create_key

logger = logging.getLogger(__name__)

Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def init(
    database: str | None = Database,
    workspace: str | None = typer.Option(
        None,
        "--workspace",
        help="the workspace to create (default: TIDINGS_WORKSPACE or 'default')",
    ),
) -> None:
    """Create the database and a workspace, and print a new write key and secret key once.

    Run it again with another --workspace for each brand or client the install serves;
    every key sees only its own workspace.
    """
    settings = load_settings(database_url=database, workspace=workspace)
    store = open_store(settings)
    now = SystemClock().now()
    with store.engine.begin() as conn:
        write = create_key(conn, store.workspace_id, KeyKind.WRITE, now)
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, now)
    console.print(f"workspace [bold]{settings.workspace}[/bold] in {settings.database_url}")
    console.print(f"write key  (send events; safe in apps):  [bold]{write}[/bold]")
    console.print(f"secret key (admin API; keep it secret):   [bold]{secret}[/bold]")
    console.print(
        "[dim]Tidings keeps only their hashes: copy them now, they are not shown again.[/dim]"
    )


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="port to listen on"),
    database: str | None = Database,
) -> None:
    """Run the HTTP API and the scheduler in one process until SIGTERM or Ctrl-C."""
    settings = load_settings(database_url=database)
    store = open_store(settings)
    clock = SystemClock()
    scheduler = SchedulerLoop(store.engine, clock, store.catalog, batch=settings.scheduler_batch)
    app = create_app(store.engine, clock=clock, catalog=store.catalog, scheduler=scheduler)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    # uvicorn stops accepting on SIGTERM or Ctrl-C, lets requests in flight finish, then runs
    # the app's shutdown, where the scheduler commits its batch in hand.
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")).run()


def worker(
    database: str | None = Database,
    batch: int | None = typer.Option(
        None, "--batch", min=1, max=10_000, help="enrollments per transaction"
    ),
) -> None:
    """Advance due journeys until SIGTERM; run several, on PostgreSQL, to scale out.

    Workers claim disjoint batches (FOR UPDATE SKIP LOCKED). A claim is a row lock held by
    the claiming transaction, so a worker killed at any moment loses its locks with its
    connection, its uncommitted work rolls back, and the others pick the rows up: nothing is
    lost and, since state and outbox commit together, nothing is done twice.
    """
    settings = load_settings(database_url=database)
    store = open_store(settings)
    if store.engine.dialect.name == "sqlite":
        console.print(
            "[yellow]SQLite has one writer: extra workers wait on each other;"
            " use PostgreSQL to scale out[/yellow]"
        )
    loop = SchedulerLoop(
        store.engine, SystemClock(), store.catalog, batch=batch or settings.scheduler_batch
    )

    def finish(signum: int, _frame: object) -> None:
        # Stop between batches: the batch in hand is finished and committed first.
        loop.stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    console.print(f"worker {os.getpid()} advancing due journeys in {settings.database_url}")
    steps = loop.run()
    store.engine.dispose()
    console.print(f"worker {os.getpid()} stopped after {steps:,} steps")
