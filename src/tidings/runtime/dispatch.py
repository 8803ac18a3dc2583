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
from tidings.core.calendar import at_local, zone
from tidings.core.channels import ALERTS, TO_EMAIL_ADDRESSES, MessageChannel
from tidings.core.policies import Action, Circumstances, Outgoing, Policies, Verdict, decide
from tidings.core.retry import retry_delay
from tidings.delivery.preparers import Outbound, Workspace, prepare
from tidings.delivery.results import Bounce, Failed, Result, Sent
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.transports import Transports
from tidings.runtime import engagement
from tidings.runtime.supervision import LoopHealth, Supervisor, is_outage
from tidings.runtime.transactions import transact
from tidings.storage import outbox, step_log
from tidings.storage.messages import MessageStatus
from tidings.storage.outbox import Lease, Outcome
from tidings.storage.suppressions import suppressed
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import load_workspace

logger = logging.getLogger(__name__)


@dataclass
class _Ready:
    """A message allowed and composed, waiting for its channel."""

    row: Row[Any]
    send: Callable[[], Result]
    lease: Lease
    #: Why the policies allowed it, for the timeline's "sent" line.
    allowed: str = ""


@dataclass
class Round:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    #: The rows of the messages sent (the simulator answers them).
    sent_rows: list[Row[Any]] = field(default_factory=list)
    deferred: int = 0
    dropped: int = 0
    retried: int = 0
    failed: int = 0


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
        self._add(result)
        return result

    def _add(self, part: Round) -> None:
        for name in ("claimed", "sent", "deferred", "dropped", "retried", "failed"):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(part, name))

    def _wave(self, claimed: int) -> int:
        """How many of a round's messages go to their channels at once."""
        return min(max(self.concurrency, 1), claimed)

    def _start(self, item: _Ready) -> Future[Result]:
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
        outcomes: Sequence[tuple[_Ready, Result]],
        following: Sequence[_Ready],
    ) -> tuple[Round, list[_Ready]]:
        """Record the sends that just finished and lease the next ones, in one transaction.

        A send starts only once the outcomes before it are committed, so a worker killed
        at any instant leaves at most `concurrency` sends unrecorded: those in flight, which
        the next worker repeats and counts in `resends`.
        """
        # One look at the leases for both: the outcomes to write and the sends to start.
        both = [item for item, _ in outcomes] + list(following)
        still_ours = outbox.leased(conn, {i.row.id: i.row.attempts + 1 for i in both})
        recorded = self._record(conn, outcomes, still_ours)
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
    def _send(item: _Ready) -> Result:
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

    def _claim(self, conn: Connection, now: datetime) -> tuple[list[_Ready], Round]:
        result = Round()
        claimed = outbox.claim_messages(conn, now, self.batch, self.transports.names())
        result.claimed = len(claimed)
        if not claimed:
            return [], result
        by_workspace: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in claimed:
            by_workspace[row.workspace_id].append(row)
        ready: list[_Ready] = []
        log: list[step_log.NewLine] = []
        outcomes: list[Outcome] = []
        for workspace_id, rows in by_workspace.items():
            workspace = self._workspace(conn, workspace_id)
            if workspace is None:
                continue
            ready += self._decide_isolated(conn, workspace, rows, now, log, outcomes, result)
        leases = [r.lease for r in ready]
        outbox.mark_sending(conn, leases, now, now + self.lease, handed=self._wave(len(ready)))
        outbox.set_outcomes(conn, outcomes)
        step_log.append_lines(conn, log)
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

    def _decide_isolated(
        self,
        conn: Connection,
        ws: Workspace,
        rows: list[Row[Any]],
        now: datetime,
        log: list[step_log.NewLine],
        outcomes: list[Outcome],
        result: Round,
    ) -> list[_Ready]:
        """`_decide_all`, where a message whose deciding or composing raises fails alone.

        The normal path decides the workspace's messages together. Only when that raises
        is each message tried on its own (outputs thrown away) to find the ones that
        raise; those are marked failed with the reason, and the rest are decided together
        again, so caps still see every message of the round.
        """

        def decide(some: list[Row[Any]], keep: bool = True) -> list[_Ready]:
            # A failed try must leave no half of its lines and outcomes behind.
            part_log: list[step_log.NewLine] = []
            part_outcomes: list[Outcome] = []
            part = Round()
            # A savepoint: on PostgreSQL a failed statement aborts the whole transaction,
            # and every later try (and the round's own writes) would fail with it.
            with conn.begin_nested():
                ready = self._decide_all(conn, ws, some, now, part_log, part_outcomes, part)
            if keep:
                log.extend(part_log)
                outcomes.extend(part_outcomes)
                result.deferred += part.deferred
                result.dropped += part.dropped
            return ready

        def fail(row: Row[Any], exc: Exception) -> None:
            self._fail_message(ws, row, exc, now, log, outcomes, result)

        try:
            return decide(rows)
        except Exception as exc:
            if is_outage(exc):
                raise
        rest = [row for row, _ in _each_alone(rows, lambda r: decide([r], keep=False), fail)]
        try:
            return decide(rest)
        except Exception as exc:
            # Only a combination of messages raises: decide them one by one after all.
            if is_outage(exc):
                raise
        return [
            item for _, found in _each_alone(rest, lambda r: decide([r]), fail) for item in found
        ]

    @staticmethod
    def _fail_message(
        ws: Workspace,
        row: Row[Any],
        exc: Exception,
        now: datetime,
        log: list[step_log.NewLine],
        outcomes: list[Outcome],
        result: Round,
    ) -> None:
        reason = step_log.failure_reason("internal error while deciding or composing", exc)
        logger.error(
            "message failed", exc_info=exc, extra={"action": "decide_failed", "message_id": row.id}
        )
        result.failed += 1
        outcomes.append(Outcome(row.id, MessageStatus.FAILED, last_error=reason))
        log.append(_line(ws.id, row, "failed", reason, now))

    def _decide_all(
        self,
        conn: Connection,
        ws: Workspace,
        rows: list[Row[Any]],
        now: datetime,
        log: list[step_log.NewLine],
        outcomes: list[Outcome],
        result: Round,
    ) -> list[_Ready]:
        """Decide the workspace's messages in priority order, each seeing the ones before
        it (a cap filled by an earlier message holds a later one); compose the allowed."""
        facts = _Facts.read(conn, ws, rows, now)
        decided: set[int] = set()
        ready: list[_Ready] = []
        order = sorted(rows, key=lambda r: (r.contact_id, -r.priority, r.created_at, r.id))
        for row in order:
            circumstances = facts.of(row, decided)
            verdict = decide(_outgoing(row), circumstances, ws.settings.policies, now)
            decided.add(row.id)
            prepared = None
            if verdict.action is Action.ALLOW:
                prepared = self._prepare(ws, row, now)
                if isinstance(prepared, str):
                    verdict = Verdict(Action.DROP, prepared, rule="address")
            if isinstance(prepared, _Ready) and verdict.action is Action.ALLOW:
                prepared.allowed = verdict.reason
                ready.append(prepared)
                facts.count_sent(row, now)
                if prepared.lease.recovered:
                    log.append(_line(ws.id, row, "resent", _RESENT, now))
            else:
                _hold(ws, row, verdict, now, log, outcomes, result)
        return ready

    # ---------------------------------------------------------------- composing

    def _prepare(self, ws: Workspace, row: Row[Any], now: datetime) -> _Ready | str:
        """The send for an allowed message, or why it cannot be sent."""
        # Taken over from a worker that stopped after handing it to its channel.
        recovered = row.status == MessageStatus.SENDING and row.lease_until is not None
        message = Outbound.of(row)
        prepared = prepare(self.transports, ws, message, now)
        if isinstance(prepared, str):
            return prepared
        lease = Lease(row.id, message.payload, prepared.external_id, recovered)
        return _Ready(row, prepared.send, lease)

    # ---------------------------------------------------------------- step 3: record

    def _record(
        self, conn: Connection, outcomes: Sequence[tuple[_Ready, Result]], still_ours: set[int]
    ) -> Round:
        """Write the outcomes of the messages `still_ours`; return the messages sent, and
        how many were retried and given up."""
        now = self.clock.now()
        done = Round()
        rows: list[Outcome] = []
        log: list[step_log.NewLine] = []
        for item, outcome in outcomes:
            row = item.row
            if row.id not in still_ours:
                continue  # the lease ran out and another worker took the message over
            if isinstance(outcome, Sent):
                done.sent_rows.append(row)
                # Kept where the provider reports back by its own id (SMS status, Slack).
                reports_back = row.channel in (MessageChannel.SMS, MessageChannel.ALERT_SLACK)
                provider_id = outcome.provider_id if reports_back else None
                rows.append(Outcome(row.id, MessageStatus.SENT, provider_id=provider_id or None))
                detail = f"{row.channel} to {row.recipient}; {item.allowed}"
                log.append(_line(row.workspace_id, row, "sent", detail, now))
                continue
            attempts = row.attempts + 1
            if outcome.permanent or attempts >= self.max_attempts:
                done.failed += 1
                why = (
                    outcome.error
                    if outcome.permanent
                    else f"gave up after {attempts} attempts: {outcome.error}"
                )
                rows.append(Outcome(row.id, MessageStatus.FAILED, last_error=why))
                log.append(_line(row.workspace_id, row, "failed", why, now))
                self._after_failure(conn, row, outcome, now)
            else:
                done.retried += 1
                delay = retry_delay(attempts, self.retry_base, self.retry_cap, self.jitter())
                retry_at = now + delay
                rows.append(
                    Outcome(
                        row.id, MessageStatus.QUEUED, last_error=outcome.error, send_after=retry_at
                    )
                )
                detail = (
                    f"attempt {attempts} failed ({outcome.error}); retry at {retry_at:%H:%M:%S}"
                )
                log.append(_line(row.workspace_id, row, "retrying", detail, now))
        outbox.set_outcomes(conn, rows)
        step_log.append_lines(conn, log)
        return done

    def _after_failure(
        self, conn: Connection, row: Row[Any], outcome: Failed, now: datetime
    ) -> None:
        if outcome.gone:
            outbox.disable_endpoint(conn, row.workspace_id, row.recipient, "410 Gone", now)
        if outcome.bounce and row.channel in (MessageChannel.EMAIL, MessageChannel.SMS):
            engagement.bounced(
                conn,
                row.workspace_id,
                row.contact_id,
                channel=row.channel,
                address=row.recipient,
                kind=Bounce.HARD,
                reason=outcome.error,
                now=now,
                catalog=self.catalog,
                message=row,
            )


def _each_alone(
    rows: list[Row[Any]],
    attempt: Callable[[Row[Any]], list[_Ready]],
    fail: Callable[[Row[Any], Exception], None],
) -> list[tuple[Row[Any], list[_Ready]]]:
    """`attempt` each row on its own: the rows that went through, with what they gave;
    a row that raises is handed to `fail`, except for an outage, which ends the round."""
    through: list[tuple[Row[Any], list[_Ready]]] = []
    for row in rows:
        try:
            through.append((row, attempt(row)))
        except Exception as exc:
            if is_outage(exc):
                raise
            fail(row, exc)
    return through


def _hold(
    ws: Workspace,
    row: Row[Any],
    verdict: Verdict,
    now: datetime,
    log: list[step_log.NewLine],
    outcomes: list[Outcome],
    result: Round,
) -> None:
    """Write a deferred message back to the queue, or a dropped one out of it, with why."""
    if verdict.action is Action.DEFER:
        result.deferred += 1
        outcomes.append(
            Outcome(
                row.id, MessageStatus.QUEUED, last_error=verdict.reason, send_after=verdict.until
            )
        )
        log.append(_line(ws.id, row, "deferred", verdict.reason, now, rule=verdict.rule))
    else:
        result.dropped += 1
        outcomes.append(Outcome(row.id, MessageStatus.DROPPED, last_error=verdict.reason))
        log.append(_line(ws.id, row, "dropped", verdict.reason, now, rule=verdict.rule))


@dataclass
class _Facts:
    """What the policies need to know about a workspace's claimed messages, read once per
    round with their recipients locked, and kept current as messages are allowed."""

    policies: Policies
    people: dict[int, Any]
    #: Each contact's recent marketing sends: (at, channel, content digest or None).
    history: dict[int, list[tuple[datetime, str, str | None]]]
    #: Each contact's other due messages, competing for the same slots.
    rivals: dict[int, list[Any]]
    purchases: dict[int, datetime]
    alerts_today: int
    blocked: dict[tuple[str, str], str]
    gone: dict[str, str]

    @classmethod
    def read(cls, conn: Connection, ws: Workspace, rows: list[Row[Any]], now: datetime) -> _Facts:
        policies = ws.settings.policies
        contact_ids = sorted({r.contact_id for r in rows})
        people = outbox.lock_contacts(conn, contact_ids)
        # Caps and duplicate checks need each contact's recent sends; caps also the
        # messages competing for a slot.
        recipients = outbox.Recipients()
        if policies.caps or policies.duplicates is not None:
            recipients = outbox.marketing_of(
                conn,
                contact_ids,
                now - policies.history,
                now,
                contents=policies.duplicates is not None,
            )
        purchases: dict[int, datetime] = {}
        if policies.after_purchase is not None:
            purchases = outbox.last_events(conn, contact_ids, policies.after_purchase.event)
        alerts_today = 0
        if policies.alert_budget is not None and any(r.channel in ALERTS for r in rows):
            tz = zone(policies.timezone)
            midnight = at_local(now.astimezone(tz).date(), datetime.min.time(), tz)
            alerts_today = outbox.alerts_since(conn, ws.id, midnight)
        addresses = [a for a in (_address(r) for r in rows) if a is not None]
        webhooks = [r.recipient for r in rows if r.channel == MessageChannel.WEBHOOK]
        return cls(
            policies=policies,
            people=people,
            history=recipients.sent,
            rivals=recipients.due,
            purchases=purchases,
            alerts_today=alerts_today,
            blocked=suppressed(conn, ws.id, addresses, secret=ws.secret),
            gone=outbox.disabled_endpoints(conn, ws.id, webhooks),
        )

    def of(self, row: Row[Any], decided: set[int]) -> Circumstances:
        """The circumstances of `row`'s message; rivals already decided no longer compete."""
        person = self.people.get(row.contact_id)
        address = _address(row)
        sent = self.history.get(row.contact_id, ())
        is_webhook = row.channel == MessageChannel.WEBHOOK
        return Circumstances(
            consent=person.consent if person is not None else {},
            timezone=person.timezone if person is not None else None,
            suppressed=self.blocked.get(address) if address else None,
            endpoint_disabled=self.gone.get(row.recipient) if is_webhook else None,
            sent=tuple((at, channel) for at, channel, _ in sent),
            same_sent_at=_last_same(sent, row),
            rivals=tuple(
                r
                for r in self.rivals.get(row.contact_id, ())
                if r.id != row.id and r.id not in decided
            ),
            last_purchase_at=self.purchases.get(row.contact_id),
            alerts_today=self.alerts_today,
        )

    def count_sent(self, row: Row[Any], now: datetime) -> None:
        """Count an allowed message against the caps, duplicates and alert budget of the
        messages decided after it."""
        if row.kind == "marketing":
            twin = self.policies.duplicates is not None
            digest = outbox.content_digest_of(row) if twin else None
            self.history[row.contact_id].append((now, row.channel, digest))
        if row.channel in ALERTS:
            self.alerts_today += 1


_RESENT = (
    "sending again: the worker that had it stopped mid-send, so the first attempt may "
    "have reached the recipient"
)


def _last_same(sent: Sequence[tuple[datetime, str, str | None]], row: Row[Any]) -> datetime | None:
    """When the contact last got this very message (same content digest), if within the
    history read; None when the digests were not read (no duplicate rule)."""
    if not any(digest for _, _, digest in sent):
        return None
    digest = outbox.content_digest_of(row)
    return max((at for at, _, same in sent if same == digest), default=None)


def _address(row: Row[Any]) -> tuple[str, str] | None:
    if row.channel in TO_EMAIL_ADDRESSES:
        return ("email", row.recipient)
    if row.channel == MessageChannel.SMS:
        return ("phone", row.recipient)
    return None


def _outgoing(row: Row[Any]) -> Outgoing:
    return Outgoing(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        created_at=row.created_at,
        priority=row.priority,
        topic=(row.payload or {}).get("topic"),
        expires_at=row.expires_at,
    )


def _line(
    workspace_id: int, row: Row[Any], action: str, detail: str, now: datetime, **data: Any
) -> step_log.NewLine:
    return step_log.line(
        workspace_id,
        row.contact_id,
        action,
        detail,
        now,
        data={"message_id": row.id, **data},
        enrollment_id=row.enrollment_id,
        workflow_id=row.workflow_id,
        step_id=row.step_id,
    )
