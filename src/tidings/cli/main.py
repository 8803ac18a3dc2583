"""The `tidings` command line: Typer commands, one place that turns errors into exit codes."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from tidings import __version__
from tidings.cli import bounces, contact, scoring, segment, users, workflow
from tidings.cli.demo import demo
from tidings.cli.output import errors
from tidings.cli.report import report
from tidings.cli.server import init, serve, worker
from tidings.errors import ConfigError, SpecInvalid, StorageUnavailable, TidingsError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_UNAVAILABLE = 4

app = typer.Typer(
    help="Tidings: self-hosted marketing automation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(workflow.app, name="workflow")
app.add_typer(contact.app, name="contacts")
app.add_typer(contact.app, name="contact", hidden=True)  # the earlier, singular name
app.add_typer(segment.app, name="segment")
app.add_typer(scoring.app, name="scoring")
app.add_typer(bounces.app, name="bounces")
app.add_typer(users.app, name="users")
app.command()(demo)
app.command()(report)
app.command()(init)
app.command()(serve)
app.command()(worker)

_verbose = False


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show tracebacks"),
    version: bool = typer.Option(False, "--version", help="print the version and exit"),
) -> None:
    global _verbose
    _verbose = verbose
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _exit_code(exc: TidingsError) -> int:
    if isinstance(exc, SpecInvalid | ConfigError):
        return EXIT_INVALID
    if isinstance(exc, StorageUnavailable):
        return EXIT_UNAVAILABLE
    return 1


def main() -> None:
    """Run the CLI; usage errors exit 2 (Typer's own handling), our errors as documented."""
    try:
        app()
    except TidingsError as exc:
        if _verbose:
            raise
        cause: BaseException | None = exc
        while cause is not None:
            errors.print(f"[red]{escape(str(cause))}[/red]", soft_wrap=True)
            cause = cause.__cause__
        sys.exit(_exit_code(exc))
