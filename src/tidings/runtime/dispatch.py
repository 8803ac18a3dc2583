"""The dispatcher: takes queued messages, applies send-time policies, sends, records.

Each round is three steps:

1. In one transaction: claim due messages (SKIP LOCKED on PostgreSQL), lock their
   recipients, decide each message's policy, compose the allowed ones, and mark them
   `sending`. Deferred and dropped messages are written with their reason. The first
   `concurrency` messages get a lease: they go to their channels as soon as this commits.
2. Outside any transaction: hand the leased messages to their channels, `concurrency` at
   a time.
3. As sends finish, in one transaction per group that finished together: record each
   outcome (sent, retry later with backoff, dead letter, bounce), only for messages whose
   lease is still ours, and lease as many of the round's next messages, which then go to
   their channels. Steps 2 and 3 repeat until the round is done.

The one window where a send can happen twice: a worker stops after a channel accepted a
message and before its outcome commits. At most `concurrency` messages are ever in that
window, because a message is leased only once the outcomes before it are recorded. When
the lease runs out, another worker sends the message again and counts it in `resends`
(and the step log says "resent"). Email keeps its Message-ID and webhooks their
`webhook-id` on the resend, so receivers can drop the copy. A worker that stops anywhere
else repeats nothing: before step 1 commits its claim never happened, and a claimed
message not yet leased was never handed to a channel, so the next worker sends it as a
first send.

This module runs the loop; its parts live in `tidings.runtime.dispatching`: the facts the
policies read, the decisions, and the recording of outcomes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Row

from tidings.clock import Clock
from tidings.delivery.preparers import Workspace
from tidings.delivery.results import Failed, Result
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.transports import Transports
from tidings.runtime.dispatching.decisions import Deciding, Written, decide_workspace
from tidings.runtime.dispatching.outcomes import Retrying, record
from tidings.runtime.dispatching.round import Ready, Round
from tidings.runtime.supervision import LoopHealth, Supervisor
from tidings.runtime.transactions import transact
from tidings.storage import enrollments, outbox, step_log
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import load_workspace

__all__ = ["Dispatcher", "Round"]

logger = logging.getLogger(__name__)


@dataclass
class Dispatcher:
    """Moves the outbox. `run_once` for one round; `run` loops until `stop` is set."""

    engine: Engine
    clock: Clock
    transports: Transports
    catalog: Catalog = field(default_factory=Catalog)
    batch: int = 100
    lease: timedelta = timedelta(minutes=5)
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    jitter: Callable[[], float] = random.random
    max_idle: float = 1.0
    #: Seconds a workspace's settings are kept before being read again.
    settings_ttl: float = 5.0
    #: Messages sent at once in a round (each thread keeps its own connection).
    concurrency: int = 8
    stop: threading.Event = field(default_factory=threading.Event)
    totals: Round = field(default_factory=Round)
    health: LoopHealth = field(default_factory=lambda: LoopHealth("dispatcher"))
    _workspaces: dict[int, tuple[float, Workspace]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None

    # ---------------------------------------------------------------- the loop

    def run(self) -> Round:
        """Send until `stop` is set, sleeping when nothing is due. A round that raises is
        logged and tried again after a backoff: only `stop` ends the loop."""
        self.health.idle_seconds = self.max_idle
        Supervisor(self.health, self.stop).run(self._round)
        return self.totals

    def _round(self) -> float:
        done = self.run_once()
        return self.max_idle if done.claimed < self.batch else 0.0

    def run_until_idle(self) -> list[Row[Any]]:
        """Rounds until nothing is due at the clock's time (tests, the simulator); return
        the messages sent."""
        sent: list[Row[Any]] = []
        while True:
            done = self.run_once()
            sent += done.sent_rows
            if done.claimed < self.batch:
                return sent

    def run_once(self) -> Round:
        """Claim, decide, send, record: one round."""
        now = self.clock.now()
        ready, result = transact(self.engine, lambda conn: self._claim(conn, now))
        self.health.progressed()
        first = self._wave(len(ready))
        waiting = deque(ready[first:])
        running = {self._start(item): item for item in ready[:first]}
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            outcomes = [(running.pop(done), done.result()) for done in finished]
            following = [waiting.popleft() for _ in outcomes if waiting]
            record = partial(self._record_and_hand, outcomes=outcomes, following=following)
            recorded, handed = transact(self.engine, record)
            # A heartbeat per group recorded: a round against a slow relay is not stuck.
            self.health.progressed()
            result.sent += len(recorded.sent_rows)
            result.sent_rows += recorded.sent_rows
            result.retried += recorded.retried
            result.failed += recorded.failed
            running.update((self._start(item), item) for item in handed)
        self.totals.add(result)
        return result

    def _wave(self, claimed: int) -> int:
        """How many of a round's messages go to their channels at once."""
        return min(max(self.concurrency, 1), claimed)

    def _start(self, item: Ready) -> Future[Result]:
        """Hand one message to its channel: on a sending thread, or here and now when the
        dispatcher sends one at a time."""
        if self.concurrency <= 1:
            done: Future[Result] = Future()
            done.set_result(self._send(item))
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="send")
        return self._pool.submit(self._send, item)

    def _record_and_hand(
        self,
        conn: Connection,
        outcomes: Sequence[tuple[Ready, Result]],
        following: Sequence[Ready],
    ) -> tuple[Round, list[Ready]]:
        """Record the sends that just finished and lease the next ones, in one transaction.

        A send starts only once the outcomes before it are committed, so a worker killed
        at any instant leaves at most `concurrency` sends unrecorded: those in flight, which
        the next worker repeats and counts in `resends`.
        """
        # One look at the leases for both: the outcomes to write and the sends to start.
        both = [item for item, _ in outcomes] + list(following)
        still_ours = outbox.leased(conn, {i.row.id: i.row.attempts + 1 for i in both})
        retrying = Retrying(self.retry_base, self.retry_cap, self.max_attempts, self.jitter)
        recorded = record(
            conn,
            outcomes,
            still_ours,
            now=self.clock.now(),
            retrying=retrying,
            catalog=self.catalog,
        )
        handed = [item for item in following if item.row.id in still_ours]
        outbox.hand_over(conn, [i.row.id for i in handed], self.clock.now() + self.lease)
        return recorded, handed

    def close(self) -> None:
        """Stop the sending threads and close the channels' connections."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.transports.close()

    @staticmethod
    def _send(item: Ready) -> Result:
        started = time.perf_counter()
        try:
            return item.send()
        except Exception as exc:  # a channel bug must not lose the round's other outcomes
            # ("message" is a LogRecord attribute of its own: extra may not reuse it.)
            logger.exception("channel failed", extra={"message_id": item.row.id})
            return Failed(f"internal error while sending: {exc!r}")
        finally:
            logger.debug(
                "sent",
                extra={"message_id": item.row.id, "seconds": time.perf_counter() - started},
            )

    # ---------------------------------------------------------------- step 1: claim

    def _claim(self, conn: Connection, now: datetime) -> tuple[list[Ready], Round]:
        result = Round()
        claimed = outbox.claim_messages(conn, now, self.batch, self.transports.names())
        result.claimed = len(claimed)
        if not claimed:
            return [], result
        by_workspace: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in claimed:
            by_workspace[row.workspace_id].append(row)
        ready: list[Ready] = []
        written = Written(counts=result)
        for workspace_id, rows in by_workspace.items():
            workspace = self._workspace(conn, workspace_id)
            if workspace is None:
                continue
            how = Deciding(conn, self.transports, workspace, now, self.catalog)
            ready += decide_workspace(how, rows, written)
        leases = [r.lease for r in ready]
        outbox.mark_sending(conn, leases, now, now + self.lease, handed=self._wave(len(ready)))
        outbox.set_outcomes(conn, written.outcomes)
        step_log.append_lines(conn, written.log)
        enrollments.release_held(conn, written.released, now)
        return ready, result

    def _workspace(self, conn: Connection, workspace_id: int) -> Workspace | None:
        """The workspace's secret and settings, read again after `settings_ttl` seconds."""
        cached = self._workspaces.get(workspace_id)
        if cached is not None and time.monotonic() - cached[0] < self.settings_ttl:
            return cached[1]
        record = load_workspace(conn, workspace_id)
        if record is None:
            return None
        settings = DeliverySettings.model_validate(record.settings)
        found = Workspace(record.id, record.secret, settings)
        self._workspaces[workspace_id] = (time.monotonic(), found)
        return found
