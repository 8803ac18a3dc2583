"""`tidings init` (a workspace and its keys), `tidings serve` (API, scheduler, dispatcher) and
`tidings worker` (scheduler and dispatcher)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import replace
from datetime import timedelta

import typer
import uvicorn
from rich.markup import escape
from sqlalchemy import Engine

from tidings.api.access_log import scrub_access_log
from tidings.api.app import create_app
from tidings.cli.context import create_context, describe_database, open_runtime
from tidings.cli.output import console
from tidings.clock import Clock, SystemClock
from tidings.config import Settings, load_settings
from tidings.delivery.transports import Transports
from tidings.logs import configure_logging
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.journeys import JourneyLimits
from tidings.runtime.loop import SchedulerLoop
from tidings.runtime.transactions import attempts
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.workflows import Catalog

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
    ctx = create_context(settings)
    now = SystemClock().now()
    for attempt in attempts(ctx.engine):
        with attempt as conn:
            write = create_key(conn, ctx.workspace_id, KeyKind.WRITE, now)
            secret = create_key(conn, ctx.workspace_id, KeyKind.SECRET, now)
            public = create_key(conn, ctx.workspace_id, KeyKind.PUBLIC, now)
    where = escape(describe_database(settings))  # an IPv6 host's [::1] is no markup
    console.print(f"workspace [bold]{settings.workspace}[/bold] in {where}", soft_wrap=True)
    console.print(f"write key  (send events; safe in apps):  [bold]{write}[/bold]")
    console.print(f"secret key (admin API; keep it secret):   [bold]{secret}[/bold]")
    console.print(f"public key (web pages; events only):     [bold]{public}[/bold]")
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
    configure_logging(settings)
    ctx = open_runtime(settings)
    clock = SystemClock()
    limits = JourneyLimits(render_seconds=settings.render_seconds)
    scheduler = SchedulerLoop(
        ctx.engine, clock, ctx.catalog, batch=settings.scheduler_batch, limits=limits
    )
    dispatcher = make_dispatcher(settings, ctx.engine, clock, ctx.catalog)
    app = create_app(
        ctx.engine,
        clock=clock,
        catalog=ctx.catalog,
        scheduler=scheduler,
        dispatcher=dispatcher,
        public_url=settings.public_url,
        sms_token=settings.sms_token.get_secret_value(),
        sms_region=settings.sms_region,
        link_rate=settings.link_rate_limit,
        sms_rate=settings.sms_rate_limit,
        trust_proxy=settings.trust_proxy,
        journey_limits=replace(limits, batch_seconds=settings.ingest_journey_seconds),
        browser_key_rate=settings.browser_key_rate_limit,
        browser_address_rate=settings.browser_address_rate_limit,
        form_rate=settings.form_rate_limit,
    )
    _say_channels(dispatcher)
    scrub_access_log()  # no query strings or link tokens in the access log
    # uvicorn stops accepting on SIGTERM or Ctrl-C, lets requests in flight finish, then runs
    # the app's shutdown, where the scheduler commits its batch in hand. log_config=None: its
    # loggers go through configure_logging's handler, format and secret filter.
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For and -Proto from
    # any local peer, setting or not, and take the first entry when told to trust all;
    # TIDINGS_TRUST_PROXY alone decides (api/client_address.py).
    uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level=settings.log_level.lower(),
            proxy_headers=False,
        )
    ).run()


def worker(
    database: str | None = Database,
    batch: int | None = typer.Option(
        None, "--batch", min=1, max=10_000, help="enrollments per transaction"
    ),
    send: bool = typer.Option(
        True, "--send/--no-send", help="also send queued messages (the dispatcher)"
    ),
) -> None:
    """Advance due journeys until SIGTERM; run several, on PostgreSQL, to scale out.

    Workers claim disjoint batches (FOR UPDATE SKIP LOCKED). A claim is a row lock held by
    the claiming transaction, so a worker killed at any moment loses its locks with its
    connection, its uncommitted work rolls back, and the others pick the rows up: nothing is
    lost and, since state and outbox commit together, nothing is done twice.
    """
    settings = load_settings(database_url=database)
    configure_logging(settings)
    ctx = open_runtime(settings)
    if ctx.engine.dialect.name == "sqlite":
        logger.warning(
            "SQLite has one writer: extra workers wait on each other; use PostgreSQL to scale out"
        )
    clock = SystemClock()
    loop = SchedulerLoop(
        ctx.engine,
        clock,
        ctx.catalog,
        batch=batch or settings.scheduler_batch,
        limits=JourneyLimits(render_seconds=settings.render_seconds),
    )
    dispatcher = make_dispatcher(settings, ctx.engine, clock, ctx.catalog) if send else None

    def finish(signum: int, _frame: object) -> None:
        # Stop between batches: the batch in hand is finished and committed first.
        loop.stop.set()
        if dispatcher is not None:
            dispatcher.stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    logger.info(
        "worker %d advancing due journeys in %s",
        os.getpid(),
        describe_database(settings),
        extra={"action": "worker_started", "pid": os.getpid()},
    )
    sending = None
    if dispatcher is not None:
        _say_channels(dispatcher)
        sending = threading.Thread(target=dispatcher.run, name="dispatcher", daemon=True)
        sending.start()
    steps = loop.run()
    if dispatcher is not None and sending is not None:
        dispatcher.stop.set()
        sending.join(60)
        dispatcher.close()
    ctx.engine.dispose()
    logger.info(
        "worker %d stopped after %d steps",
        os.getpid(),
        steps,
        extra={"action": "worker_stopped", "pid": os.getpid(), "steps": steps},
    )


def make_dispatcher(
    settings: Settings, engine: Engine, clock: Clock, catalog: Catalog
) -> Dispatcher:
    """The dispatcher over the channels the settings configure."""
    return Dispatcher(
        engine,
        clock,
        Transports.from_settings(settings),
        catalog,
        batch=settings.dispatch_batch,
        lease=timedelta(seconds=settings.send_lease),
        concurrency=settings.dispatch_concurrency,
    )


def _say_channels(dispatcher: Dispatcher) -> None:
    channels = dispatcher.transports
    missing = []
    if channels.smtp is None:
        missing.append("email (set TIDINGS_SMTP_URL)")
    if channels.sms is None:
        missing.append("SMS (set TIDINGS_SMS_URL)")
    logger.info("sending through %s", ", ".join(channels.names()))
    host = channels.public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if channels.public_url.startswith("http:") and host not in ("localhost", "127.0.0.1"):
        logger.warning(
            "TIDINGS_PUBLIC_URL is %s: mailbox providers only honour one-click unsubscribe "
            "(RFC 8058) at an https:// address",
            channels.public_url,
        )
    if missing:
        logger.warning("not configured, their messages wait in the outbox: %s", "; ".join(missing))
