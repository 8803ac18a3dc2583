"""Every storage test runs on SQLite and on the real PostgreSQL on 127.0.0.1:5432.

Each test gets a fresh database cloned from a migrated template: a file copy on
SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL. When PostgreSQL cannot be reached the
PostgreSQL half fails in CI (CI is set) and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from tidings.clock import VirtualClock
from tidings.storage.engine import create_engine
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import ensure_workspace

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_counter = itertools.count()


@pytest.fixture(scope="session")
def run_tag(testrun_uid: str) -> str:
    """A tag unique to this test run, so that two suites can share one PostgreSQL server."""
    return testrun_uid[:8]


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template(worker_id: str, run_tag: str) -> Iterator[str]:
    """A migrated template database for this test worker."""
    admin = _pg_admin()
    name = f"tidings_template_{run_tag}_{worker_id}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable on 127.0.0.1:5432 ({exc.orig})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    engine = create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@contextmanager
def _postgres_database(template: str, worker_id: str) -> Iterator[Engine]:
    name = f"{template.replace('template', 't', 1)}_{next(_counter)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    engine = create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[Engine]:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "tidings.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = create_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    with _postgres_database(request.getfixturevalue("pg_template"), worker_id) as engine:
        yield engine


@pytest.fixture
def pg_engine(pg_template: str, worker_id: str) -> Iterator[Engine]:
    """A fresh, migrated PostgreSQL database, for what only PostgreSQL has (row locks)."""
    with _postgres_database(pg_template, worker_id) as engine:
        yield engine


@dataclass
class Store:
    """A database with a workspace, a catalog and a virtual clock."""

    engine: Engine
    workspace_id: int
    catalog: Catalog
    clock: VirtualClock


def _store(engine: Engine) -> Store:
    clock = VirtualClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, "test", "Test", clock.now())
    return Store(engine, workspace_id, Catalog(), clock)


@pytest.fixture
def store(engine: Engine) -> Store:
    """A workspace in a fresh database of each kind."""
    return _store(engine)


@pytest.fixture
def pg_store(pg_engine: Engine) -> Store:
    """A workspace in a fresh PostgreSQL database."""
    return _store(pg_engine)
