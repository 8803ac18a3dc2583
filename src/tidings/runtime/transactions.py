"""Running a unit of work in one transaction, again if a concurrent writer got there first.

Every write goes through here, the engine's loops and the API's and CLI's requests alike,
so each one is retried the same way after a deadlock or a lost race. Two forms:

    transact(engine, work)              # work(conn) -> result, rerun on a conflict

    for attempt in attempts(engine):    # the same, for a block of statements
        with attempt as conn:
            ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from tidings.storage.enrollments import ConcurrentEntry

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: A conflict means another transaction just committed; a fresh try sees its work.
ATTEMPTS = 3


def transact(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run `work` in a transaction; roll back and rerun it when it lost a race to another
    transaction (both enrolled one contact, a deadlock, a serialization failure).

    The rerun reads the other writer's committed enrollment, so the core decides again on
    current facts rather than the shell patching a half-applied result.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (ConcurrentEntry, OperationalError) as exc:
            # A failed commit lands here too, and is run again like any conflict.
            if attempt == ATTEMPTS or not _worth_retrying(exc):
                raise
            logger.info("retrying after a conflict", extra={"action": "retry", "attempt": attempt})
    raise AssertionError("unreachable: the last attempt raises")


def attempts(engine: Engine) -> Iterator[Attempt]:
    """Up to ATTEMPTS transactions, each a context manager giving its connection; the
    loop ends with the first that commits. A conflict inside the block rolls back and starts
    the next one; any other error, a conflict on the last attempt, or a failed commit is
    raised."""
    for number in range(1, ATTEMPTS + 1):
        attempt = Attempt(engine, last=number == ATTEMPTS)
        yield attempt
        if attempt.committed:
            return
        logger.info("retrying after a conflict", extra={"action": "retry", "attempt": number})


class Attempt:
    """One transaction of `attempts`: commits when its block ends, rolls back when it
    raises, and swallows the error when another attempt should follow."""

    def __init__(self, engine: Engine, *, last: bool) -> None:
        self._transaction = engine.begin()
        self._last = last
        self.committed = False

    def __enter__(self) -> Connection:
        return self._transaction.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        # Commits, or rolls back when the block raised. A failed commit is raised, never
        # retried here: the block may have ended with `return`, and swallowing the error
        # would hand its result back as if it had been written. (`transact` reruns work
        # whose commit failed; with READ COMMITTED, PostgreSQL's default, conflicts surface
        # at the statement, inside the block, where they are retried.)
        self._transaction.__exit__(kind, error, trace)
        if error is None:
            self.committed = True
            return False
        return isinstance(error, Exception) and self._retry(error)

    def _retry(self, error: Exception) -> bool:
        return not self._last and _worth_retrying(error)


#: PostgreSQL's codes for a transaction aborted only because of another one.
_RETRYABLE_CODES = {"40001", "40P01"}  # serialization failure, deadlock detected


def _worth_retrying(exc: Exception) -> bool:
    if isinstance(exc, ConcurrentEntry):
        return True
    if not isinstance(exc, OperationalError):
        return False
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in _RETRYABLE_CODES
