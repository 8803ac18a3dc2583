"""`tidings contact why`: the story of every decision about one contact."""

from __future__ import annotations

import typer

from tidings.cli.context import open_store
from tidings.cli.output import show_story
from tidings.config import load_settings
from tidings.errors import ContactNotFound
from tidings.storage.contacts import find_contact
from tidings.storage.step_log import contact_story

app = typer.Typer(help="Look at contacts.", no_args_is_help=True)


@app.command()
def why(
    ref: str = typer.Argument(..., help="the contact's id, your user id for them, or their email"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Tell the story of each decision: which trigger, which branch and why, what was held."""
    store = open_store(load_settings(database_url=database))
    with store.engine.connect() as conn:
        contact_id = find_contact(conn, store.workspace_id, ref)
        if contact_id is None:
            raise ContactNotFound(f"no contact {ref!r} in workspace {store.workspace_id}")
        show_story(f"Contact {ref} (id {contact_id})", contact_story(conn, contact_id))
