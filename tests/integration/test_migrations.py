"""The migrations build exactly the schema the code describes, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF, deploy, subscriber, track
from tidings.storage.migrate import upgrade
from tidings.storage.tables import metadata


def test_upgrade_head_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table as the database itself reports it: columns, keys, indexes, constraints."""
    found = inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in found.get_columns(table)
            ],
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(k["constrained_columns"]), k["referred_table"], tuple(k["referred_columns"]))
                for k in found.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (str(i["name"]), tuple(map(str, i["column_names"])), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
            "unique": sorted(
                (str(u["name"]), tuple(u["column_names"]))
                for u in found.get_unique_constraints(table)
            ),
        }
        for table in sorted(found.get_table_names())
    }


def _contents(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, the Alembic version included, in a stable order."""
    with engine.connect() as conn:
        return {
            table: sorted(repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table}")))
            for table in sorted(inspect(conn).get_table_names())
        }


def test_upgrade_is_idempotent(store: Store) -> None:
    # Given a database in use: a workflow, contacts, events, a journey waiting for approval
    deploy(store, HANDOFF)
    for user in ("ann", "bob"):
        subscriber(store, user)
        track(store, user, "demo_requested")
    schema, contents = _schema(store.engine), _contents(store.engine)
    assert all(contents[t] for t in ("workflows", "contacts", "events", "enrollments"))
    assert contents["alembic_version"]
    # When it is upgraded again, twice, as every start of `tidings serve` may do
    upgrade(store.engine)
    upgrade(store.engine)
    # Then the schema is the same and every row is still there, unchanged
    assert _schema(store.engine) == schema
    assert _contents(store.engine) == contents
