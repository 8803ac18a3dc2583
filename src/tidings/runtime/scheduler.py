"""The scheduler: claim due enrollments in batches, advance them, write it all at once."""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import Connection, Engine

from tidings.clock import Clock
from tidings.runtime.journeys import Journeys
from tidings.runtime.transactions import transact
from tidings.storage import enrollments
from tidings.storage.enrollments import Stored
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)


def run_due(engine: Engine, clock: Clock, catalog: Catalog, *, batch: int = 500) -> int:
    """Advance up to `batch` due enrollments in one transaction; return how many.

    The claim's row locks last until the commit, so a worker killed mid-batch leaves
    every row as it was, and the outbox rows it would have written never exist.
    """
    now = clock.now()

    def work(conn: Connection) -> list[Stored]:
        claimed = enrollments.claim_due(conn, now, batch)
        by_workspace: dict[int, list[Stored]] = defaultdict(list)
        for stored in claimed:
            by_workspace[stored.workspace_id].append(stored)
        for workspace_id, group in by_workspace.items():
            journeys = Journeys(conn, workspace_id, catalog, now)
            journeys.preload([s.state.contact_id for s in group], with_enrollments=False)
            for stored in group:
                journeys.run(stored.workflow_id, stored.state)
            journeys.flush()
        return claimed

    claimed = transact(engine, work)
    if claimed:
        logger.debug("advanced due enrollments", extra={"action": "run_due", "count": len(claimed)})
    return len(claimed)


def run_until_idle(engine: Engine, clock: Clock, catalog: Catalog, *, batch: int = 500) -> int:
    """Run batches until nothing is due at the clock's current time; return the total."""
    total = 0
    while True:
        done = run_due(engine, clock, catalog, batch=batch)
        total += done
        if done < batch:
            return total
