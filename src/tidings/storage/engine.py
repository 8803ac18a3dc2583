"""Connecting to the database: SQLite (WAL) by default, PostgreSQL for production."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as _create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from tidings.errors import ConfigError, StorageUnavailable
from tidings.storage.types import load_json

#: How long a SQLite writer waits for another process's write transaction (seconds).
BUSY_SECONDS = 10.0
#: How long a SQLite writer queues behind this process's other writers (seconds): longer
#: than `BUSY_SECONDS`, since the queue is fair and moves; past it, SQLite decides.
QUEUE_SECONDS = 60.0

#: Spellings of a PostgreSQL URL that name no driver (Heroku and libpq write `postgres://`);
#: SQLAlchemy would pick psycopg2, which Tidings does not use.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_PSYCOPG = "postgresql+psycopg"


def normalise_url(url: str) -> str:
    """`url` with PostgreSQL's driverless spellings mapped to the psycopg 3 driver."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return f"{_PSYCOPG}://" + url.removeprefix(scheme)
    return url


def mask_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@", 1)[-1] if "@" in url else url


#: The execution option that carries TIDINGS_SECRET_KEY to every connection of an engine,
#: for the suppression list's hashes (storage/suppressions.py and migration 0006).
SECRET_KEY_OPTION = "tidings_secret_key"


def create_engine(
    url: str,
    *,
    busy_seconds: float = BUSY_SECONDS,
    secret_key: str | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and many readers.

    `secret_key` (TIDINGS_SECRET_KEY) keys what must not be checkable from a copy of the
    database alone; its connections carry it as the `SECRET_KEY_OPTION` execution option.
    """
    if secret_key:
        options = kwargs.get("execution_options", {})
        kwargs["execution_options"] = {**options, SECRET_KEY_OPTION: secret_key}
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    # SQLite and PostgreSQL (through psycopg 3) are what the storage is written and tested
    # for: another database or driver would fail later, on an import or a statement.
    if parsed is None or parsed.drivername not in ("sqlite", "sqlite+pysqlite", _PSYCOPG):
        what = "not a database URL" if parsed is None else "not a database Tidings can use"
        raise ConfigError(
            f"TIDINGS_DATABASE_URL (--database) has value {mask_url(url)!r}: {what}; write "
            "sqlite:///FILE or postgresql://USER@HOST/DB"
        ) from None
    if url.startswith("postgresql+psycopg"):
        _require_psycopg(url)
    kwargs.setdefault("json_deserializer", load_json)
    if url.startswith("sqlite"):
        engine = _create_engine(url, **kwargs)
        engine._connection_cls = _SqliteConnection
        _tune_sqlite(engine, busy_seconds)
        return engine
    # Pages of 100 rows keep each multi-row INSERT small enough for psycopg's query cache;
    # bigger pages were re-parsed on every call (measured: 900 -> 1,180 events/s, bench/).
    return _create_engine(url, pool_pre_ping=True, insertmanyvalues_page_size=100, **kwargs)


def _require_psycopg(url: str) -> None:
    # psycopg is an extra (tidings[postgres]), so that SQLite users need not install it.
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{mask_url(url)} is a PostgreSQL database, but its driver is not installed: "
            "pip install 'tidings[postgres]'"
        ) from None


class _SqliteConnection(Connection):
    """Tells the `begin` listener below whether a transaction is a read or a write.

    The code says which it means: a write begins its transaction explicitly
    (`engine.begin()`, `conn.begin()`, `transact`), a read just runs its first statement
    on `engine.connect()` and lets the transaction begin by itself (autobegin).
    """

    _reading = False

    def _autobegin(self) -> None:
        self._reading = True
        try:
            super()._autobegin()
        finally:
            self._reading = False


class NestedWrite(RuntimeError):
    """A thread holding a SQLite write transaction began another one: a bug in the caller,
    which would otherwise wait for itself until SQLite gave up."""


#: Set in a connection's info while its transaction holds the writers' turn.
_WRITING = "tidings_writing"


class _Writers:
    """This process's SQLite writers, in the order they asked, one at a time.

    SQLite's own wait (busy_timeout) polls with sleeps, so a writer that commits often (the
    ingest committer) takes the lock again before a sleeping one wakes: under load the
    scheduler and the dispatcher timed out with "database is locked". Here a writer waits
    on its own event and the lock is handed straight to the next in line.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        #: The thread whose transaction holds the turn (set by that thread itself).
        self._owner: int | None = None
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait for this writer's turn; False if it did not come within `timeout`.

        Raises `NestedWrite` at once when the calling thread already holds the turn: it
        would wait for itself, in this queue and then in SQLite's, and never get it.
        """
        me = threading.get_ident()
        with self._lock:
            if not self._held:
                self._held, self._owner = True, me
                return True
            if self._owner == me:
                raise NestedWrite(
                    "this thread already has a SQLite write transaction open and began a "
                    "second one on another connection, which would wait for the first for "
                    "ever: do the second write on the first transaction's connection"
                )
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return self._take(me)
        with self._lock:
            if turn.is_set():  # handed over just as the wait ran out
                self._owner = me
                return True
            self._waiting.remove(turn)
            return False

    def _take(self, me: int) -> bool:
        with self._lock:
            self._owner = me
        return True

    def release(self) -> None:
        """End this writer's turn and hand it to the next one."""
        with self._lock:
            self._owner = None
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


def _tune_sqlite(engine: Engine, busy_seconds: float) -> None:  # noqa: C901 (the engine's SQLite listeners, which share its writer state)
    writers = _Writers()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands so `begin` below decides how they start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First, so that even switching to WAL waits for a busy database instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if getattr(conn, "_reading", False):
            # A read begins deferred: in WAL it sees a snapshot and never holds the write
            # lock, so a long report or export does not stall ingest.
            conn.exec_driver_sql("BEGIN")
            return
        # A write takes the lock up front: two writers queue instead of failing when a
        # read transaction tries to become a write one. A writer that waited its turn
        # past QUEUE_SECONDS (one stuck) goes on to SQLite's own wait, as before; one
        # nested in the same thread fails at once (NestedWrite).
        writing = writers.acquire(QUEUE_SECONDS)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if writing:
                writers.release()
            raise
        if writing:
            # Kept with the driver's connection, so that whatever ends the transaction
            # (commit, rollback, the pool resetting a connection nobody closed) ends the turn.
            conn.info[_WRITING] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Connection) -> None:
        if conn.info.pop(_WRITING, False):
            writers.release()

    def _end_turn(record: Any) -> None:
        if record.info.pop(_WRITING, False):
            writers.release()

    # Each with the event's own signature: SQLAlchemy reads it to pick the calling form.
    @event.listens_for(engine.pool, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        _end_turn(record)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _end_turn(record)


def check_connection(engine: Engine) -> None:
    """Fail with a clear message when the database cannot be reached."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise StorageUnavailable(f"cannot connect to {url}: {exc.orig}") from exc
