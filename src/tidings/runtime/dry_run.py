"""A dry run: the real engine on a copy of the workspace, on a virtual clock.

The workspace's settings (policies, sender), scoring model, segments and suppressions, the
workflows under test and a sample of contacts with their history are copied into a scratch
SQLite database. Then the events are replayed there, in time order, through the real
ingest, scheduler, sweeps and dispatcher; the dispatcher's transport records instead of
sending. The source database is only read: nothing is sent and nothing real changes.

What the copy cannot know: contacts' profiles, scores before the window and segment
memberships are taken as they are now, and journeys the contacts had before are not
copied (in the dry run, nobody has been in the workflows under test before). Messages sent
before the replay begins are copied (caps and the duplicate check count them); those other
workflows sent during the replayed window are not. Nobody opens or clicks the dry run's
messages: conditions on opens and clicks of them take their "no" arm.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from tidings.clock import VirtualClock
from tidings.core.duration import format_days
from tidings.core.errors import ConditionSyntaxError
from tidings.core.history import join_needs, need_of_rules, rules_need, rules_of
from tidings.core.scoring import values
from tidings.core.spec import InactivityTrigger, Workflow
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.transports import Recorder, Transports
from tidings.errors import ConfigError
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.dry_summary import DryRunSummary, never_fired, summarize
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest, record_events
from tidings.runtime.merges import AliasCall
from tidings.runtime.scheduler import run_until_idle
from tidings.runtime.scoring import load_scoring
from tidings.runtime.sweeps import sweep_scores, sweep_segments, sweep_time_triggers
from tidings.storage import copies, scores
from tidings.storage.dry_runs import event_counts, next_send_after, tally
from tidings.storage.engine import SECRET_KEY_OPTION, create_engine
from tidings.storage.enrollments import next_wake_at
from tidings.storage.migrate import upgrade
from tidings.storage.segments import list_segments
from tidings.storage.workflows import Catalog, deploy_workflow
from tidings.storage.workspaces import load_workspace

#: The most contacts a dry run copies (`--sample`, `--contacts all`).
MAX_CONTACTS = 10_000
#: The most events a dry run replays (from a file or from the sample's history).
MAX_EVENTS = 200_000
#: The most virtual days a dry run goes on after its last event.
MAX_DAYS = 90
#: The longest history window a dry run replays.
MAX_SINCE = timedelta(days=365)
#: The most rows of history from before the replay a dry run copies (events the
#: conditions read, score awards, messages sent).
MAX_HISTORY = 1_000_000
#: How often time-based triggers, scores and segments are swept on the virtual clock.
SWEEP_EVERY = timedelta(hours=6)
#: The smallest step of the virtual clock: events within it are replayed together, at its
#: end (so a run always moves on, and a month of history is not replayed minute by minute).
_MIN_STEP = timedelta(minutes=5)
#: Where a dry run's links point: nowhere real.
DRY_RUN_URL = "https://tidings.invalid"


class DryRunTooBig(ConfigError):
    """A dry run asked for more than its limits allow."""


@dataclass(frozen=True)
class ContactSample:
    """Which real contacts to copy, and how far back their history is replayed."""

    #: How many contacts to draw at random; None for all of them.
    contacts: int | None
    since: timedelta = timedelta(days=30)
    seed: int = 7


@dataclass(frozen=True)
class Limits:
    """What one dry run may take."""

    contacts: int = MAX_CONTACTS
    events: int = MAX_EVENTS
    days: float = MAX_DAYS
    #: Rows of history from before the replay.
    history: int = MAX_HISTORY
    #: Wall-clock seconds; None for no limit (the CLI), set by the API.
    seconds: float | None = None


@dataclass(frozen=True)
class _Due:
    """One thing to replay at its time: a stored event of a copied contact (by id), or
    a call from an events file (through ingest, as if it had just arrived)."""

    at: datetime
    contact_id: int | None
    item: Incoming | AliasCall


def _time_of(item: Incoming | AliasCall) -> datetime:
    return item.timestamp


def dry_run(  # noqa: PLR0913 (keyword-only options)
    source: Engine,
    workspace_id: int,
    workflows: Sequence[tuple[Workflow, str]],
    now: datetime,
    *,
    calls: Sequence[Incoming | AliasCall] = (),
    where: Sequence[str] = (),
    sample: ContactSample | None = None,
    days: float = 7,
    limits: Limits = Limits(),
    rejected: int = 0,
    label: str = "",
) -> DryRunSummary:
    """Run `workflows` on a copy of the workspace; return what they would have done.

    `calls` (from an events file; `where` says where each is in it, for errors) and the
    `sample`'s history from `now - sample.since` to `now` are replayed; the virtual clock
    then runs `days` more so waits can end.
    """
    _check(sample, calls, days, limits)
    _check_span(sample, calls, where, now)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tidings-dry-run-") as folder:
        # The same TIDINGS_SECRET_KEY as the source, so its suppressions are recognised.
        key = source.get_execution_options().get(SECRET_KEY_OPTION)
        scratch = create_engine(f"sqlite:///{Path(folder) / 'dry-run.db'}", secret_key=key)
        try:
            upgrade(scratch)
            begin = now - sample.since if sample is not None else now
            if calls:
                begin = min(begin, min(_time_of(c) for c in calls))
            deadline = started + limits.seconds if limits.seconds is not None else None
            with source.connect() as src, scratch.begin() as dst:
                due, contacts = _copy(
                    src,
                    dst,
                    workspace_id,
                    [w for w, _ in workflows],
                    sample,
                    (begin, now),
                    limits,
                    _stopwatch(deadline, "copying the sample"),
                )
                for workflow, text in workflows:
                    deploy_workflow(dst, workspace_id, workflow, text, begin)
            due += [_Due(_time_of(c), None, c) for c in calls]
            if len(due) > limits.events:
                raise DryRunTooBig(
                    f"{len(due):,} events to replay (the file's and the sample's history);"
                    f" a dry run replays at most {limits.events:,}"
                )
            due.sort(key=lambda d: d.at)
            end = max([begin] + [d.at for d in due]) + timedelta(days=days)
            _replay(scratch, workspace_id, due, begin, end, deadline, sample)
            with scratch.connect() as conn:
                found = tally(conn, workspace_id)
                occurred = event_counts(conn, workspace_id, begin)
        finally:
            scratch.dispose()
    summaries = [summarize(w, found) for w, _ in workflows]
    warnings = [
        never_fired(w, occurred)
        for (w, _), s in zip(workflows, summaries, strict=True)
        if not s.entered
    ]
    return DryRunSummary(
        source=label,
        contacts=contacts,
        events=len(due),
        rejected=rejected,
        started_at=begin,
        ended_at=end,
        workflows=summaries,
        top_events=dict(occurred.most_common(10)),
        warnings=warnings,
    )


def _check(
    sample: ContactSample | None, calls: Sequence[object], days: float, limits: Limits
) -> None:
    if sample is not None and sample.contacts is not None and sample.contacts > limits.contacts:
        raise DryRunTooBig(
            f"--sample {sample.contacts:,}: a dry run copies at most {limits.contacts:,} contacts"
        )
    if sample is not None and not timedelta(0) < sample.since <= MAX_SINCE:
        raise DryRunTooBig(f"--since: the history window is from 1 minute to {MAX_SINCE.days} days")
    if len(calls) > limits.events:
        raise DryRunTooBig(
            f"--events: {len(calls):,} calls; a dry run replays at most {limits.events:,}"
        )
    if not 0 <= days <= limits.days:
        raise DryRunTooBig(f"--days {days:g}: a dry run goes on at most {limits.days:g} days")


def _check_span(
    sample: ContactSample | None,
    calls: Sequence[Incoming | AliasCall],
    where: Sequence[str],
    now: datetime,
) -> None:
    """Refuse a replay longer than `MAX_SINCE`, from the sample's window or the file's
    earliest call to the file's latest call or now: one mistyped year would otherwise
    make the virtual clock step through decades (and the sample's history reach back as
    far)."""
    if not calls:
        return

    def named(index: int) -> str:
        return where[index] if index < len(where) else f"call {index + 1}"

    first = min(range(len(calls)), key=lambda i: _time_of(calls[i]))
    last = max(range(len(calls)), key=lambda i: _time_of(calls[i]))
    start, start_is = _time_of(calls[first]), f"{named(first)} of the file"
    stop, stop_is = _time_of(calls[last]), f"{named(last)} of the file"
    if sample is not None:
        if now - sample.since < start:
            start, start_is = now - sample.since, "the start of the sample's history (--since)"
        if now > stop:
            stop, stop_is = now, "now (the end of the sample's history)"
    if stop - start > MAX_SINCE:
        raise DryRunTooBig(
            f"--events: {stop_is} is at {stop:%Y-%m-%d %H:%M}, {(stop - start).days:,} days"
            f" after {start_is} at {start:%Y-%m-%d %H:%M}; a dry run replays at most"
            f" {MAX_SINCE.days} days: correct the timestamp or split the file"
        )


def _stopwatch(deadline: float | None, doing: str) -> Callable[[], None]:
    """A check that stops the run once past `deadline` (time.monotonic), saying why."""

    def check() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise DryRunTooBig(
                f"the dry run took longer than it may ({doing}); sample fewer contacts, replay"
                " a shorter window or fewer days"
            )

    return check


def _lookback(
    dst: Connection, workspace_id: int, workflows: Sequence[Workflow]
) -> timedelta | None:
    """How long before the replay the copy needs the contacts' events: the longest `within`
    of the behaviour rules of the workflows under test and of the segments, and the
    longest inactivity trigger (the last event before its quiet spell is enough); None
    when a rule reads all time. Events older than that change nothing, so are not copied."""
    # Every rule's events, summed or not: the copy's database adds up the summed ones.
    needs = [rules_need(w) for w in workflows]
    for segment in list_segments(dst, workspace_id):
        try:
            needs.append(need_of_rules(rules_of(segment.parsed)))
        except ConditionSyntaxError:
            return None  # a segment that no longer parses: read everything, as before
    need = join_needs(needs)
    spans = [timedelta(0)] + [
        w.trigger.for_ for w in workflows if isinstance(w.trigger, InactivityTrigger)
    ]
    if need is not None:
        if need.window is None:
            return None
        spans.append(need.window)
    return max(spans)


def _copy(
    src: Connection,
    dst: Connection,
    workspace_id: int,
    workflows: Sequence[Workflow],
    sample: ContactSample | None,
    window: tuple[datetime, datetime],
    limits: Limits,
    tick: Callable[[], None],
) -> tuple[list[_Due], int]:
    """Copy the workspace and the sample; return the sample's events to replay and how
    many contacts were copied. `window` is when the replay begins and the sample's
    history ends; `tick` stops a run past its time."""
    begin, now = window
    copies.copy_workspace(src, dst, workspace_id)
    if sample is None:
        return [], 0
    if sample.contacts is None:
        total = copies.count_workspace_contacts(src, workspace_id)
        if total > limits.contacts:
            raise DryRunTooBig(
                f"--contacts all: the workspace has {total:,} contacts; a dry run copies at"
                f" most {limits.contacts:,}: use --sample N"
            )
    tick()
    ids = copies.sample_contact_ids(src, workspace_id, sample.contacts, sample.seed)
    lookback = _lookback(dst, workspace_id, workflows)
    copied = copies.copy_contacts(
        src,
        dst,
        ids,
        begin,
        events_since=None if lookback is None else begin - lookback,
        limit=limits.history,
        tick=tick,
    )
    # What the contacts were sent before the replay, for the caps and the duplicate check.
    record = load_workspace(dst, workspace_id)
    if record is not None and copied <= limits.history:
        history = DeliverySettings.model_validate(record.settings).policies.history
        copied += copies.copy_sent_messages(src, dst, ids, begin - history, begin, tick)
    if copied > limits.history:
        back = (
            "all their events"
            if lookback is None
            else f"their events of the {format_days(lookback)} before"
        )
        raise DryRunTooBig(
            f"the sample's history before {begin:%Y-%m-%d %H:%M} has more than"
            f" {limits.history:,} rows to copy ({back}, as the conditions read them, score"
            " awards and messages sent): use a smaller --sample"
        )
    _score_at(dst, workspace_id, ids, begin)
    rows = copies.events_between(src, ids, begin, now, limits.events, tick)
    if len(rows) > limits.events:
        raise DryRunTooBig(
            f"the sample's history has more than {limits.events:,} events since"
            f" {begin:%Y-%m-%d %H:%M}: use a smaller --sample or a shorter --since"
        )
    due = [
        _Due(
            r.occurred_at,
            r.contact_id,
            # An identify call's stored properties are its traits.
            Incoming(
                r.message_id,
                None,
                r.name,
                r.occurred_at,
                properties={} if r.name == IDENTIFY else r.properties,
                traits=r.properties if r.name == IDENTIFY else {},
            ),
        )
        for r in rows
    ]
    return due, len(ids)


def _score_at(dst: Connection, workspace_id: int, ids: Sequence[int], begin: datetime) -> None:
    """Lead scores as the ledger had them when the replay begins (the awards after it are
    made again by the replay)."""
    scoring = load_scoring(dst, workspace_id)
    if not scoring.scores or not ids:
        return
    ledgers = scores.ledgers(dst, ids)
    scores.save_scores(dst, {c: values(scoring, ledgers.get(c, []), begin) for c in ids}, begin)


def _replay(
    engine: Engine,
    workspace_id: int,
    due: list[_Due],
    begin: datetime,
    end: datetime,
    deadline: float | None,
    sample: ContactSample | None,
) -> None:
    """Move the virtual clock from `begin` to `end`, stopping wherever something happens:
    an event, a wake-up, a message due, a sweep."""
    clock = VirtualClock(begin)
    catalog = Catalog()
    recorder = Recorder()
    dispatcher = Dispatcher(
        engine,
        clock,
        Transports(DRY_RUN_URL, http=recorder, smtp=recorder, sms=recorder),
        catalog,
        batch=500,
        concurrency=1,
        jitter=random.Random(sample.seed if sample else 7).random,
    )
    next_sweep, at = begin, 0
    too_long = _stopwatch(deadline, "replaying")
    try:
        while True:
            now = clock.now()
            start = at
            while at < len(due) and due[at].at <= now:
                at += 1
            _feed(engine, workspace_id, due[start:at], clock, catalog)
            if now >= next_sweep:
                sweep_time_triggers(engine, clock, catalog)
                sweep_scores(engine, clock, catalog)
                sweep_segments(engine, clock, catalog)
                next_sweep = now + SWEEP_EVERY
            run_until_idle(engine, clock, catalog)
            dispatcher.run_until_idle()
            too_long()
            if now >= end:
                return
            moments = [end, next_sweep]
            if at < len(due):
                moments.append(due[at].at)
            with engine.connect() as conn:
                moments += [m for m in (next_wake_at(conn), next_send_after(conn)) if m]
            clock.set(max(min(moments), now + _MIN_STEP))
    finally:
        dispatcher.close()


def _feed(
    engine: Engine, workspace_id: int, due: list[_Due], clock: VirtualClock, catalog: Catalog
) -> None:
    """Replay what is due: the sample's stored events as events of their contacts, the
    file's calls through ingest."""
    stored = [(d.contact_id, d.item) for d in due if d.contact_id is not None]
    if stored:
        with engine.begin() as conn:
            record_events(
                conn,
                workspace_id,
                [(c, i) for c, i in stored if isinstance(i, Incoming)],
                clock.now(),
                catalog,
            )
    calls = [d.item for d in due if d.contact_id is None]
    if calls:
        ingest(engine, workspace_id, calls, clock, catalog)
