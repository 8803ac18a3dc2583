"""Fresh databases and a workflow for the benchmarks to run against."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import yaml
from sqlalchemy import Engine, text

from tidings.clock import VirtualClock
from tidings.core import validate_workflow
from tidings.storage.engine import create_engine
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import Catalog, deploy_workflow
from tidings.storage.workspaces import ensure_workspace

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

#: Each event enrolls its contact, renders a message into the outbox, then sleeps a day
#: before a second message: the ingest path and the scheduler path both do real work.
WORKFLOW = """
id: bench
name: Benchmark series
trigger: {event: signed_up}
entry: {reentry: always}
templates:
  hi:
    subject: "Welcome {{ contact.first_name | default: 'friend' }}"
    html: "<p>Hello {{ contact.first_name }}</p>"
  later: {subject: "A day later", text: "still here"}
steps:
  - {id: hi, type: send, template: hi}
  - {id: nap, type: wait, for: 1d}
  - {id: later, type: send, template: later}
"""


@contextmanager
def database(kind: str) -> Iterator[Engine]:
    """A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        with TemporaryDirectory() as folder:
            engine = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            upgrade(engine)
            yield engine
            engine.dispose()
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS tidings_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE tidings_bench"))
    engine = create_engine(PG_ADMIN.rsplit("/", 1)[0] + "/tidings_bench")
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS tidings_bench WITH (FORCE)"))
        admin.dispose()


def deployed(engine: Engine) -> tuple[int, Catalog, VirtualClock]:
    """Deploy the benchmark workflow; return the workspace, a catalog and a clock."""
    clock = VirtualClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    spec, problems = validate_workflow(yaml.safe_load(textwrap.dedent(WORKFLOW)))
    assert spec is not None, problems
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, "bench", "Bench", clock.now())
        deploy_workflow(conn, workspace_id, spec, WORKFLOW, clock.now())
    return workspace_id, Catalog(), clock
