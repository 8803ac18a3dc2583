"""A transaction that lost a race to another one runs again; any other error does not."""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import OperationalError

from tidings.runtime.transactions import ATTEMPTS, attempts, transact
from tidings.storage.engine import create_engine
from tidings.storage.enrollments import ConcurrentEntry


def _failing(errors: list[Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    def work(conn: object) -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "done"

    return calls, work


def _db_error(orig: Exception) -> OperationalError:
    return OperationalError("UPDATE ...", {}, orig)


@pytest.mark.parametrize(
    "error",
    [
        ConcurrentEntry("1 enrollment(s) entered concurrently"),
        _db_error(psycopg.errors.DeadlockDetected("deadlock detected")),
        _db_error(psycopg.errors.SerializationFailure("could not serialize access")),
    ],
)
def test_a_lost_race_runs_again(error: Exception) -> None:
    calls, work = _failing([error])
    assert transact(create_engine("sqlite://"), work) == "done"  # type: ignore[arg-type]
    assert len(calls) == 2


def test_other_errors_are_not_retried() -> None:
    calls, work = _failing([_db_error(psycopg.errors.UndefinedTable("no such table"))])
    with pytest.raises(OperationalError):
        transact(create_engine("sqlite://"), work)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_retries_are_bounded() -> None:
    calls, work = _failing([ConcurrentEntry("again")] * (ATTEMPTS + 1))
    with pytest.raises(ConcurrentEntry):
        transact(create_engine("sqlite://"), work)  # type: ignore[arg-type]
    assert len(calls) == ATTEMPTS


def test_a_block_that_lost_a_race_runs_again_on_a_fresh_transaction(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    tries = 0
    for attempt in attempts(engine):
        with attempt as conn:
            tries += 1
            conn.execute(text("INSERT INTO notes VALUES ('try ' || :n)"), {"n": tries})
            if tries == 1:
                raise ConcurrentEntry("another writer got there first")

    with engine.connect() as conn:
        kept = conn.execute(text("SELECT body FROM notes")).scalars().all()
    assert (tries, kept) == (2, ["try 2"])  # the first try's insert was rolled back


def test_a_block_raises_other_errors_at_once_and_keeps_nothing(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    tries = 0
    with pytest.raises(ValueError, match="bad input"):
        for attempt in attempts(engine):
            with attempt as conn:
                tries += 1
                conn.execute(text("INSERT INTO notes VALUES ('kept?')"))
                raise ValueError("bad input")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
    assert tries == 1


def test_a_block_gives_up_after_the_last_attempt() -> None:
    tries = 0
    with pytest.raises(ConcurrentEntry):
        for attempt in attempts(create_engine("sqlite://")):
            with attempt:
                tries += 1
                raise ConcurrentEntry("again")
    assert tries == ATTEMPTS


def _failing_commits(engine: Engine, failures: int) -> list[int]:
    """Make the next `failures` commits fail as PostgreSQL reports a serialization failure."""
    commits: list[int] = []

    @event.listens_for(engine, "commit")
    def _commit(conn: object) -> None:
        commits.append(1)
        if len(commits) <= failures:
            raise _db_error(psycopg.errors.SerializationFailure("could not serialize access"))

    return commits


def test_work_whose_commit_failed_runs_again_and_its_write_lands(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    commits = _failing_commits(engine, 1)

    def work(conn: Connection) -> str:
        conn.execute(text("INSERT INTO notes VALUES ('kept')"))
        return "done"

    assert transact(engine, work) == "done"
    assert len(commits) == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM notes")).scalars().all() == ["kept"]


def test_a_block_that_returns_never_hides_a_failed_commit(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    _failing_commits(engine, 1)

    def write() -> str:
        for attempt in attempts(engine):
            with attempt as conn:
                conn.execute(text("INSERT INTO notes VALUES ('lost?')"))
                return "written"
        return "never"

    with pytest.raises(OperationalError):
        write()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
