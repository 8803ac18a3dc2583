"""`tidings migrate`: processes that migrate at once take turns; `check` refuses an old schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from tests.integration.conftest import PG_ADMIN_URL, _pg_admin
from tidings.storage.engine import create_engine
from tidings.storage.migrate import current_revision, head_revision, upgrade
from tidings.storage.tables import metadata


def _tidings(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tidings", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )


@pytest.fixture
def empty_pg(pg_template: str) -> Iterator[str]:
    """The name of a new, empty PostgreSQL database (not cloned from the migrated template)."""
    name = pg_template.replace("template", "empty", 1)
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _waiting_backends(admin: Engine, database: str) -> int:
    with admin.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = :db AND wait_event_type = 'Lock'"
                ),
                {"db": database},
            ).scalar_one()
        )


@pytest.mark.postgres
def test_two_processes_migrating_a_fresh_postgres_database_both_succeed(empty_pg: str) -> None:
    server = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    with _engines(f"postgresql://{server}/{empty_pg}") as (engine, admin):
        _migrate_twice_at_once(engine, admin, server, empty_pg)


@contextmanager
def _engines(url: str) -> Iterator[tuple[Engine, Engine]]:
    engine, admin = create_engine(url), _pg_admin()
    try:
        yield engine, admin
    finally:
        engine.dispose()
        admin.dispose()


def _migrate_twice_at_once(engine: Engine, admin: Engine, server: str, empty_pg: str) -> None:
    # Given a transaction that holds the version table's name, so that both processes are
    # inside their migration, blocked, when it lets go: without a lock between them, both
    # would then create the same tables and one would fail on "already exists"
    holder = engine.connect()
    holder.execute(text("CREATE TABLE alembic_version (version_num varchar(32) NOT NULL)"))
    # (both spellings of a PostgreSQL URL are accepted)
    first = _tidings("migrate", "--database", f"postgres://{server}/{empty_pg}")
    second = _tidings("migrate", "--database", f"postgresql://{server}/{empty_pg}")
    try:
        deadline = time.monotonic() + 60
        while _waiting_backends(admin, empty_pg) < 2:
            assert time.monotonic() < deadline, "the two migrations never started"
            assert first.poll() is None and second.poll() is None, first.communicate()
            time.sleep(0.05)
    finally:
        holder.rollback()
        holder.close()
    # When both go on, then both succeed: one applies every migration, the other none
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    said = sorted(out for out, _ in outputs)
    head = head_revision()
    assert sum(f"migration(s), empty -> {head}" in out for out in said) == 1, said
    assert sum(f"is up to date (revision {head})" in out for out in said) == 1, said
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == {*metadata.tables, "alembic_version"}


def test_check_refuses_an_out_of_date_schema_until_migrated(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(database)
    upgrade(engine, "0004")
    engine.dispose()
    check = {"TIDINGS_MIGRATE": "check", "TIDINGS_DATABASE_URL": database}
    # Given a database one migration behind, a command started with TIDINGS_MIGRATE=check
    refused = _tidings("init", **check)
    out, err = refused.communicate(timeout=60)
    # refuses to run, names the command that fixes it, and leaves the schema alone
    assert refused.returncode == 4, out + err
    assert "is at schema revision 0004" in err and "run `tidings migrate`" in err
    assert current_revision(engine) == "0004"
    # `tidings migrate` brings it up to date, and then the command runs
    migrated = _tidings("migrate", **check)
    out, err = migrated.communicate(timeout=60)
    assert migrated.returncode == 0, err
    assert f"0004 -> {head_revision()}: 0005" in out
    again = _tidings("init", **check)
    assert again.communicate(timeout=60) and again.returncode == 0


def test_a_command_run_beside_a_migrated_server_leaves_its_writes_in_place(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    # Given a process that connects and migrates on start, as `serve` and `worker` do
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (key, name, created_at) VALUES ('a', 'A', '')"))
    # when another process reads the database and closes it again (any CLI command)
    read = "import sqlite3; print([r[0] for r in sqlite3.connect({!r}).execute('{}')])"
    subprocess.run(
        [sys.executable, "-c", read.format(str(path), "SELECT count(*) FROM workspaces")],
        check=True,
        capture_output=True,
    )
    # the first process's write-ahead log is still the database's: what it writes next is
    # seen by every other process (a deleted log hid every later write, then lost it)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (key, name, created_at) VALUES ('b', 'B', '')"))
    seen = subprocess.run(
        [sys.executable, "-c", read.format(str(path), "SELECT key FROM workspaces ORDER BY key")],
        check=True,
        capture_output=True,
        text=True,
    )
    engine.dispose()
    assert seen.stdout.strip() == "['a', 'b']"


@pytest.mark.postgres
def test_worker_logs_json_lines_with_their_fields_and_no_secret(pg_engine: Engine) -> None:
    password, token = "db-pw-4be1", "sms-tok-90c2"
    url = pg_engine.url.set(password=password).render_as_string(hide_password=False)
    worker = _tidings(
        "worker",
        "--database",
        url,
        TIDINGS_LOG_FORMAT="json",
        TIDINGS_SMTP_URL="smtp://mailer:smtp-pw-77d3@127.0.0.1:1",
        TIDINGS_SMS_URL="http://127.0.0.1:1/sms",
        TIDINGS_SMS_TOKEN=token,
    )
    assert worker.stderr is not None
    lines = []
    try:
        # Given a worker that has started (the trust-auth server ignores the password)
        for line in worker.stderr:
            lines.append(line)
            if "worker_started" in line:
                break
    finally:
        worker.send_signal(signal.SIGTERM)
        out, rest = worker.communicate(timeout=60)
    lines += rest.splitlines()
    assert worker.returncode == 0, "".join(lines)
    # Then every line on stderr is a JSON object with the fields the code attached
    records = [json.loads(line) for line in lines if line.strip()]
    started = next(r for r in records if r.get("action") == "worker_started")
    assert started["pid"] == worker.pid and started["level"] == "info"
    assert "postgresql+psycopg://postgres:***@" in started["message"]
    assert any(r.get("action") == "worker_stopped" for r in records)
    # and no secret reaches the log
    everything = "".join(lines) + out
    for secret in (password, token, "smtp-pw-77d3"):
        assert secret not in everything


@pytest.mark.postgres
def test_init_never_shows_the_database_password(empty_pg: str) -> None:
    # The test server trusts loopback, so any password connects.
    server = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1].split("@", 1)[1]
    url = f"postgres://postgres:pw-3d8e1f@{server}/{empty_pg}"
    out, err = _tidings("init", "--database", url).communicate(timeout=60)
    assert f"workspace default in postgres://postgres:***@{server}/{empty_pg}" in out, err
    assert "write key" in out
    assert "pw-3d8e1f" not in out + err
