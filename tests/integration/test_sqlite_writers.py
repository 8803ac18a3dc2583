"""SQLite's writers in one process queue for their turn; a thread never waits for itself."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from tidings.storage.engine import NestedWrite, create_engine


def test_a_second_write_transaction_in_the_same_thread_fails_at_once(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "tidings.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as first:
            first.execute(text("CREATE TABLE notes (body TEXT)"))
            # When the same thread begins a second write transaction on another connection,
            # it fails at once with what to do (instead of waiting 70 s for itself)
            with (
                pytest.raises(NestedWrite, match="do the second write on the first"),
                engine.begin(),
            ):
                pass
            # and the first transaction goes on and commits
            first.execute(text("INSERT INTO notes VALUES ('kept')"))

        # Then the turn is free: another thread writes at once
        def write() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO notes VALUES ('next')"))

        other = threading.Thread(target=write)
        other.start()
        other.join(timeout=30)
        assert not other.is_alive()
        with engine.connect() as conn:
            kept = [r[0] for r in conn.execute(text("SELECT body FROM notes ORDER BY rowid"))]
        assert kept == ["kept", "next"]
    finally:
        engine.dispose()


def test_a_connection_returned_to_the_pool_ends_its_turn_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A connection whose write transaction nobody ended is reset by the pool, and its
    # turn handed on, without the pool logging an error about the reset listener.
    engine = create_engine(f"sqlite:///{tmp_path / 'quiet.db'}")
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.begin() as conn:  # the turn was handed on: this does not wait
        conn.execute(text("SELECT 1"))
    engine.dispose()
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
