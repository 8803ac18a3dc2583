"""What every command that touches the database needs: settings, engine, workspace."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from tidings.clock import SystemClock
from tidings.config import Settings
from tidings.storage.engine import check_connection, create_engine
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import ensure_workspace


@dataclass(frozen=True)
class Store:
    """An open, migrated database and the workspace commands act on."""

    engine: Engine
    workspace_id: int
    catalog: Catalog


def open_store(settings: Settings) -> Store:
    """Connect, bring the schema up to date, and find (or create) the workspace."""
    engine = create_engine(settings.database_url)
    check_connection(engine)
    upgrade(engine)
    with engine.begin() as conn:
        workspace_id = ensure_workspace(
            conn, settings.workspace, settings.workspace, SystemClock().now()
        )
    return Store(engine, workspace_id, Catalog())
