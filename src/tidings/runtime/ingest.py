"""Ingest: a batch of calls becomes contacts, events and journeys in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.clock import Clock
from tidings.core.react import DEFAULT_TRIGGER_HORIZON, react
from tidings.core.state import ContactView, EventView
from tidings.runtime import segments as segment_changes
from tidings.runtime.journeys import JourneyLimits, Journeys, Stopwatch
from tidings.runtime.merges import AliasCall, apply_alias
from tidings.runtime.scoring import score_batch, scoring_of
from tidings.runtime.segments import Announcement
from tidings.runtime.supervision import is_outage
from tidings.runtime.transactions import transact
from tidings.storage import contacts, events, step_log
from tidings.storage.contacts import Identity
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)

#: The event name stored for an identify call, so profile changes are on the timeline.
IDENTIFY = "$identify"


@dataclass(frozen=True)
class Incoming:
    """One tracked event or identify call, already validated."""

    message_id: str
    user_id: str | None
    name: str  # IDENTIFY for identify calls
    timestamp: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)
    traits: Mapping[str, Any] = field(default_factory=dict)
    anonymous_id: str | None = None

    @property
    def identity(self) -> Identity:
        """Who the call is about."""
        return Identity(self.user_id, self.anonymous_id, self.traits)


@dataclass
class IngestReport:
    """What a batch did."""

    stored: int = 0
    duplicates: int = 0
    enrolled: int = 0


def ingest(
    engine: Engine,
    workspace_id: int,
    items: Sequence[Incoming | AliasCall],
    clock: Clock,
    catalog: Catalog,
    trigger_horizon: timedelta = DEFAULT_TRIGGER_HORIZON,
    limits: JourneyLimits | None = None,
    then: Callable[[Connection], None] | None = None,
) -> IngestReport:
    """Store a batch and react to it; everything commits together or not at all, with what
    `then` writes after the calls (a form's consent proofs).

    Calls run in order: an alias in the middle of a batch merges the profiles before the
    calls after it are stored. `limits` bounds each render, and the time the batch's
    journeys may hold the transaction: past it, the journeys it starts or resumes are
    left due for the scheduler.
    """
    now = clock.now()

    def work(conn: Connection) -> IngestReport:
        report = IngestReport()
        stopwatch = Stopwatch(limits)
        for run in _runs(items):
            if isinstance(run, AliasCall):
                applied = apply_alias(conn, workspace_id, run, now)
                report.stored += int(applied)
                report.duplicates += int(not applied)
                continue
            part = ingest_in(
                conn, workspace_id, run, now, catalog, trigger_horizon, stopwatch=stopwatch
            )
            report.stored += part.stored
            report.duplicates += part.duplicates
            report.enrolled += part.enrolled
        if then is not None:
            then(conn)
        if stopwatch.deferred:
            logger.info(
                "the batch's time for journeys is spent; the scheduler runs the rest",
                extra={"action": "journeys_deferred", "count": stopwatch.deferred},
            )
        return report

    return transact(engine, work)


def _score(
    conn: Connection,
    workspace_id: int,
    fresh: Sequence[tuple[Incoming, int]],
    new_ids: Mapping[str, int | None],
    journeys: Journeys,
    now: datetime,
) -> tuple[list[Announcement], bool]:
    """Points for the batch's events, fit re-checked for its contacts (after the journeys'
    own profile updates); returns threshold crossings to announce, and whether scoring is
    on (scores may have changed)."""
    scoring = scoring_of(journeys.config())
    if not scoring.scores:
        return [], False
    happened = [
        (cid, EventView(i.name, i.properties, i.timestamp, new_ids[i.message_id]))
        for i, cid in fresh
        if i.name != IDENTIFY
    ]
    profiles = {cid: journeys.contact(cid) for _, cid in fresh}
    return score_batch(conn, workspace_id, scoring, happened, profiles, now), True


def _react_to(
    journeys: Journeys,
    fresh: Sequence[tuple[Incoming, int]],
    new_ids: Mapping[str, int | None],
    trigger_horizon: timedelta,
) -> None:
    """Run the live workflows on the new events, in order, and write what they did."""
    live = journeys.live()
    for workflow_id, deployed in live:
        journeys.know(workflow_id, deployed)
    journeys.preload(list({owner for _, owner in fresh}))
    seen: set[str] = set()
    for item, contact_id in fresh:
        if item.message_id in seen:
            continue  # the same message id twice in one batch is one event
        seen.add(item.message_id)
        event = EventView(item.name, item.properties, item.timestamp, new_ids[item.message_id])
        reacted = react(
            event,
            journeys.contact(contact_id),
            [d for _, d in live],
            journeys.with_specs(contact_id),
            journeys.now,
            trigger_horizon,
        )
        journeys.log(reacted.decisions, None, None)
        journeys.apply_transitions(reacted.transitions)
    journeys.flush()


def _react_one_by_one(
    conn: Connection,
    workspace_id: int,
    catalog: Catalog,
    now: datetime,
    fresh: Sequence[tuple[Incoming, int]],
    new_ids: Mapping[str, int | None],
    trigger_horizon: timedelta,
    stopwatch: Stopwatch,
) -> Journeys:
    """The slow path after a batch's journeys failed: each event in its own savepoint, so
    the one that fails is logged on its contact's timeline and its neighbours still run.

    Returns a `Journeys` holding the totals, for the profile reads that follow.
    """
    total = Journeys(conn, workspace_id, catalog, now, stopwatch)
    seen: set[str] = set()
    for item, contact_id in fresh:
        if item.message_id in seen:
            continue  # the same message id twice in one batch is one event
        seen.add(item.message_id)
        journeys = Journeys(conn, workspace_id, catalog, now, stopwatch)
        try:
            with conn.begin_nested():
                _react_to(journeys, [(item, contact_id)], new_ids, trigger_horizon)
        except Exception as exc:
            if is_outage(exc):
                raise
            logger.exception(
                "workflows failed on an event",
                extra={"action": "react", "message_id": item.message_id, "contact_id": contact_id},
            )
            why = step_log.failure_reason(f"{item.name} is stored, but its workflows failed", exc)
            step_log.append_lines(
                conn, [step_log.line(workspace_id, contact_id, "failed", why, now)]
            )
            continue
        total.started += journeys.started
        total.profiles_changed |= journeys.profiles_changed
    return total


def _runs(items: Sequence[Incoming | AliasCall]) -> list[list[Incoming] | AliasCall]:
    """Consecutive events grouped (they are stored in bulk), aliases alone between them."""
    runs: list[list[Incoming] | AliasCall] = []
    for item in items:
        if isinstance(item, AliasCall):
            runs.append(item)
        elif runs and isinstance(runs[-1], list):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def ingest_in(
    conn: Connection,
    workspace_id: int,
    items: Sequence[Incoming],
    now: datetime,
    catalog: Catalog,
    trigger_horizon: timedelta = DEFAULT_TRIGGER_HORIZON,
    *,
    stopwatch: Stopwatch | None = None,
) -> IngestReport:
    """`ingest` inside a transaction the caller holds."""
    report = IngestReport()
    if not items:
        return report
    views = contacts.upsert_contacts(conn, workspace_id, [i.identity for i in items], now)
    owners = [views[i.identity.key].id for i in items]
    return _store_and_react(
        conn,
        workspace_id,
        items,
        owners,
        views=views.values(),
        now=now,
        catalog=catalog,
        trigger_horizon=trigger_horizon,
        stopwatch=stopwatch or Stopwatch(),
    )


def record_events(
    conn: Connection,
    workspace_id: int,
    items: Sequence[tuple[int, Incoming]],
    now: datetime,
    catalog: Catalog,
    *,
    follow_segments: bool = True,
    stopwatch: Stopwatch | None = None,
) -> IngestReport:
    """Store events about known contacts (opens, clicks, unsubscribes, bounces, segment
    changes) and let workflows react to them, in the caller's transaction."""
    if not items:
        return IngestReport()
    found = contacts.load_contacts(conn, {contact_id for contact_id, _ in items})
    kept = [(contact_id, item) for contact_id, item in items if contact_id in found]
    return _store_and_react(
        conn,
        workspace_id,
        [item for _, item in kept],
        [contact_id for contact_id, _ in kept],
        views=found.values(),
        now=now,
        catalog=catalog,
        trigger_horizon=DEFAULT_TRIGGER_HORIZON,
        follow_segments=follow_segments,
        stopwatch=stopwatch or Stopwatch(),
        # Opens and clicks leave profiles alone, but unsubscribes, consent changes and
        # bounces change consent before they are recorded: assume a profile changed.
        changes_profiles=True,
    )


def announce(
    conn: Connection,
    workspace_id: int,
    news: Sequence[Announcement],
    now: datetime,
    catalog: Catalog,
    stopwatch: Stopwatch | None = None,
) -> IngestReport:
    """Store segment entries and exits as events, and let workflows react to them."""
    items = [
        (
            a.contact_id,
            Incoming(a.message_id, None, a.name, now, properties=a.properties),
        )
        for a in news
    ]
    return record_events(
        conn, workspace_id, items, now, catalog, follow_segments=False, stopwatch=stopwatch
    )


def _store_and_react(  # noqa: PLR0913 (keyword-only after the events and their owners)
    conn: Connection,
    workspace_id: int,
    items: Sequence[Incoming],
    owners: Sequence[int],
    *,
    views: Iterable[ContactView],
    now: datetime,
    catalog: Catalog,
    trigger_horizon: timedelta,
    stopwatch: Stopwatch,
    follow_segments: bool = True,
    changes_profiles: bool = False,
) -> IngestReport:
    """Insert the events (`owners[i]` is the contact of `items[i]`), run the journeys, and
    bring the segments these events can change up to date for these contacts."""
    report = IngestReport()
    rows = [
        {
            "workspace_id": workspace_id,
            "contact_id": owner,
            "message_id": i.message_id,
            "name": i.name,
            "properties": dict(i.traits if i.name == IDENTIFY else i.properties),
            "occurred_at": i.timestamp,
            "received_at": now,
        }
        for i, owner in zip(items, owners, strict=True)
    ]
    new_ids = events.insert_events(conn, rows)
    report.stored = len(new_ids)
    report.duplicates = len(items) - len(new_ids)

    fresh = [
        (i, owner)
        for i, owner in zip(items, owners, strict=True)
        if new_ids.get(i.message_id) is not None
    ]
    # The events are stored; whatever the workflows make of them must not take them back.
    try:
        with conn.begin_nested():
            journeys = Journeys(conn, workspace_id, catalog, now, stopwatch)
            journeys.know_contacts(views)
            _react_to(journeys, fresh, new_ids, trigger_horizon)
    except Exception as exc:
        if is_outage(exc):
            raise  # the database itself failed: the caller's transaction retries or reports it
        logger.exception(
            "workflows failed on a batch; reacting event by event",
            extra={"action": "react_batch", "workspace_id": workspace_id},
        )
        journeys = _react_one_by_one(
            conn, workspace_id, catalog, now, fresh, new_ids, trigger_horizon, stopwatch
        )
    report.enrolled = journeys.started
    if follow_segments:
        news, scored = _score(conn, workspace_id, fresh, new_ids, journeys, now)
        touched = [(contact_id, item.name) for item, contact_id in fresh]
        profiles_changed = (
            changes_profiles
            or scored
            or journeys.profiles_changed
            or any(item.name == IDENTIFY for item, _ in fresh)
        )
        news += segment_changes.follow_events(
            conn,
            workspace_id,
            touched,
            now,
            profiles_changed,
            defined=journeys.config().segments,
        )
        if news:
            announced = announce(conn, workspace_id, news, now, catalog, stopwatch)
            report.enrolled += announced.enrolled
    return report
