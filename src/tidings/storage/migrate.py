"""Bring a database's schema up to date with Alembic, one process at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from tidings.errors import StorageUnavailable

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent / "migrations"

#: The PostgreSQL advisory lock every migrating process takes: any fixed 64-bit number that no
#: other application on the same server is likely to use ("tidings" in ASCII).
MIGRATION_LOCK_KEY = 0x74696469_6E6773


@dataclass(frozen=True)
class Migrated:
    """What an upgrade did: the revision before, the revision after, those applied between."""

    before: str | None
    after: str | None
    applied: tuple[str, ...]


def alembic_config() -> Config:
    """The Alembic configuration for Tidings' migrations, with no ini file needed."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def head_revision() -> str | None:
    """The newest revision this version of Tidings knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> Migrated:
    """Apply every migration up to `revision` (idempotent), holding the migration lock.

    Two processes starting at once on a fresh database would otherwise both create the
    tables and one would fail on "relation already exists". The second one waits for the
    lock, then finds the schema current and does nothing.
    """
    config = alembic_config()
    with _file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Transaction-scoped: released by the commit (or rollback) that ends the upgrade.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        before = _current(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = _current(connection)
    done = Migrated(before, after, _between(before, after))
    if done.applied:
        logger.info(
            "schema migrated from %s to %s",
            before or "empty",
            after,
            extra={"action": "migrate", "applied": list(done.applied)},
        )
    return done


def require_current(engine: Engine) -> None:
    """Refuse to go on when the schema is behind this version of Tidings."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        url = engine.url.render_as_string(hide_password=True)
        raise StorageUnavailable(
            f"the database {url} is at schema revision {current or 'none (empty)'}, "
            f"this version of Tidings needs {head}: run `tidings migrate` "
            "(TIDINGS_MIGRATE=check refuses to migrate on start)"
        )


def _between(before: str | None, after: str | None) -> tuple[str, ...]:
    if after is None or before == after:
        return ()
    script = ScriptDirectory.from_config(alembic_config())
    found = script.iterate_revisions(after, before or "base")
    return tuple(reversed([rev.revision for rev in found]))


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, an exclusive lock on a file beside it while migrating.

    SQLite's own write lock is only taken when a transaction writes, and Alembic reads the
    version table first, so the second process must wait before reading. The lock is on
    `<database>-migrate.lock`, never the database itself: closing any handle on the
    database file drops every POSIX lock this process holds on it, SQLite's included, and
    then the next process that closed the database deleted the write-ahead log that a
    running server still wrote into (its later writes were lost).
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    import fcntl  # POSIX only; imported here so PostgreSQL users elsewhere need not have it

    with Path(f"{database}-migrate.lock").open("ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
