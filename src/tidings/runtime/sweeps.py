"""Time-based triggers (inactivity, yearly dates) and segment membership, kept by periodic
sweeps."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Connection, Engine

from tidings.clock import Clock
from tidings.core.calendar import anniversaries_due, zone
from tidings.core.entry import LiveVersion
from tidings.core.spec import DateTrigger, InactivityTrigger, Reentry
from tidings.runtime.ingest import announce
from tidings.runtime.journeys import JourneyLimits, Journeys, Stopwatch
from tidings.runtime.scoring import decay_scores, load_scoring
from tidings.runtime.segments import refresh_segment
from tidings.runtime.supervision import is_outage
from tidings.runtime.transactions import transact
from tidings.storage import segments, sweeps
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)

#: Segment events are stored and reacted to this many at a time.
ANNOUNCE_CHUNK = 1000
#: A date trigger still fires if a sweep runs up to this long after its moment.
DATE_GRACE = timedelta(days=1)


def sweep_time_triggers(
    engine: Engine,
    clock: Clock,
    catalog: Catalog,
    *,
    batch: int = 1000,
    limits: JourneyLimits | None = None,
) -> int:
    """Enroll the contacts whose inactivity or date triggers are due; return how many.
    `limits` bounds each render the journeys they start make."""
    now = clock.now()
    timing = replace(limits or JourneyLimits(), batch_seconds=None)

    def work(conn: Connection) -> int:
        started = 0
        for workspace_id in sweeps.workspaces_with_live_workflows(conn):
            journeys = Journeys(conn, workspace_id, catalog, now, Stopwatch(timing))
            for workflow_id, deployed in journeys.live():
                if not isinstance(deployed.workflow.trigger, InactivityTrigger | DateTrigger):
                    continue  # an event trigger: nothing to sweep, no savepoint to open
                try:
                    # A savepoint: on PostgreSQL a failed query would end the transaction
                    # for every other workflow too. Entries are only written at flush.
                    with conn.begin_nested():
                        _sweep_workflow(conn, journeys, workflow_id, deployed, batch)
                except Exception as exc:
                    # A bad value or a bug in one workflow's sweep leaves the others (and the
                    # other workspaces) swept; the database going away ends the sweep.
                    if is_outage(exc):
                        raise
                    logger.exception(
                        "a time-trigger sweep failed; the other workflows are swept",
                        extra={"action": "sweep_time_triggers", "workflow_id": workflow_id},
                    )
            journeys.flush()
            started += journeys.started
        return started

    return transact(engine, work)


def _sweep_workflow(
    conn: Connection, journeys: Journeys, workflow_id: int, deployed: LiveVersion, batch: int
) -> None:
    trigger = deployed.workflow.trigger
    if isinstance(trigger, InactivityTrigger):
        once = deployed.workflow.entry.reentry is Reentry.ONCE
        found = sweeps.quiet_contacts(
            conn,
            journeys.workspace_id,
            workflow_id,
            trigger.event,
            journeys.now - trigger.for_,
            once,
            batch,
        )
        journeys.preload(found)
        for contact_id in found:
            journeys.enter(workflow_id, deployed, contact_id, None)
    elif isinstance(trigger, DateTrigger):
        _sweep_dates(conn, journeys, workflow_id, deployed, trigger, batch)


def sweep_segments(engine: Engine, clock: Clock, catalog: Catalog) -> int:
    """Recompute every segment for everyone, one transaction per segment, announcing who
    entered and left; return how many memberships changed."""
    with engine.connect() as conn:
        found = [
            (workspace_id, segment)
            for workspace_id in sweeps.workspaces_with_segments(conn)
            for segment in segments.list_segments(conn, workspace_id)
        ]
    changed = 0
    for workspace_id, segment in found:

        def work(conn: Connection, workspace_id: int = workspace_id, key: str = segment.key) -> int:
            now = clock.now()
            current = segments.find_segment(conn, workspace_id, key)
            if current is None:  # deleted since the list was read
                return 0
            changes, news = refresh_segment(conn, workspace_id, current, now)
            for start in range(0, len(news), ANNOUNCE_CHUNK):
                announce(conn, workspace_id, news[start : start + ANNOUNCE_CHUNK], now, catalog)
            return len(changes.entered) + len(changes.exited)

        changed += transact(engine, work)
    return changed


def sweep_scores(engine: Engine, clock: Clock, catalog: Catalog, *, batch: int = 1000) -> int:
    """Write down faded lead scores, a page of contacts per transaction, announcing the
    thresholds they fall below; return how many contacts were rescored."""
    with engine.connect() as conn:
        workspace_ids = sweeps.all_workspaces(conn)
    done = 0
    for workspace_id in workspace_ids:
        while True:

            def work(conn: Connection, workspace_id: int = workspace_id) -> int:
                scoring = load_scoring(conn, workspace_id)
                if not scoring.scores:
                    return 0
                now = clock.now()
                count, news = decay_scores(conn, workspace_id, scoring, now, batch)
                if news:
                    announce(conn, workspace_id, news, now, catalog)
                return count

            count = transact(engine, work)
            done += count
            if count < batch:
                break
    return done


def _sweep_dates(
    conn: Connection,
    journeys: Journeys,
    workflow_id: int,
    deployed: LiveVersion,
    trigger: DateTrigger,
    batch: int,
) -> None:
    """Enroll contacts whose yearly date (plus offset) fell due within the grace period.

    Python works out, per timezone in use, which month-days are due now; the database
    finds the contacts with those days. The re-entry period keeps one journey a year, and
    contacts enrolled or refused in the last two grace periods are not asked again.
    """
    now = journeys.now
    by_days: dict[tuple[str, ...], list[str]] = {}
    for name in sweeps.timezones_in_use(conn, journeys.workspace_id):
        days = anniversaries_due(now, zone(name), trigger.at, trigger.offset_days, DATE_GRACE)
        if days:
            by_days.setdefault(tuple(sorted(days)), []).append(name)
    if not by_days:
        return
    due = [(names, days) for days, names in by_days.items()]
    after = 0
    while True:
        page = sweeps.anniversary_contacts(
            conn,
            journeys.workspace_id,
            workflow_id,
            trigger.field,
            due,
            now - 2 * DATE_GRACE,
            after,
            batch,
        )
        if not page:
            return
        after = page[-1]
        journeys.preload(page)
        for contact_id in page:
            journeys.enter(workflow_id, deployed, contact_id, None)
