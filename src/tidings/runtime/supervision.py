"""Supervision for the background loops: an exception ends a round, never the loop.

The scheduler and the dispatcher each run rounds through a `Supervisor`. A round that
raises is logged with its traceback, and the loop waits before the next try, doubling the
wait from `base` up to `cap` while the failures go on (a database that is restarting gets
a little time, a bug does not flood the log); one good round resets the wait. Only the
stop event ends a loop. Each loop keeps a `LoopHealth` that `/readyz` reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tidings.core.retry import BACKOFF_BASE, BACKOFF_CAP, backoff

logger = logging.getLogger(__name__)

#: A loop counts as stuck when its last good round (or sign of progress inside a round) is
#: older than this many idle intervals, and never sooner than `STALE_FLOOR` seconds.
STALE_IDLE_ROUNDS = 3
STALE_FLOOR = 30.0


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` is about the database (gone, locked, a deadlock) rather than one
    journey or message: those end the round for the supervisor or `transact` to retry."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass
class LoopHealth:
    """What a loop last did, in monotonic seconds, for the readiness check.

    Written by the loop's thread and read by the API's: each field is a single reference
    assignment, so a reader sees either the old value or the new one.
    """

    name: str
    #: The loop's usual pause between rounds when idle (seconds).
    idle_seconds: float = 1.0
    monotonic: Callable[[], float] = time.monotonic
    started_at: float | None = None
    last_good_at: float | None = None
    #: The last sign of life inside a round (a group of sends recorded, a journey run):
    #: a long round that keeps moving is slow, not stuck.
    last_progress_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    #: Failed rounds since the last good one.
    failures: int = 0

    @property
    def stale_after(self) -> float:
        """How old the last good round may be before the loop counts as stuck."""
        return max(STALE_FLOOR, STALE_IDLE_ROUNDS * self.idle_seconds)

    def began(self) -> None:
        """The loop started: it has `stale_after` seconds to finish a good round."""
        self.started_at = self.monotonic()

    def succeeded(self) -> None:
        """A round went well."""
        self.last_good_at = self.monotonic()
        self.failures = 0

    def progressed(self) -> None:
        """A round moved on (a heartbeat): the loop is busy, not stuck."""
        self.last_progress_at = self.monotonic()

    def failed(self, exc: BaseException) -> None:
        """A round (or part of one) raised `exc`."""
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]
        self.last_error_at = self.monotonic()
        self.failures += 1

    def problem(self) -> str | None:
        """Why the loop is not ready, or None when it is (or does not run)."""
        if self.started_at is None:
            return None
        since = self.last_good_at if self.last_good_at is not None else self.started_at
        what = "no good round yet" if self.last_good_at is None else "last good round"
        if self.last_progress_at is not None and self.last_progress_at > since:
            since, what = self.last_progress_at, "last progress"
        age = self.monotonic() - since
        if age <= self.stale_after:
            return None
        # The error text stays out: it may name hosts or SQL, and `/readyz` is public.
        failing = f", {self.failures} failed since" if self.failures else ""
        return f"{self.name}: {what} {age:.0f} s ago (limit {self.stale_after:.0f} s){failing}"


@dataclass
class Supervisor:
    """Runs one loop's rounds until `stop` is set, whatever a round raises.

    `work` does one round and returns how many seconds to pause before the next.
    `wait` pauses (the stop event's `wait` by default, so a stop ends a pause at once).
    """

    health: LoopHealth
    stop: threading.Event
    wait: Callable[[float], object] | None = None
    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP
    _pause: Callable[[float], object] = field(init=False)

    def __post_init__(self) -> None:
        self._pause = self.wait if self.wait is not None else self.stop.wait

    def run(self, work: Callable[[], float]) -> None:
        """Call `work` again and again until `stop` is set."""
        name = self.health.name
        self.health.began()
        while not self.stop.is_set():
            try:
                pause = work()
            except Exception as exc:
                self.health.failed(exc)
                delay = backoff(self.health.failures, self.base, self.cap)
                logger.exception(
                    "%s round failed; trying again in %.1f s",
                    name,
                    delay,
                    extra={
                        "action": f"{name}_round_failed",
                        "loop": name,
                        "failures": self.health.failures,
                        "retry_in": delay,
                    },
                )
                self._pause(delay)
                continue
            if self.health.failures:
                logger.info(
                    "%s recovered after %d failed rounds",
                    name,
                    self.health.failures,
                    extra={"action": f"{name}_recovered", "loop": name},
                )
            self.health.succeeded()
            if pause > 0:
                self._pause(pause)
