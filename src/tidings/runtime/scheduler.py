"""The scheduler: claim due enrollments in batches, advance them, write it all at once."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, Engine

from tidings.clock import Clock
from tidings.core.state import EnrollmentStatus
from tidings.core.steps.base import end
from tidings.runtime.journeys import JourneyLimits, Journeys, Stopwatch
from tidings.runtime.supervision import is_outage
from tidings.runtime.transactions import transact
from tidings.storage import enrollments, step_log
from tidings.storage.enrollments import ConcurrentEntry, Stored
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)


def run_due(
    engine: Engine,
    clock: Clock,
    catalog: Catalog,
    *,
    batch: int = 500,
    progressed: Callable[[], None] = lambda: None,
    limits: JourneyLimits | None = None,
) -> int:
    """Advance up to `batch` due enrollments in one transaction; return how many.

    `limits` bounds each template render (the scheduler runs every journey it claims:
    a batch limit there would only leave them claimed again).

    The claim's row locks last until the commit, so a worker killed mid-batch leaves
    every row as it was, and the outbox rows it would have written never exist.

    A journey that raises (a bug, a value nothing foresaw, an enrollment that conflicts
    twice) fails alone: the batch is rolled back to just after the claim and run again
    one journey at a time, each under its own savepoint; the one that raises is marked
    failed with the reason on its contact's timeline, and the others go on. The normal
    path stays one pass. `progressed` is called after each journey run (a heartbeat for
    the loop's health: a batch of slow renders is busy, not stuck).
    """
    now = clock.now()

    def work(conn: Connection) -> list[Stored]:
        claimed = enrollments.claim_due(conn, now, batch)
        if not claimed:
            return claimed  # most rounds find nothing due: no savepoint to open
        stopwatch = Stopwatch(replace(limits or JourneyLimits(), batch_seconds=None))
        try:
            with conn.begin_nested():
                _advance(conn, claimed, catalog, now, progressed, stopwatch)
        except Exception as exc:
            if is_outage(exc):
                raise
            _advance_one_by_one(conn, claimed, catalog, now, progressed, stopwatch)
        return claimed

    claimed = transact(engine, work)
    if claimed:
        logger.debug("advanced due enrollments", extra={"action": "run_due", "count": len(claimed)})
    return len(claimed)


def _advance(
    conn: Connection,
    claimed: Sequence[Stored],
    catalog: Catalog,
    now: datetime,
    progressed: Callable[[], None],
    stopwatch: Stopwatch,
) -> None:
    by_workspace: dict[int, list[Stored]] = defaultdict(list)
    for stored in claimed:
        by_workspace[stored.workspace_id].append(stored)
    for workspace_id, group in by_workspace.items():
        journeys = Journeys(conn, workspace_id, catalog, now, stopwatch)
        # Each journey's contact view names the workflows it has a journey in (for
        # `contact.journeys`): the batch's enrollments are read in one query, not one a contact.
        journeys.preload([s.state.contact_id for s in group])
        for stored in group:
            journeys.run(stored.workflow_id, stored.state)
            progressed()
        journeys.flush()


def _advance_one_by_one(
    conn: Connection,
    claimed: Sequence[Stored],
    catalog: Catalog,
    now: datetime,
    progressed: Callable[[], None],
    stopwatch: Stopwatch,
) -> None:
    for stored in claimed:
        for attempt in (1, 2):
            try:
                with conn.begin_nested():
                    _advance(conn, [stored], catalog, now, progressed, stopwatch)
                break
            except ConcurrentEntry as exc:
                # Another writer enrolled this contact meanwhile: run the journey once more
                # on what it wrote. A second conflict is no race, and fails the journey.
                if attempt == 2:
                    _fail(conn, stored, exc, now)
            except Exception as exc:
                if is_outage(exc):
                    raise
                _fail(conn, stored, exc, now)
                break


def _fail(conn: Connection, stored: Stored, exc: Exception, now: datetime) -> None:
    """Close a journey that raised, and say why on its contact's timeline."""
    state = stored.state
    at = f" at step {state.step_id}" if state.step_id else ""
    reason = step_log.failure_reason(f"failed{at}", exc)
    logger.error(
        "journey failed",
        exc_info=exc,
        extra={"action": "journey_failed", "enrollment_id": state.id, "step_id": state.step_id},
    )
    enrollments.save_enrollments(conn, [end(state, EnrollmentStatus.FAILED, reason, now)])
    line = step_log.line(
        stored.workspace_id,
        state.contact_id,
        "failed",
        reason,
        now,
        enrollment_id=state.id,
        workflow_id=stored.workflow_id,
        version=state.version,
        step_id=state.step_id,
    )
    step_log.append_lines(conn, [line])


def run_until_idle(
    engine: Engine,
    clock: Clock,
    catalog: Catalog,
    *,
    batch: int = 500,
    limits: JourneyLimits | None = None,
) -> int:
    """Run batches until nothing is due at the clock's current time; return the total."""
    total = 0
    while True:
        done = run_due(engine, clock, catalog, batch=batch, limits=limits)
        total += done
        if done < batch:
            return total
