"""Alembic's entry point; Tidings runs it through `tidings.storage.migrate`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from tidings.storage.tables import metadata
from tidings.storage.types import UTCDateTime


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application types, which change over time.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through tidings.storage.migrate.upgrade(engine)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_item=_render_item,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
