"""The `tidings` command line: Typer commands, one place that turns errors into exit codes."""

from __future__ import annotations

import os
import re
import sys

import typer
from rich.markup import escape

from tidings import __version__
from tidings.cli import (
    blueprint,
    bounces,
    contacts,
    forms,
    scoring,
    segments,
    settings,
    users,
    workflows,
)
from tidings.cli.demo import demo
from tidings.cli.migrate import migrate
from tidings.cli.output import err_console
from tidings.cli.report import report
from tidings.cli.server import init, serve, worker
from tidings.errors import ConfigError, SpecInvalid, StorageUnavailable, TidingsError
from tidings.logs import redact

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
# Command groups are plural nouns. The earlier singular spellings stay, hidden, so that
# scripts written against them keep working.
app.add_typer(workflows.app, name="workflows")
app.add_typer(workflows.app, name="workflow", hidden=True)
app.add_typer(contacts.app, name="contacts")
app.add_typer(contacts.app, name="contact", hidden=True)
app.add_typer(segments.app, name="segments")
app.add_typer(segments.app, name="segment", hidden=True)
app.add_typer(forms.app, name="forms")
app.add_typer(forms.app, name="form", hidden=True)
app.add_typer(scoring.app, name="scoring")
app.add_typer(settings.app, name="settings")
app.add_typer(blueprint.app, name="blueprints")
app.add_typer(blueprint.app, name="blueprint", hidden=True)
app.add_typer(bounces.app, name="bounces")
app.add_typer(users.app, name="users")
app.command()(demo)
app.command()(report)
app.command()(init)
app.command()(migrate)
app.command()(serve)
app.command()(worker)

_verbose = False


def _print_version(value: bool) -> None:
    # Eager, so it answers before Click asks for a command ("Missing command.").
    if value:
        typer.echo(f"tidings {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show tracebacks on errors"),
    workspace: str | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="the workspace commands act on (default: TIDINGS_WORKSPACE or 'default'); "
        "it must exist: `tidings init --workspace NAME` creates one",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        help="print the version and exit",
        is_eager=True,
        expose_value=False,
        callback=_print_version,
    ),
) -> None:
    global _verbose
    _verbose = verbose
    if workspace is not None:
        # The same as setting TIDINGS_WORKSPACE for this process: every command's settings
        # see it, and a bad value is reported like any setting's.
        os.environ["TIDINGS_WORKSPACE"] = workspace


def _exit_code(exc: TidingsError) -> int:
    if isinstance(exc, SpecInvalid | ConfigError):
        return EXIT_INVALID
    if isinstance(exc, StorageUnavailable):
        return EXIT_UNAVAILABLE
    return 1


#: How SQLAlchemy wraps a driver's error: its class before, a link to its docs after.
_DRIVER_CLASS = re.compile(r"^\([\w.]+\) ")
_BACKGROUND = re.compile(r"\n\(Background on this error at: [^)]*\)$")


def _told(exc: BaseException) -> list[str]:
    """What to print for `exc` and its causes: each cause once, without what an earlier
    message already said (a driver's error is quoted by the one that explains it, and
    SQLAlchemy wraps it again with its class and a link)."""
    told: list[str] = []
    cause: BaseException | None = exc
    while cause is not None:
        text = _BACKGROUND.sub("", _DRIVER_CLASS.sub("", str(cause).strip()))
        if text and not any(text in earlier for earlier in told):
            told.append(text)
        cause = cause.__cause__
    return told


def main() -> None:
    """Run the CLI; usage errors exit 2 (Typer's own handling), our errors as documented,
    anything unexpected as one line on stderr and exit 1 (the traceback with -v)."""
    try:
        app()
    except TidingsError as exc:
        if _verbose:
            raise
        for line in _told(exc):
            err_console.print(f"[red]{escape(redact(line))}[/red]", soft_wrap=True)
        sys.exit(_exit_code(exc))
    except Exception as exc:
        if _verbose:
            raise
        # The first line only: driver errors go on with the SQL and a link, which -v shows.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        err_console.print(
            f"error: {escape(redact(what))} (`tidings -v ...` shows the traceback)", soft_wrap=True
        )
        sys.exit(1)
