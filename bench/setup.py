"""Fresh databases and a workflow for the benchmarks to run against."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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


def seed_sleeping(engine: Engine, workspace_id: int, total: int, due: int, now: datetime) -> None:
    """`total` subscribed contacts, each asleep in the benchmark workflow's `nap` step.

    The first `due` wake a minute ago; the rest wake over the next 30 days. Written with
    set-based SQL: ingesting a million events would measure ingest, not the scheduler.
    """
    fmt = "%Y-%m-%d %H:%M:%S"
    with engine.begin() as conn:
        workflow_id = conn.execute(
            text("SELECT id FROM workflows WHERE key = 'bench'")
        ).scalar_one()
        params = {"ws": workspace_id, "wf": workflow_id, "n": total, "due": due}
        if engine.dialect.name == "postgresql":
            series = "generate_series(1, :n) AS s(g)"
            wake = (
                "CASE WHEN g <= :due THEN :now - interval '1 minute'"
                " ELSE :now + (g % 30 + 1) * interval '1 day' END"
            )
            params["now"] = now
        else:
            series = (
                "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n)"
                " SELECT g FROM s)"
            )
            # SQLite keeps UTC text in the format the column type writes and reads back.
            wake = (
                "CASE WHEN g <= :due THEN :due_at ELSE"
                " strftime('%Y-%m-%d %H:%M:%S', :plain, '+' || (g % 30 + 1) || ' days')"
                " || '.000000' END"
            )
            params.update(
                now=now.strftime(fmt) + ".000000",
                plain=now.strftime(fmt),
                due_at=(now - timedelta(minutes=1)).strftime(fmt) + ".000000",
            )
        conn.execute(
            text(
                "INSERT INTO contacts (id, workspace_id, external_id, email, timezone, attributes,"
                " tags, consent, score, created_at, updated_at)"
                f" SELECT g, :ws, 'user-' || g, 'user' || g || '@example.com', 'UTC', '{{}}', '[]',"
                f' \'{{"email": "subscribed"}}\', 0, :now, :now FROM {series}'
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO enrollments (id, workspace_id, workflow_id, version, contact_id,"
                " status, step_id, wake_at, wait_kind, entry_key, visits, entered_at)"
                f" SELECT g, :ws, :wf, 1, g, 'waiting', 'nap', {wake}, 'timer', '',"
                f' \'{{"hi": 1, "nap": 1}}\', :now FROM {series}'
            ),
            params,
        )
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('contacts', 'id'), :n)"), params
            )
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('enrollments', 'id'), :n)"), params
            )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE contacts, enrollments"))
