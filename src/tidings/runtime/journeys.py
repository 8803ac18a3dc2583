"""One transaction's journey work: run the core, interpret its effects, write once.

Ingest, the scheduler, approvals and the time sweeps all go through `Journeys`, so an
effect is interpreted in exactly one place.

Templates render inside these transactions, so journeys run against the clock: each
render within `JourneyLimits.render_seconds` of its thread's CPU time (the core stops it
and holds that message), and, in ingest, all journeys of one transaction within
`batch_seconds` of wall time. Past that, journeys the transaction starts or resumes are
saved where they stand, due at once, and the scheduler runs them in its own
transactions: the events are stored and answered without waiting for their templates.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, assert_never

from sqlalchemy import Connection

from tidings.core import Advanced
from tidings.core import advance as core_advance
from tidings.core.channels import MessageChannel, alert_channel
from tidings.core.conditions.ast import Behaviour
from tidings.core.effects import (
    CallWebhook,
    Effect,
    Enroll,
    Notify,
    RequestApproval,
    Resume,
    Save,
    SendMessage,
    Start,
    StepLogEntry,
    Transition,
    UpdateContact,
)
from tidings.core.entry import LiveVersion, Refused, admit, enter
from tidings.core.history import history_need, join_needs, summable, workflow_rules
from tidings.core.render import TimeLimit
from tidings.core.spec import SendStep, WinnerMetric, Workflow
from tidings.core.state import ContactView, EnrollmentState, EventView, WaitKind
from tidings.core.steps.update import apply_update
from tidings.runtime.approval_notices import approval_notices
from tidings.runtime.render_clock import render_cpu_seconds
from tidings.storage import (
    approvals,
    contacts,
    enrollments,
    events,
    experiments,
    messages,
    step_log,
)
from tidings.storage import segments as segment_store
from tidings.storage.approvals import ApprovalStatus
from tidings.storage.enrollments import Stored
from tidings.storage.messages import MessageStatus
from tidings.storage.workflows import Catalog, WorkspaceConfig

logger = logging.getLogger(__name__)

#: How deep `enroll` steps may chain inside one transaction (A enrolls into B into C ...).
MAX_ENROLL_DEPTH = 8
#: CPU seconds one template render may take: ordinary templates take well under a
#: millisecond, a catalogue of 100 items with 50 details each about 50 ms, and the
#: counted limits alone allow 150 ms (`python -m bench.render_worst`).
DEFAULT_RENDER_SECONDS = 0.1
#: Wall seconds the journeys of one ingest transaction may run before the rest wait for
#: the scheduler. Measured on a 2-core machine at a load of 11: a batch of 20 renders
#: that spend the node budget held its transaction 10 s without this limit and 1 s with
#: it; a batch of 1,000 ordinary events spent 0.4-0.7 s on its journeys.
DEFAULT_INGEST_JOURNEY_SECONDS = 0.5


@dataclass(frozen=True)
class JourneyLimits:
    """How long journeys may run, read from the settings; the clocks are parameters so
    that tests can drive them."""

    render_seconds: float = DEFAULT_RENDER_SECONDS
    #: Wall seconds all journeys of one transaction may run; None: no such limit.
    batch_seconds: float | None = None
    #: Judges each render: the thread's own CPU time, so a busy machine fails no render,
    #: less its garbage collections, which the template did not cause.
    render_clock: Callable[[], float] = render_cpu_seconds
    #: Judges the transaction: wall time, which is what holding the write lock costs.
    batch_clock: Callable[[], float] = time.monotonic


class Stopwatch:
    """The wall time one transaction's journeys have run, against its `batch_seconds`."""

    def __init__(self, limits: JourneyLimits | None = None) -> None:
        self.limits = limits or JourneyLimits()
        self.render_limit = TimeLimit(self.limits.render_seconds, self.limits.render_clock)
        self.spent = 0.0
        #: Journeys left due for the scheduler because the time was spent.
        self.deferred = 0

    def is_spent(self) -> bool:
        """Whether journeys started or resumed from now on wait for the scheduler."""
        budget = self.limits.batch_seconds
        return budget is not None and self.spent >= budget

    def time(self, run: Callable[[], Advanced]) -> Advanced:
        """Run one journey's core call, adding its wall time to the spent."""
        started = self.limits.batch_clock()
        try:
            return run()
        finally:
            self.spent += self.limits.batch_clock() - started


class _Tallies(Mapping[str, Mapping[str, tuple[int, int]]]):
    """A workflow's A/B tallies, read from the outbox on first use: most journey runs never
    reach a self-deciding send, and they should not pay for the query."""

    def __init__(self, conn: Connection, workflow_id: int, tests: dict[str, WinnerMetric]) -> None:
        self._conn, self._workflow_id, self._tests = conn, workflow_id, tests
        self._found: dict[str, dict[str, tuple[int, int]]] | None = None

    def _load(self) -> dict[str, dict[str, tuple[int, int]]]:
        if self._found is None:
            self._found = experiments.winner_tallies(self._conn, self._workflow_id, self._tests)
        return self._found

    def __getitem__(self, step_id: str) -> Mapping[str, tuple[int, int]]:
        if step_id not in self._tests:
            raise KeyError(step_id)
        return self._load()[step_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tests)

    def __len__(self) -> int:
        return len(self._tests)


_NO_TESTS: Mapping[str, Mapping[str, tuple[int, int]]] = {}


class Journeys:
    """Collects the writes of one transaction for one workspace, and flushes them together."""

    def __init__(
        self,
        conn: Connection,
        workspace_id: int,
        catalog: Catalog,
        now: datetime,
        stopwatch: Stopwatch | None = None,
    ) -> None:
        self.conn = conn
        #: Shared by every `Journeys` of one transaction (ingest's slow path makes several).
        self.stopwatch = stopwatch or Stopwatch()
        self.workspace_id = workspace_id
        self.catalog = catalog
        self.now = now
        self._contacts: dict[int, ContactView] = {}
        #: Segment keys by contact, for `contact.segments`; loaded with the contacts.
        self._segments: dict[int, frozenset[str]] = {}
        self._segments_read: set[int] = set()
        self._live_mention_segments: bool | None = None
        #: Each contact's history as read for those rules, once per transaction.
        self._history: dict[
            int, tuple[tuple[EventView, ...], Mapping[Behaviour, int | float | None]]
        ] = {}
        self._config: WorkspaceConfig | None = None
        self._live: list[tuple[int, LiveVersion]] | None = None
        self._dirty_contacts: set[int] = set()
        #: Whether any workflow changed a profile in this transaction (segments care).
        self.profiles_changed = False
        self._enrollments: dict[int, list[Stored]] = {}
        self._saves: dict[int, EnrollmentState] = {}
        self._log: list[step_log.NewLine] = []
        self._messages: list[dict[str, Any]] = []
        self._approvals: list[dict[str, Any]] = []
        self._workflow_ids: dict[str, int] = {}
        self._new: dict[int, Stored] = {}
        self._ids = enrollments.IdAllocator(conn)
        self._arms: dict[tuple[int, int], Mapping[str, Mapping[str, tuple[int, int]]]] = {}
        self.started = 0

    # ---------------------------------------------------------------- reads, cached

    def preload(self, contact_ids: list[int], *, with_enrollments: bool = True) -> None:
        """Load these contacts (and, unless told not to, their enrollments) in one query each."""
        missing = [c for c in contact_ids if c not in self._contacts]
        self._contacts.update(contacts.load_contacts(self.conn, missing))
        if with_enrollments:
            self._load_enrollments([c for c in contact_ids if c not in self._enrollments])

    def know_contacts(self, views: Iterable[ContactView]) -> None:
        """Take contacts the caller has already read, saving a query."""
        for view in views:
            self._contacts.setdefault(view.id, view)

    def config(self) -> WorkspaceConfig:
        """The workspace's live workflows, scoring model and segments, asked once per
        `Journeys`: one transaction (or one savepoint of it), so a publish committed before
        it began is seen, on every worker (`Catalog.config`)."""
        if self._config is None:
            self._config = self.catalog.config(self.conn, self.workspace_id)
        return self._config

    def live(self) -> list[tuple[int, LiveVersion]]:
        """The workspace's live workflows, highest priority first (see `config`); raises
        when one of their specs no longer loads."""
        if self._live is None:
            self._live = self.catalog.resolve(self.conn, self.config().live)
        return self._live

    def _asks_about_segments(self, mine: Iterable[Stored]) -> bool:
        """Whether a live workflow, or the version of one of these journeys, reads
        `contact.segments`."""
        # A stored version that no longer loads must fail its own journeys only, never
        # this question for others: then the segments are simply read.
        try:
            if self._live_mention_segments is None:
                live = self.live()
                self._live_mention_segments = any(_reads_segments(d.workflow) for _, d in live)
            return self._live_mention_segments or any(
                _reads_segments(self.catalog.version(self.conn, s.workflow_id, s.state.version))
                for s in mine
                if s.state.status.is_open
            )
        except Exception:  # any failure to load a spec: see above
            return True

    def _specs(self, mine: Iterable[Stored]) -> list[Workflow]:
        """The live workflows' versions, and those of these open journeys."""
        try:
            specs = [d.workflow for _, d in self.live()]
        except Exception:  # a live version that no longer loads fails its own journeys only
            specs = []
        for s in mine:
            if s.state.status.is_open:
                # A version that no longer loads fails its own journey, not this read.
                with contextlib.suppress(Exception):
                    specs.append(self.catalog.version(self.conn, s.workflow_id, s.state.version))
        return specs

    def _read_history(
        self, contact_id: int, mine: Iterable[Stored]
    ) -> tuple[tuple[EventView, ...], Mapping[Behaviour, int | float | None]]:
        """What the behaviour rules of the live workflows and of these journeys' versions
        read: the database adds up those it can (one query, no event rows), and the
        events of the others' names are read."""
        if contact_id not in self._history:
            specs = self._specs(mine)
            rules = dict.fromkeys(r for spec in specs for r in workflow_rules(spec) if summable(r))
            measures = events.contact_measures(self.conn, contact_id, list(rules), self.now)
            need = join_needs(history_need(spec) for spec in specs)
            history = (
                ()
                if need is None
                else events.contact_history(self.conn, contact_id, need.names, need.since(self.now))
            )
            self._history[contact_id] = (history, measures)
        return self._history[contact_id]

    def _read_segments(self, contact_ids: Iterable[int]) -> None:
        missing = [c for c in contact_ids if c not in self._segments_read]
        if missing:
            self._segments.update(segment_store.segments_of_contacts(self.conn, missing))
            self._segments_read.update(missing)

    def _load_enrollments(self, contact_ids: list[int]) -> None:
        for cid, stored in enrollments.load_for_contacts(self.conn, contact_ids).items():
            # States saved in this transaction but not flushed yet are newer than the rows,
            # and enrollments started in it have no rows yet.
            started_here = [n for n in self._new.values() if n.state.contact_id == cid]
            self._enrollments[cid] = [
                replace(s, state=self._saves[s.state.id]) if s.state.id in self._saves else s
                for s in [*stored, *started_here]
            ]
            for s in stored:
                self._workflow_ids[s.state.workflow_key] = s.workflow_id

    def contact(self, contact_id: int) -> ContactView:
        """The contact as this transaction has it, changes included."""
        if contact_id not in self._contacts:
            self.preload([contact_id], with_enrollments=False)
        view = self._contacts[contact_id]
        # What conditions read of the contact's place in segments and other journeys, as
        # this transaction has it (segments as stored before this batch's events). The
        # segments are read only when a workflow asks about them.
        mine = self.enrollments_of(contact_id)
        member_of: frozenset[str] = frozenset()
        if self._asks_about_segments(mine):
            self._read_segments([contact_id])
            member_of = self._segments.get(contact_id, frozenset())
        running = frozenset(s.state.workflow_key for s in mine if s.state.status.is_open)
        # The events behaviour rules count, read only when a workflow has such rules.
        history, measures = self._read_history(contact_id, mine)
        if (
            view.segments != member_of
            or view.journeys != running
            or view.history != history
            or view.measures != measures
        ):
            view = replace(
                view, segments=member_of, journeys=running, history=history, measures=measures
            )
            self._contacts[contact_id] = view
        return view

    def enrollments_of(self, contact_id: int) -> list[Stored]:
        """The contact's enrollments as this transaction has them."""
        if contact_id not in self._enrollments:
            self._load_enrollments([contact_id])
        return self._enrollments[contact_id]

    def with_specs(self, contact_id: int) -> list[tuple[Any, EnrollmentState]]:
        """The contact's enrollments paired with their versions' specs, for `react`."""
        return [
            (self.catalog.version(self.conn, s.workflow_id, s.state.version), s.state)
            for s in self.enrollments_of(contact_id)
        ]

    def arms(
        self, workflow_id: int, version: int, spec: Workflow
    ) -> Mapping[str, Mapping[str, tuple[int, int]]]:
        """Tallies for the workflow's sends that pick their own winner: read when a journey
        first reaches such a send in this transaction, then shared by the batch. Every
        journey run asks, so the answer (most often: none) is kept per workflow version."""
        key = (workflow_id, version)
        found = self._arms.get(key)
        if found is None:
            tests = {
                step.id: step.winner.metric
                for step in spec.steps
                if isinstance(step, SendStep) and step.winner is not None
            }
            found = _Tallies(self.conn, workflow_id, tests) if tests else _NO_TESTS
            self._arms[key] = found
        return found

    def know(self, workflow_id: int, deployed: LiveVersion) -> None:
        """Remember a live workflow's id by key."""
        self._workflow_ids[deployed.workflow.id] = workflow_id

    # ---------------------------------------------------------------- journeys

    def apply_transitions(self, transitions: tuple[Transition, ...]) -> None:
        """Carry out what `react` decided."""
        for transition in transitions:
            match transition:
                case Start(state=state):
                    self._admit_and_start(transition)
                case Resume(state=state):
                    if self._defers(state):
                        self.save(self._workflow_ids[state.workflow_key], state, before=state)
                    else:
                        self.run(self._workflow_ids[state.workflow_key], state)
                case Save(state=state):
                    self.save(self._workflow_ids[state.workflow_key], state)
                case _:
                    assert_never(transition)

    def _admit_and_start(self, decided: Start) -> None:
        """Start what `react` decided, unless the transaction started the same journey
        since (an `enroll` step run by an earlier transition): then log the refusal."""
        state = decided.state
        workflow_id = self._workflow_ids[state.workflow_key]
        spec = self.catalog.version(self.conn, workflow_id, state.version)
        past = [s.state for s in self.enrollments_of(state.contact_id)]
        outcome = admit(spec, decided, past, self.now)
        if isinstance(outcome, Refused):
            self.log((outcome.decision,), workflow_id, state.version)
            return
        self.start(workflow_id, state)

    def enter(
        self,
        workflow_id: int,
        deployed: LiveVersion,
        contact_id: int,
        trigger: EventView | None,
        depth: int = 0,
    ) -> None:
        """Enroll a contact if the workflow's entry rules allow; log the refusal otherwise."""
        self.know(workflow_id, deployed)
        past = [s.state for s in self.enrollments_of(contact_id)]
        outcome = enter(deployed, self.contact(contact_id), past, self.now, trigger)
        if isinstance(outcome, Refused):
            self.log((outcome.decision,), workflow_id, deployed.version)
            return
        self.start(workflow_id, outcome.state, depth)

    def start(self, workflow_id: int, state: EnrollmentState, depth: int = 0) -> EnrollmentState:
        """Begin a new enrollment and run it to its first wait; its row is written at flush."""
        state = replace(state, id=self._ids.next())
        stored = Stored(self.workspace_id, workflow_id, state)
        self._new[state.id] = stored
        self._saves[state.id] = state
        self.started += 1
        trigger = f" by {state.trigger.name}" if state.trigger else ""
        entered = StepLogEntry(state.id, state.contact_id, None, "enrolled", f"entered{trigger}")
        self.log((entered,), workflow_id, state.version)
        if state.contact_id in self._enrollments:
            self._enrollments[state.contact_id].append(stored)
        if self._defers(state):
            return state
        return self.run(workflow_id, state, depth)

    def _defers(self, state: EnrollmentState) -> bool:
        """Whether this active journey is left at its step for the scheduler: the
        transaction's time for journeys is spent. Its row is due at once (an active
        enrollment's wake time is when it entered, or now), so nothing waits long."""
        if not self.stopwatch.is_spent():
            return False
        self.stopwatch.deferred += 1
        logger.debug(
            "journey left for the scheduler",
            extra={"action": "journey_deferred", "enrollment_id": state.id},
        )
        return True

    def run(self, workflow_id: int, state: EnrollmentState, depth: int = 0) -> EnrollmentState:
        """Advance an enrollment until it waits or ends, and record all it did."""
        spec = self.catalog.version(self.conn, workflow_id, state.version)
        arms = self.arms(workflow_id, state.version, spec)
        contact = self.contact(state.contact_id)
        limit = self.stopwatch.render_limit
        result = self.stopwatch.time(
            lambda: core_advance(spec, state, contact, self.now, arms, time_limit=limit)
        )
        # result.contact already includes the run's updates; they are applied here once,
        # from the UpdateContact effects, like every other effect.
        self.save(workflow_id, result.state, before=state)
        self.log(result.decisions, workflow_id, state.version)
        self.apply(result.effects, workflow_id, depth)
        return result.state

    def save(
        self, workflow_id: int, state: EnrollmentState, before: EnrollmentState | None = None
    ) -> None:
        """Keep an enrollment's new state for the flush; `before` is its previous state."""
        self._saves[state.id] = state
        mine = self._enrollments.get(state.contact_id, [])
        for i, stored in enumerate(mine):
            if stored.state.id == state.id:
                before = before or stored.state
                mine[i] = replace(stored, state=state)
                break
        if before is not None:
            self._close_approval(before, state)

    def _close_approval(self, before: EnrollmentState, after: EnrollmentState) -> None:
        """A journey that stops waiting for a decision closes its request: expired when the
        deadline passed, cancelled when the journey left for another reason."""
        if before.wait_kind is not WaitKind.APPROVAL or after.wait_kind is WaitKind.APPROVAL:
            return
        timed_out = before.wake_at is not None and self.now >= before.wake_at
        status = ApprovalStatus.EXPIRED if timed_out else ApprovalStatus.CANCELLED
        approvals.close_approvals(self.conn, before.id, status, None, self.now)

    # ---------------------------------------------------------------- effects

    def apply(self, effects: tuple[Effect, ...], workflow_id: int, depth: int = 0) -> None:
        """Interpret the core's effects: the one place each kind is carried out."""
        for effect in effects:
            match effect:
                case SendMessage():
                    self._queue(
                        effect,
                        workflow_id,
                        channel=effect.channel,
                        kind=effect.kind,
                        recipient=effect.to,
                        subject=effect.subject,
                        body_html=effect.html,
                        body_text=effect.text,
                        priority=effect.priority,
                        expires_at=effect.expires_at,
                        payload={
                            "template": effect.template,
                            "variant": effect.variant,
                            "topic": effect.topic,
                            # The dispatcher lets the journey go on once this one goes.
                            **({"holds": True} if effect.holds else {}),
                        },
                    )
                case CallWebhook():
                    self._queue(
                        effect,
                        workflow_id,
                        channel=MessageChannel.WEBHOOK,
                        kind="transactional",
                        recipient=effect.url,
                        body_text=effect.body,
                        payload={
                            "url": effect.url,
                            "method": effect.method,
                            "headers": dict(effect.headers),
                        },
                    )
                case Notify():
                    self._queue(
                        effect,
                        workflow_id,
                        channel=alert_channel(effect.channel),
                        kind="internal",
                        recipient=effect.to,
                        body_text=effect.text,
                    )
                case UpdateContact():
                    self._contacts[effect.contact_id] = apply_update(
                        self.contact(effect.contact_id), effect
                    )
                    self._dirty_contacts.add(effect.contact_id)
                    self.profiles_changed = True
                case RequestApproval():
                    self._approvals.append(
                        {
                            "workspace_id": self.workspace_id,
                            "contact_id": effect.contact_id,
                            "enrollment_id": effect.enrollment_id,
                            "step_id": effect.step_id,
                            "attempt": effect.attempt,
                            "message": effect.message,
                            "approvers": list(effect.approvers),
                            "status": ApprovalStatus.PENDING,
                            "expires_at": effect.expires_at,
                            "created_at": self.now,
                        }
                    )
                    for notice in approval_notices(self.conn, self.workspace_id, effect):
                        self._queue(effect, workflow_id, kind="internal", **notice)
                case Enroll():
                    self._enroll(effect, depth)
                case _:
                    assert_never(effect)

    def _enroll(self, effect: Enroll, depth: int) -> None:
        found = self.catalog.by_key(self.conn, self.workspace_id, effect.workflow_key)
        if found is None or depth >= MAX_ENROLL_DEPTH:
            why = "is not active" if found is None else f"is {MAX_ENROLL_DEPTH} enrollments deep"
            line = StepLogEntry(
                effect.source_enrollment_id,
                effect.contact_id,
                None,
                "not_enrolled",
                f"{effect.workflow_key} {why}",
            )
            self._log_row(line, None, None)
            return
        workflow_id, deployed = found
        self.enter(workflow_id, deployed, effect.contact_id, None, depth + 1)

    def _queue(
        self,
        effect: SendMessage | CallWebhook | Notify | RequestApproval,
        workflow_id: int,
        **fields: Any,
    ) -> None:
        self._messages.append(
            {
                "workspace_id": self.workspace_id,
                "contact_id": effect.contact_id,
                "enrollment_id": effect.enrollment_id,
                "workflow_id": workflow_id,
                "step_id": effect.step_id,
                # An approval's notices bring their own keys, one per person told.
                "idempotency_key": getattr(effect, "idempotency_key", ""),
                "subject": None,
                "body_html": None,
                "body_text": None,
                "payload": {},
                "status": MessageStatus.QUEUED,
                "created_at": self.now,
                "send_after": self.now,
                "priority": 0,
                "expires_at": None,
                **fields,
            }
        )

    # ---------------------------------------------------------------- the log and the flush

    def log(
        self, decisions: tuple[StepLogEntry, ...], workflow_id: int | None, version: int | None
    ) -> None:
        """Keep step log lines for the flush."""
        for decision in decisions:
            self._log_row(decision, workflow_id, version)

    def _log_row(self, d: StepLogEntry, workflow_id: int | None, version: int | None) -> None:
        if workflow_id is None and d.workflow_key is not None:
            workflow_id = self._workflow_ids.get(d.workflow_key)
        self._log.append(
            step_log.line(
                self.workspace_id,
                d.contact_id,
                d.action,
                d.detail,
                self.now,
                data=d.data,
                enrollment_id=d.enrollment_id,
                workflow_id=workflow_id,
                version=version,
                step_id=d.step_id,
                enters=d.enters,
            )
        )

    def flush(self) -> None:
        """Write everything collected, in a handful of statements."""
        new = [replace(stored, state=self._saves[i]) for i, stored in self._new.items()]
        enrollments.insert_enrollments(self.conn, new)
        changed = (state for i, state in self._saves.items() if i not in self._new)
        enrollments.save_enrollments(self.conn, changed)
        contacts.save_contacts(
            self.conn, (self._contacts[c] for c in self._dirty_contacts), self.now
        )
        messages.enqueue_messages(self.conn, self._messages)
        approvals.request_approvals(self.conn, self._approvals)
        step_log.append_lines(self.conn, self._log)
        self._saves.clear()
        self._new.clear()
        self._dirty_contacts.clear()
        self._messages.clear()
        self._approvals.clear()
        self._log.clear()


def _reads_segments(spec: Workflow) -> bool:
    """Whether a workflow version's conditions or templates read `contact.segments`; kept
    on the (frozen, immutable) spec once known."""
    found: bool | None = spec.__dict__.get("_reads_segments")
    if found is None:
        found = "contact.segments" in spec.model_dump_json()
        spec.__dict__["_reads_segments"] = found
    return found
