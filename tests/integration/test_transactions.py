"""A transaction that lost a race to another one runs again; any other error does not."""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy.exc import OperationalError

from tidings.runtime.transactions import ATTEMPTS, transact
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
