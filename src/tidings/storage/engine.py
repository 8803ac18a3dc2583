"""Connecting to the database: SQLite (WAL) by default, PostgreSQL for production."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as _create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from tidings.errors import ConfigError, StorageUnavailable

#: Spellings of a PostgreSQL URL that name no driver (Heroku and libpq write `postgres://`);
#: SQLAlchemy would pick psycopg2, which Tidings does not use.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def normalise_url(url: str) -> str:
    """`url` with PostgreSQL's driverless spellings mapped to the psycopg 3 driver."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def mask_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@", 1)[-1] if "@" in url else url


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and many readers."""
    url = normalise_url(url)
    try:
        make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"TIDINGS_DATABASE_URL (--database) has value {mask_url(url)!r}: not a database "
            "URL; write sqlite:///FILE or postgresql://USER@HOST/DB"
        ) from None
    if url.startswith("postgresql+psycopg"):
        _require_psycopg(url)
    if url.startswith("sqlite"):
        engine = _create_engine(url, **kwargs)
        _tune_sqlite(engine)
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


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands so `begin` below decides how they start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout
        # instead of failing when a read transaction tries to become a write one.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def check_connection(engine: Engine) -> None:
    """Fail with a clear message when the database cannot be reached."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise StorageUnavailable(f"cannot connect to {url}: {exc.orig}") from exc
