"""`tidings migrate`: bring the database's schema up to date, as a step of its own."""

from __future__ import annotations

import typer
from rich.markup import escape

from tidings.cli.context import describe_database
from tidings.cli.output import console
from tidings.config import load_settings
from tidings.storage.engine import check_connection, create_engine
from tidings.storage.migrate import upgrade

Database = typer.Option(None, "--database", help="database URL (default: TIDINGS_DATABASE_URL)")


def migrate(database: str | None = Database) -> None:
    """Bring the database's schema up to date and say what was applied.

    Safe to run from several processes at once: they take turns on a lock. Run it before
    starting a new version when TIDINGS_MIGRATE=check.
    """
    settings = load_settings(database_url=database)
    engine = create_engine(
        settings.database_url.get_secret_value(), secret_key=settings.secret_key_value()
    )
    check_connection(engine)
    done = upgrade(engine)
    engine.dispose()
    where = escape(describe_database(settings))  # an IPv6 host's [::1] is no markup
    if not done.applied:
        console.print(f"{where} is up to date (revision {done.after})", soft_wrap=True)
        return
    console.print(
        f"{where}: applied {len(done.applied)} migration(s), "
        f"{done.before or 'empty'} -> {done.after}: {', '.join(done.applied)}",
        soft_wrap=True,
    )
