"""What every command that touches the database needs: settings, engine, workspace."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from tidings.clock import SystemClock
from tidings.config import Settings
from tidings.errors import NotFound
from tidings.runtime.transactions import attempts
from tidings.storage.engine import check_connection, create_engine, mask_url
from tidings.storage.migrate import require_current, upgrade
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import ensure_workspace, find_workspace, list_workspace_keys

#: Up to this many existing workspaces are listed when the one asked for does not exist.
_LISTED = 10


@dataclass(frozen=True)
class Context:
    """An open, migrated database and the workspace commands act on."""

    engine: Engine
    workspace_id: int
    catalog: Catalog


@dataclass(frozen=True)
class Runtime:
    """An open, migrated database for `serve` and `worker`, which serve every workspace."""

    engine: Engine
    catalog: Catalog


def open_runtime(settings: Settings) -> Runtime:
    """The database for the long-running commands; no workspace needed."""
    return Runtime(open_database(settings), Catalog())


def open_database(settings: Settings) -> Engine:
    """Connect, then migrate (TIDINGS_MIGRATE=auto) or check the schema is current (check)."""
    engine = create_engine(
        settings.database_url.get_secret_value(), secret_key=settings.secret_key_value()
    )
    check_connection(engine)
    if settings.migrate == "auto":
        upgrade(engine)
    else:
        require_current(engine)
    return engine


def open_context(settings: Settings) -> Context:
    """The database and the workspace the settings name, which must exist already."""
    engine = open_database(settings)
    with engine.connect() as conn:
        workspace_id = find_workspace(conn, settings.workspace)
        if workspace_id is None:
            known = list_workspace_keys(conn)
            raise NotFound(_unknown_workspace(settings.workspace, known))
    return Context(engine, workspace_id, Catalog())


def create_context(settings: Settings) -> Context:
    """The database and the workspace the settings name, creating the workspace if new."""
    engine = open_database(settings)
    for attempt in attempts(engine):
        with attempt as conn:
            workspace_id = ensure_workspace(
                conn, settings.workspace, settings.workspace, SystemClock().now()
            )
    return Context(engine, workspace_id, Catalog())


def _unknown_workspace(key: str, known: list[str]) -> str:
    message = f"workspace {key!r} does not exist; create it with `tidings init --workspace {key}`"
    if not known:
        return message + " (this database has no workspace yet)"
    if len(known) <= _LISTED:
        return message + f", or pick one of: {', '.join(known)} (TIDINGS_WORKSPACE)"
    return message


def describe_database(settings: Settings) -> str:
    """The database URL as messages show it: never with its password."""
    return mask_url(settings.database_url.get_secret_value())
