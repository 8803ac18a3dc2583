"""A person approves or rejects a paused journey."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, Engine

from tidings.clock import Clock
from tidings.core.advance import decide
from tidings.core.effects import StepLogEntry
from tidings.errors import NotFound
from tidings.runtime.journeys import JourneyLimits, Journeys, Stopwatch
from tidings.runtime.transactions import transact
from tidings.storage import approvals, enrollments
from tidings.storage.approvals import ApprovalStatus
from tidings.storage.workflows import Catalog


def decide_approval(
    engine: Engine,
    clock: Clock,
    catalog: Catalog,
    enrollment_id: int,
    *,
    approved: bool,
    by: str,
    comment: str | None = None,
    limits: JourneyLimits | None = None,
) -> str:
    """Apply the decision and run the journey on; return the enrollment's new status."""
    now = clock.now()

    def work(conn: Connection) -> str:
        stored = enrollments.load_enrollment(conn, enrollment_id, lock=True)
        if stored is None:
            raise NotFound(f"no enrollment {enrollment_id}")
        # Each render bounded as the server's settings say; no batch time: one journey.
        stopwatch = Stopwatch(replace(limits or JourneyLimits(), batch_seconds=None))
        journeys = Journeys(conn, stored.workspace_id, catalog, now, stopwatch)
        spec = catalog.version(conn, stored.workflow_id, stored.state.version)
        contact = journeys.contact(stored.state.contact_id)
        arms = journeys.arms(stored.workflow_id, stored.state.version, spec)
        result = decide(
            spec, stored.state, contact, now, approved=approved, by=by, arms=arms,
            time_limit=stopwatch.render_limit,
        )  # fmt: skip
        if result.state != stored.state:
            status = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
            approvals.close_approvals(conn, enrollment_id, status, by, now, comment=comment)
        journeys.save(stored.workflow_id, result.state)
        decisions = list(result.decisions)
        if comment and result.state != stored.state:
            # The decider's words sit in the contact's story next to the decision.
            said = StepLogEntry(enrollment_id, stored.state.contact_id, stored.state.step_id,
                            "commented", f"{by}: {comment}")  # fmt: skip
            # Right after the line that records the decision, before the steps it led to.
            decisions.insert(min(1, len(decisions)), said)
        journeys.log(tuple(decisions), stored.workflow_id, stored.state.version)
        journeys.apply(result.effects, stored.workflow_id)
        journeys.flush()
        return result.state.status.value

    return transact(engine, work)
