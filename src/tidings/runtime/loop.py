"""The scheduler loop on a real (or virtual) clock: run what is due, sweep, sleep, repeat."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from tidings.clock import Clock
from tidings.runtime.journeys import JourneyLimits
from tidings.runtime.scheduler import run_due
from tidings.runtime.supervision import LoopHealth, Supervisor
from tidings.runtime.sweeps import sweep_scores, sweep_segments, sweep_time_triggers
from tidings.storage import enrollments
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)


@dataclass
class SchedulerLoop:
    """Advances due journeys as their time comes, and sweeps time-based triggers.

    It sleeps until the next wake time (at most `max_idle`, so journeys stored by other
    processes are found soon), and stops between batches when `stop` is set: a batch in
    hand is always finished and committed. A round that raises (the database went away,
    a bug) is logged and tried again after a backoff: only `stop` ends the loop.
    """

    engine: Engine
    clock: Clock
    catalog: Catalog = field(default_factory=Catalog)
    batch: int = 500
    max_idle: timedelta = timedelta(seconds=1)
    sweep_every: timedelta = timedelta(minutes=1)
    stop: threading.Event = field(default_factory=threading.Event)
    #: How to pause between rounds; by default the stop event's wait, which a stop ends.
    sleep: Callable[[float], object] | None = None
    steps: int = 0
    health: LoopHealth = field(default_factory=lambda: LoopHealth("scheduler"))
    #: The sweeps' own health: a round whose sweep failed still advances journeys and
    #: counts as good for `health`, so sweeps that always fail must show up apart.
    sweeps_health: LoopHealth = field(default_factory=lambda: LoopHealth("sweeps"))
    #: How long each template render may take.
    limits: JourneyLimits = field(default_factory=JourneyLimits)
    _next_sweep: datetime | None = None

    def __post_init__(self) -> None:
        self.health.idle_seconds = self.max_idle.total_seconds()

    def run_once(self) -> float:
        """Do what is due now; return how many seconds to sleep before the next round."""
        now = self.clock.now()
        if self._next_sweep is None or now >= self._next_sweep:
            # Set first: a sweep that keeps failing is tried once per period, and due
            # journeys still run in between.
            self._next_sweep = now + self.sweep_every
            self._sweep()
        done = run_due(
            self.engine,
            self.clock,
            self.catalog,
            batch=self.batch,
            progressed=self.health.progressed,
            limits=self.limits,
        )
        self.steps += done
        if done == self.batch:
            return 0.0  # more may be due: no sleep
        with self.engine.connect() as conn:
            wake_at = enrollments.next_wake_at(conn)
        limit = min(self.max_idle, self._next_sweep - self.clock.now())
        if wake_at is None:
            return max(limit.total_seconds(), 0.0)
        return max(min(wake_at - self.clock.now(), limit).total_seconds(), 0.0)

    def _sweep(self) -> None:
        try:
            started = sweep_time_triggers(self.engine, self.clock, self.catalog, limits=self.limits)
            if started:
                logger.info("time triggers fired", extra={"action": "sweep", "count": started})
            self.health.progressed()  # each sweep may be long: the loop is busy, not stuck
            sweep_scores(self.engine, self.clock, self.catalog)
            self.health.progressed()
            moved = sweep_segments(self.engine, self.clock, self.catalog)
            if moved:
                logger.info("segments changed", extra={"action": "segments", "count": moved})
        except Exception as exc:
            self.sweeps_health.failed(exc)
            logger.exception(
                "sweep failed; trying again at the next sweep",
                extra={
                    "action": "sweep_failed",
                    "loop": "scheduler",
                    "failures": self.sweeps_health.failures,
                },
            )
            return
        self.sweeps_health.succeeded()

    def run(self) -> int:
        """Loop until `stop` is set, whatever a round raises; return how many steps were
        advanced."""
        # Sweeps run once per `sweep_every`: they are stuck after three periods without one
        # that went well.
        self.sweeps_health.idle_seconds = self.sweep_every.total_seconds()
        self.sweeps_health.began()
        Supervisor(self.health, self.stop, wait=self.sleep).run(self.run_once)
        return self.steps
