"""Moving the journeys that wait in older versions of a workflow onto its current version:
the dry run, and the move itself, a batch per transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.clock import Clock
from tidings.core.moves import (
    MovePlan,
    Stranded,
    check_step_map,
    moved_request,
    moved_state,
    plan_moves,
)
from tidings.core.spec import Workflow
from tidings.core.state import ContactView, EnrollmentStatus
from tidings.errors import SpecInvalid, WorkflowNotFound
from tidings.runtime.approval_notices import queued_notices
from tidings.runtime.transactions import transact
from tidings.storage import moves, step_log
from tidings.storage.browse import get_workflow
from tidings.storage.enrollments import Stored
from tidings.storage.messages import enqueue_messages
from tidings.storage.step_log import NewLine
from tidings.storage.workflows import Catalog, spec_to_json

logger = logging.getLogger(__name__)

#: Journeys per transaction: each batch holds its rows' locks only while it runs.
BATCH = 500


@dataclass(frozen=True)
class MoveTarget:
    """The version journeys would move to."""

    workflow_id: int
    version: int
    spec: Workflow
    #: The older versions that have waiting journeys, by version.
    older: dict[int, Workflow]


def _target(
    conn: Connection, catalog: Catalog, workspace_id: int, key: str, new: Workflow | None
) -> MoveTarget:
    row = get_workflow(conn, workspace_id, key)
    if row is None:
        raise WorkflowNotFound(f"no workflow {key!r} in this workspace")
    current = catalog.version(conn, row.id, row.current_version)
    version, spec = row.current_version, current
    if new is not None and spec_to_json(new) != spec_to_json(current):
        # A spec not deployed yet: it would become the next version.
        version, spec = row.current_version + 1, new
    found = moves.waiting_versions(conn, row.id, version)
    older = {v: catalog.version(conn, row.id, v) for v in found}
    return MoveTarget(row.id, version, spec, older)


def _checked_map(target: MoveTarget, step_map: Mapping[str, str]) -> None:
    problems = check_step_map(step_map, target.older, target.spec) if step_map else []
    if problems:
        raise SpecInvalid("map", problems, kind="map")


def check_map(
    conn: Connection,
    catalog: Catalog,
    workspace_id: int,
    key: str,
    step_map: Mapping[str, str],
    new: Workflow,
) -> None:
    """Refuse (SpecInvalid) a map that would not fit `new`, the spec about to be published,
    and the older versions journeys wait in: checked before publishing, so a move asked for
    with the publish cannot fail on its map after the new version is live."""
    if get_workflow(conn, workspace_id, key) is not None:
        _checked_map(_target(conn, catalog, workspace_id, key, new), step_map)
        return
    # A first publish: nobody waits in an older version, but every target must still be a
    # wait of the new spec, or the move after the publish would fail on it.
    problems = check_step_map(step_map, {}, new)
    if problems:
        raise SpecInvalid("map", problems, kind="map")


def plan(
    engine: Engine,
    clock: Clock,
    catalog: Catalog,
    workspace_id: int,
    key: str,
    step_map: Mapping[str, str],
    new: Workflow | None = None,
) -> MovePlan:
    """The dry run: where each journey waiting in an older version of `key` would go on
    `new` (a spec about to be published) or on the current version; nothing changes."""
    now = clock.now()
    with engine.connect() as conn:
        target = _target(conn, catalog, workspace_id, key, new)
        _checked_map(target, step_map)
        result = MovePlan(target.version)
        after = 0
        while ids := moves.waiting_ids(conn, target.workflow_id, target.version, after, BATCH):
            found = moves.load_waiting(conn, ids)
            people = moves.contact_views(conn, [s.state.contact_id for s in found])
            result = result.joined(_plan(target, found, people, step_map, now))
            after = ids[-1]
    return result


def _plan(
    target: MoveTarget,
    found: list[Stored],
    people: Mapping[int, ContactView],
    step_map: Mapping[str, str],
    now: datetime,
) -> MovePlan:
    waiting = [
        moves.as_waiting(s.state, people.get(s.state.contact_id))
        for s in found
        if s.state.status is EnrollmentStatus.WAITING and s.state.version < target.version
    ]
    return plan_moves(target.older, target.spec, target.version, waiting, step_map, now)


def apply(
    engine: Engine,
    clock: Clock,
    catalog: Catalog,
    workspace_id: int,
    key: str,
    step_map: Mapping[str, str],
    *,
    batch: int = BATCH,
) -> MovePlan:
    """Move the journeys waiting in older versions of `key` onto its current version, as
    the dry run says, a batch per transaction; return what was done.

    Each batch locks its contacts, as ingest does, then its journeys, passing by those a
    worker holds (SKIP LOCKED, as workers do with each other's claims; they are tried again
    after the rest), and plans again on what it finds under the locks: a journey an event
    or the scheduler moved on meanwhile is planned afresh or left alone. A journey's row is
    written only if it still stands where the plan found it, and the scheduler's claim
    passes by the rows a batch holds: a move never races a tick into running a step twice.
    """
    done = MovePlan(0)
    busy: list[int] = []
    after = 0
    while True:

        def work(
            conn: Connection, after: int = after, now: datetime = clock.now()
        ) -> tuple[MovePlan, list[int], int]:
            target = _target(conn, catalog, workspace_id, key, None)
            if after == 0:
                # Later batches find fewer older versions waiting: the map is checked once.
                _checked_map(target, step_map)
            ids = moves.waiting_ids(conn, target.workflow_id, target.version, after, batch)
            if not ids:
                return MovePlan(target.version), [], after
            return (*_move_batch(conn, workspace_id, target, ids, step_map, now), ids[-1])

        result, skipped, last = transact(engine, work)
        done, busy = done.joined(result), busy + skipped
        if last == after:
            break
        after = last
    for _ in range(BUSY_ROUNDS):
        if not busy:
            break

        def again(
            conn: Connection, ids: tuple[int, ...] = tuple(busy), now: datetime = clock.now()
        ) -> tuple[MovePlan, list[int]]:
            target = _target(conn, catalog, workspace_id, key, None)
            return _move_batch(conn, workspace_id, target, list(ids), step_map, now)

        result, busy = transact(engine, again)
        done = done.joined(result)
    done = done.joined(_still_busy(engine, clock, busy, done.to_version))
    logger.info(
        "moved waiting journeys",
        extra={"action": "move", "moved": len(done.moves), "stranded": len(done.stranded)},
    )
    return done


#: How many times journeys a worker was running are tried again before they are reported.
BUSY_ROUNDS = 3
BUSY = "a worker was running it during the move; run the move again"


def _still_busy(engine: Engine, clock: Clock, busy: list[int], to_version: int) -> MovePlan:
    """Journeys a worker held through every round: counted as staying, never left out,
    each with its `not_migrated` line like any journey that stays."""
    if not busy:
        return MovePlan(to_version)

    def work(conn: Connection, now: datetime = clock.now()) -> MovePlan:
        found = [
            s
            for s in moves.load_waiting(conn, busy)
            if s.state.status is EnrollmentStatus.WAITING and s.state.version < to_version
        ]
        stays = [
            Stranded(s.state.id, s.state.contact_id, s.state.version, s.state.step_id or "", BUSY)
            for s in found
        ]
        step_log.append_lines(
            conn,
            [
                _stay_line(s.workspace_id, s.workflow_id, stay, now)
                for s, stay in zip(found, stays, strict=True)
            ],
        )
        return MovePlan(to_version, stranded=tuple(stays))

    return transact(engine, work)


def _move_batch(
    conn: Connection,
    workspace_id: int,
    target: MoveTarget,
    ids: list[int],
    step_map: Mapping[str, str],
    now: datetime,
) -> tuple[MovePlan, list[int]]:
    """Move one batch in the caller's transaction; return what it did and the ids a
    worker held."""
    contacts = [s.state.contact_id for s in moves.load_waiting(conn, ids)]
    people = moves.contact_views(conn, contacts, lock=True)
    # Read again now that the contacts are locked: an event handled meanwhile may have
    # moved a journey on, and the plan must be made on what is there now.
    fresh = moves.load_waiting(conn, ids, lock=True)
    held = set(ids) - {s.state.id for s in fresh}
    result = _plan(target, fresh, people, step_map, now)
    return _write(conn, workspace_id, target, fresh, people, result, now), sorted(held)


def _write(
    conn: Connection,
    workspace_id: int,
    target: MoveTarget,
    found: list[Stored],
    people: Mapping[int, ContactView],
    result: MovePlan,
    now: datetime,
) -> MovePlan:
    states = {s.state.id: s.state for s in found}
    lines = []
    written = []
    notices: list[dict[str, Any]] = []
    for move in result.moves:
        before = states[move.enrollment_id]
        after = moved_state(before, move, target.version)
        if not moves.move_enrollment(conn, before, after):
            continue
        written.append(move)
        request = moved_request(target.spec, after, people[move.contact_id], now)
        # The pending request takes the new step's approvers and message: only they may
        # decide now, and they are told (those told of this step and visit already are not).
        if request is not None and moves.move_approval(conn, move, request):
            notices += queued_notices(conn, workspace_id, target.workflow_id, request, now)
        lines.append(
            step_log.line(
                workspace_id,
                move.contact_id,
                "migrated",
                f"from version {move.from_version} step {move.from_step} to version "
                f"{target.version} step {move.to_step}; {move.deadline}",
                now,
                data={
                    "from_version": move.from_version,
                    "from_step": move.from_step,
                    "to_version": target.version,
                    "to_step": move.to_step,
                },
                enrollment_id=move.enrollment_id,
                workflow_id=target.workflow_id,
                version=target.version,
                step_id=move.to_step,
            )
        )
    lines += [_stay_line(workspace_id, target.workflow_id, s, now) for s in result.stranded]
    step_log.append_lines(conn, lines)
    enqueue_messages(conn, notices)
    return MovePlan(result.to_version, tuple(written), result.stranded)


def _stay_line(workspace_id: int, workflow_id: int, stay: Stranded, now: datetime) -> NewLine:
    return step_log.line(
        workspace_id,
        stay.contact_id,
        "not_migrated",
        f"stays on version {stay.from_version} at {stay.from_step}: {stay.reason}",
        now,
        enrollment_id=stay.enrollment_id,
        workflow_id=workflow_id,
        version=stay.from_version,
        step_id=stay.from_step,
    )
