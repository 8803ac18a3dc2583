"""Running a unit of work in one transaction, again if a concurrent writer got there first."""

from __future__ import annotations

import logging
from collections.abc import Callable
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
            if attempt == ATTEMPTS or not _worth_retrying(exc):
                raise
            logger.info("retrying after a conflict", extra={"action": "retry", "attempt": attempt})
    raise AssertionError("unreachable")


#: PostgreSQL's codes for a transaction aborted only because of another one.
_RETRYABLE_CODES = {"40001", "40P01"}  # serialization failure, deadlock detected


def _worth_retrying(exc: Exception) -> bool:
    if isinstance(exc, ConcurrentEntry):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in _RETRYABLE_CODES
