"""`tidings bounces read`: bounce and complaint messages from files or standard input.

Point the mail server's bounce address at it (Postfix: a pipe transport running
`tidings bounces read`), or feed it saved .eml files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from sqlalchemy import Connection

from tidings.cli.context import open_context
from tidings.cli.output import console, err_console
from tidings.clock import SystemClock
from tidings.config import load_settings
from tidings.core.channels import Channel
from tidings.delivery.dsn import BounceNotice, NotAReport, parse_report
from tidings.errors import TidingsError
from tidings.runtime import engagement
from tidings.runtime.transactions import transact

app = typer.Typer(help="Bounces and complaints.", no_args_is_help=True)


@app.command()
def read(
    files: list[Path] = typer.Argument(None, help="raw messages (.eml); none: standard input"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Apply delivery status (RFC 3464) and abuse (ARF) reports: hard bounces and
    complaints suppress the address; every report becomes an event on the contact."""
    ctx = open_context(load_settings(database_url=database))
    if files:
        sources = [(str(f), f.read_bytes()) for f in files]
    else:
        sources = [("stdin", sys.stdin.buffer.read())]
    now = SystemClock().now()
    refused = 0
    for name, raw in sources:
        try:
            reports = parse_report(raw)
        except NotAReport as exc:
            err_console.print(f"{name}: not a bounce or complaint report: {exc}", markup=False)
            refused += 1
            continue
        for report in reports:

            def apply(conn: Connection, r: BounceNotice = report) -> list[int]:
                return engagement.report_failure(
                    conn,
                    ctx.workspace_id,
                    channel=Channel.EMAIL,
                    address=r.recipient,
                    kind=r.kind,
                    reason=r.reason,
                    provider_id=r.message_id,
                    now=now,
                    catalog=ctx.catalog,
                )

            owners = transact(ctx.engine, apply)
            console.print(
                f"{name}: {report.kind.value} for {report.recipient} "
                f"({len(owners)} contact{'s' if len(owners) != 1 else ''}): {report.reason}",
                markup=False,
            )
    if refused:
        raise TidingsError(f"{refused} of {len(sources)} messages were not reports")
