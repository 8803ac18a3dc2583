"""Step 1 of a round, per workspace: each claimed message allowed and composed, deferred,
or dropped, with the reason on the contact's timeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from tidings.core.policies import WORKFLOW, Action, Verdict, decide
from tidings.delivery.preparers import Outbound, Workspace, prepare
from tidings.delivery.transports import Transports
from tidings.runtime.dispatching.facts import RecipientFacts, outgoing
from tidings.runtime.dispatching.round import Ready, Round, held_by, line
from tidings.runtime.supervision import is_outage
from tidings.storage import step_log
from tidings.storage.dialect import is_postgres
from tidings.storage.messages import MessageStatus
from tidings.storage.outbox import Lease, MessageOutcome
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)

_RESENT = (
    "sending again: the worker that had it stopped mid-send, so the first attempt may "
    "have reached the recipient"
)


@dataclass
class Written:
    """What deciding wrote: timeline lines, message outcomes, and the counts."""

    log: list[step_log.NewLine] = field(default_factory=list)
    outcomes: list[MessageOutcome] = field(default_factory=list)
    counts: Round = field(default_factory=Round)
    #: Journeys held at a send whose message is now dropped or failed: they go on.
    released: list[tuple[int, str]] = field(default_factory=list)

    def extend(self, other: Written) -> None:
        """Keep `other`'s lines, outcomes and counts too."""
        self.log.extend(other.log)
        self.outcomes.extend(other.outcomes)
        self.counts.add(other.counts)
        self.released.extend(other.released)

    def release(self, row: Row[Any]) -> None:
        """Let the journey `row` holds (if any) go on: its message will not go later."""
        held = held_by(row)
        if held is not None:
            self.released.append(held)


@dataclass
class Deciding:
    """What deciding one workspace's messages needs: where, when, and how to compose."""

    conn: Connection
    transports: Transports
    ws: Workspace
    now: datetime
    catalog: Catalog


def decide_workspace(how: Deciding, rows: list[Row[Any]], written: Written) -> list[Ready]:
    """Decide the workspace's messages; one whose deciding or composing raises fails alone.

    The normal path decides the workspace's messages together. Only when that raises
    is each message tried on its own (outputs thrown away) to find the ones that
    raise; those are marked failed with the reason, and the rest are decided together
    again, so caps still see every message of the round.
    """

    def together(some: list[Row[Any]], keep: bool = True) -> list[Ready]:
        # A failed try must leave no half of its lines and outcomes behind.
        part = Written()
        if is_postgres(how.conn):
            # A savepoint: on PostgreSQL a failed statement aborts the whole transaction,
            # and every later try (and the round's own writes) would fail with it.
            with how.conn.begin_nested():
                ready = _decide_all(how, some, part)
        else:
            # Deciding only reads (what it writes is kept in `part`), and on SQLite a
            # failed read leaves the transaction as it was: no savepoint to pay for.
            ready = _decide_all(how, some, part)
        if keep:
            written.extend(part)
        return ready

    def fail(row: Row[Any], exc: Exception) -> None:
        _fail_message(how, row, exc, written)

    try:
        return together(rows)
    except Exception as exc:
        if is_outage(exc):
            raise
    rest = [row for row, _ in _each_alone(rows, lambda r: together([r], keep=False), fail)]
    try:
        return together(rest)
    except Exception as exc:
        # Only a combination of messages raises: decide them one by one after all.
        if is_outage(exc):
            raise
    return [item for _, found in _each_alone(rest, lambda r: together([r]), fail) for item in found]


def _fail_message(how: Deciding, row: Row[Any], exc: Exception, written: Written) -> None:
    reason = step_log.failure_reason("internal error while deciding or composing", exc)
    logger.error(
        "message failed", exc_info=exc, extra={"action": "decide_failed", "message_id": row.id}
    )
    written.counts.failed += 1
    written.outcomes.append(MessageOutcome(row.id, MessageStatus.FAILED, last_error=reason))
    written.log.append(line(how.ws.id, row, "failed", reason, how.now))
    written.release(row)


def _each_alone(
    rows: list[Row[Any]],
    attempt: Callable[[Row[Any]], list[Ready]],
    fail: Callable[[Row[Any], Exception], None],
) -> list[tuple[Row[Any], list[Ready]]]:
    """`attempt` each row on its own: the rows that went through, with what they gave;
    a row that raises is handed to `fail`, except for an outage, which ends the round."""
    through: list[tuple[Row[Any], list[Ready]]] = []
    for row in rows:
        try:
            through.append((row, attempt(row)))
        except Exception as exc:
            if is_outage(exc):
                raise
            fail(row, exc)
    return through


def _decide_all(how: Deciding, rows: list[Row[Any]], written: Written) -> list[Ready]:
    """Decide the workspace's messages in priority order, each seeing the ones before
    it (a cap filled by an earlier message holds a later one); compose the allowed."""
    ws, now = how.ws, how.now
    facts = RecipientFacts.read(how.conn, ws, rows, now, how.catalog)
    decided: set[int] = set()
    ready: list[Ready] = []
    order = sorted(rows, key=lambda r: (r.contact_id, -r.priority, r.created_at, r.id))
    for row in order:
        circumstances = facts.of(row, decided)
        own = facts.workflow_of(row)
        verdict = decide(outgoing(row), circumstances, ws.settings.policies, now, own)
        decided.add(row.id)
        prepared = None
        if verdict.action is Action.ALLOW:
            prepared = _prepare(how, row)
            if isinstance(prepared, str):
                verdict = Verdict(Action.DROP, prepared, rule="address")
        if isinstance(prepared, Ready) and verdict.action is Action.ALLOW:
            prepared.allowed = verdict.reason
            ready.append(prepared)
            facts.count_sent(row, now)
            if prepared.lease.recovered:
                written.log.append(line(ws.id, row, "resent", _RESENT, now))
        else:
            _hold(how, row, verdict, written)
    return ready


def _prepare(how: Deciding, row: Row[Any]) -> Ready | str:
    """The send for an allowed message, or why it cannot be sent."""
    # Taken over from a worker that stopped after handing it to its channel.
    recovered = row.status == MessageStatus.SENDING and row.lease_until is not None
    message = Outbound.of(row)
    prepared = prepare(how.transports, how.ws, message, how.now)
    if isinstance(prepared, str):
        return prepared
    lease = Lease(row.id, message.payload, prepared.external_id, recovered)
    return Ready(row, prepared.send, lease)


def _hold(how: Deciding, row: Row[Any], verdict: Verdict, written: Written) -> None:
    """Write a deferred message back to the queue, or a dropped one out of it, with why."""
    ws, now = how.ws, how.now
    # Which rule, and (only when it is so) that the workflow's own policies set it.
    data: dict[str, Any] = {"rule": verdict.rule}
    if verdict.policy == WORKFLOW:
        data["policy"] = WORKFLOW
    if verdict.action is Action.DEFER:
        written.counts.deferred += 1
        written.outcomes.append(
            MessageOutcome(
                row.id, MessageStatus.QUEUED, last_error=verdict.reason, send_after=verdict.until
            )
        )
        written.log.append(line(ws.id, row, "deferred", verdict.reason, now, **data))
    else:
        written.counts.dropped += 1
        written.outcomes.append(
            MessageOutcome(row.id, MessageStatus.DROPPED, last_error=verdict.reason)
        )
        written.log.append(line(ws.id, row, "dropped", verdict.reason, now, **data))
        written.release(row)
