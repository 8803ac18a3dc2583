"""Per-workflow, per-version, per-step and per-day figures, from the enrollments, step log,
outbox and the events that name a message.

Each count is of what happened inside the period, by the moment it happened: entries by
`entered_at`, sends by `sent_at`, opens by `opened_at` (set by the tracking pixel and the
click redirect, once per message), conversions by `converted_at`. What is
waiting is as of now, whatever the period. Every query groups the whole workspace at once,
so the cost does not grow with the number of workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
)

from tidings.storage.tables import (
    OPEN_STATUSES,
    enrollments,
    events,
    messages,
    step_log,
)
from tidings.storage.workflows import Catalog, list_workflows

#: Events that name the message they are about and count against it.
UNSUBSCRIBED, BOUNCED = "unsubscribed", "message_bounced"


@dataclass(frozen=True)
class Period:
    """From `since` (included) to `until` (excluded); either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of_days(cls, first: date | None, last: date | None) -> Period:
        """Whole UTC days, `first` to `last` included; an end at the edge of the calendar
        is an open end."""
        since = datetime.combine(first, time.min, UTC) if first else None
        until = None
        if last is not None and last < date.max:
            until = datetime.combine(last + timedelta(days=1), time.min, UTC)
        return cls(since, until)

    def holds(self, column: Any) -> ColumnElement[bool]:
        """SQL: the column's moment lies inside the period (and is set)."""
        parts: list[ColumnElement[bool]] = [column.is_not(None)]
        if self.since is not None:
            parts.append(column >= self.since)
        if self.until is not None:
            parts.append(column < self.until)
        return and_(true(), *parts)


def earlier(moment: datetime, by: timedelta) -> datetime:
    """`moment` moved `by` earlier, stopping at the calendar's first day."""
    floor = datetime.min.replace(tzinfo=UTC)
    return moment - by if moment - floor > by else floor


def message_reference(conn: Connection) -> ColumnElement[int]:
    """SQL: the message id an event names in its `message_id` property, or null.

    Anyone can send an event called `unsubscribed` with any properties; a `message_id`
    that is not a number must not make the cast fail and the report with it."""
    prop = events.c.properties["message_id"]
    if conn.dialect.name == "postgresql":
        return case(
            (
                func.jsonb_typeof(prop) == "number",
                cast(prop.as_float(), BigInteger),
            ),
            else_=null(),
        )
    return case(
        (func.json_type(events.c.properties, "$.message_id") == "integer", prop.as_integer()),
        else_=null(),
    )


def day_of(conn: Connection, column: ColumnElement[Any]) -> ColumnElement[str]:
    """SQL: the UTC calendar day of a moment, as YYYY-MM-DD text."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


@dataclass(kw_only=True)
class Figures:
    """The counts reported for a workflow and for each of its steps."""

    entered: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: float = 0.0
    unsubscribed: int = 0
    bounced: int = 0
    #: Messages sent again because a worker stopped mid-send (the receiver may have two).
    resends: int = 0
    exited: int = 0
    waiting: int = 0


@dataclass(kw_only=True)
class StepFigures(Figures):
    """What happened at one step. `exited` and `waiting` count those who stopped *here*;
    `left` those who ended here without converting; `drop_off` the share of arrivals that
    went no further."""

    step_id: str
    kind: str
    left: int = 0
    drop_off: float | None = None


@dataclass(kw_only=True)
class VersionFigures:
    """Enrollments on one version of a workflow."""

    version: int
    entered: int = 0
    converted: int = 0
    revenue: float = 0.0
    exited: int = 0
    waiting: int = 0


@dataclass(kw_only=True)
class DayFigures:
    """One UTC day of a workflow."""

    day: str
    entered: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: float = 0.0
    #: Of the journeys that entered this day, how many have converted (on any day): the
    #: day's conversion rate counts the same people above and below the line.
    entered_converted: int = 0
    #: Of the messages sent this day, how many were clicked (on any day).
    sent_clicked: int = 0


@dataclass(kw_only=True)
class WorkflowFigures(Figures):
    """What happened in one workflow: in total, per version, step by step and day by day."""

    key: str
    name: str
    version: int
    status: str = "active"
    has_goal: bool = False
    completed: int = 0
    steps: list[StepFigures] = field(default_factory=list)
    versions: list[VersionFigures] = field(default_factory=list)
    days: list[DayFigures] = field(default_factory=list)


def workflow_figures(
    conn: Connection,
    workspace_id: int,
    catalog: Catalog,
    period: Period = Period(),
    *,
    daily: bool = False,
    version: int | None = None,
) -> list[WorkflowFigures]:
    """Figures for every workflow in the workspace, steps in the order of the current
    version; with `daily`, a row per UTC day that saw activity. With `version`, only the
    journeys on that version count, and the steps are that version's (a workflow without
    it shows its current steps, with nothing counted)."""
    wf_rows = list_workflows(conn, workspace_id)
    by_id: dict[int, WorkflowFigures] = {}
    steps: dict[tuple[int, str], StepFigures] = {}
    for wf in wf_rows:
        shown = version if version is not None and version <= wf.current_version else None
        spec = catalog.version(conn, wf.id, shown or wf.current_version)
        figures = WorkflowFigures(
            key=wf.key,
            name=wf.name,
            version=shown or wf.current_version,
            status=wf.status.value,
            has_goal=spec.goal is not None,
        )
        figures.steps = [StepFigures(step_id=s.id, kind=s.type) for s in spec.steps]
        for step in figures.steps:
            steps[(wf.id, step.step_id)] = step
        by_id[wf.id] = figures
    if not by_id:
        return []
    scope = _Scope(period, version)
    _enrollment_totals(conn, workspace_id, scope, by_id)
    _stopped_at_steps(conn, workspace_id, scope, steps)
    _step_entries(conn, workspace_id, scope, steps)
    _message_counts(conn, workspace_id, scope, steps)
    _message_events(conn, workspace_id, scope, steps)
    for figures in by_id.values():
        for name in _SUMMED:
            setattr(figures, name, sum(getattr(s, name) for s in figures.steps))
        for step in figures.steps:
            if step.entered and step.kind != "exit":
                step.drop_off = (step.waiting + step.left) / step.entered
    if daily:
        _days(conn, workspace_id, scope, by_id)
    return list(by_id.values())


#: The step counts a workflow's figures add up.
_SUMMED = ("sent", "delivered", "opened", "clicked", "unsubscribed", "bounced", "resends")


@dataclass(frozen=True)
class _Scope:
    """What the figures cover: a period, and perhaps one version's journeys."""

    period: Period
    version: int | None

    def enrollments(self) -> ColumnElement[bool]:
        e = enrollments.c
        return true() if self.version is None else e.version == self.version

    def log(self) -> ColumnElement[bool]:
        return true() if self.version is None else step_log.c.version == self.version

    def messages(self) -> ColumnElement[bool]:
        if self.version is None:
            return true()
        on_version = select(enrollments.c.id).where(enrollments.c.version == self.version)
        return messages.c.enrollment_id.in_(on_version)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _enrollment_totals(
    conn: Connection, workspace_id: int, scope: _Scope, by_id: dict[int, WorkflowFigures]
) -> None:
    e, period = enrollments.c, scope.period
    ended = period.holds(e.ended_at)
    rows = conn.execute(
        select(
            e.workflow_id,
            e.version,
            _count_if(period.holds(e.entered_at)),
            _count_if(period.holds(e.converted_at)),
            func.coalesce(func.sum(case((period.holds(e.converted_at), e.revenue), else_=0.0)), 0),
            _count_if(and_(ended, e.status == "exited")),
            _count_if(and_(ended, e.status == "completed")),
            _count_if(e.status.in_(OPEN_STATUSES)),
        )
        .where(e.workspace_id == workspace_id, scope.enrollments())
        .group_by(e.workflow_id, e.version)
        .order_by(e.workflow_id, e.version)
    )
    for workflow_id, version, entered, converted, revenue, exited, completed, waiting in rows:
        figures = by_id.get(workflow_id)
        if figures is None:
            continue
        figures.versions.append(
            VersionFigures(
                version=version,
                entered=entered,
                converted=converted,
                revenue=float(revenue),
                exited=exited,
                waiting=waiting,
            )
        )
        figures.entered += entered
        figures.converted += converted
        figures.revenue += float(revenue)
        figures.exited += exited
        figures.completed += completed
        figures.waiting += waiting


def _stopped_at_steps(
    conn: Connection, workspace_id: int, scope: _Scope, steps: dict[tuple[int, str], StepFigures]
) -> None:
    """Where journeys stand or ended: waiting at a step now, or ended there in the period."""
    e, period = enrollments.c, scope.period
    waiting = e.status.in_(OPEN_STATUSES)
    ended = and_(e.status.in_(("exited", "completed")), period.holds(e.ended_at))
    rows = conn.execute(
        select(
            e.workflow_id,
            e.step_id,
            _count_if(waiting),
            _count_if(and_(ended, e.status == "exited")),
            _count_if(and_(ended, e.converted_at.is_(None))),
        )
        .where(e.workspace_id == workspace_id, e.step_id.is_not(None), scope.enrollments())
        .group_by(e.workflow_id, e.step_id)
    )
    for workflow_id, step_id, waiting_here, exited_here, left_here in rows:
        if (step := steps.get((workflow_id, step_id))) is not None:
            step.waiting, step.exited, step.left = waiting_here, exited_here, left_here


def _step_entries(
    conn: Connection, workspace_id: int, scope: _Scope, steps: dict[tuple[int, str], StepFigures]
) -> None:
    """Arrivals at each step, and how many of those journeys converted and for how much."""
    s, e = step_log.c, enrollments.c
    arrivals = and_(
        s.workspace_id == workspace_id, s.enters.is_(True), scope.period.holds(s.at), scope.log()
    )
    for workflow_id, step_id, count in conn.execute(
        select(s.workflow_id, s.step_id, func.count())
        .where(arrivals)
        .group_by(s.workflow_id, s.step_id)
    ):
        if (step := steps.get((workflow_id, step_id))) is not None:
            step.entered = count
    # A journey that passed a step twice still converted once; count it once per step.
    passed = select(s.workflow_id, s.step_id, s.enrollment_id).where(arrivals).distinct().subquery()
    for workflow_id, step_id, count, revenue in conn.execute(
        select(
            passed.c.workflow_id,
            passed.c.step_id,
            func.count(),
            func.coalesce(func.sum(e.revenue), 0.0),
        )
        .join(enrollments, e.id == passed.c.enrollment_id)
        .where(e.converted_at.is_not(None))
        .group_by(passed.c.workflow_id, passed.c.step_id)
    ):
        if (step := steps.get((workflow_id, step_id))) is not None:
            step.converted, step.revenue = count, float(revenue)


#: The channels whose sends are messages to people; webhooks and internal alerts that
#: workflows also queue are calls, not messages, and "sent" does not count them.
MESSAGE_CHANNELS = ("email", "sms")


def _is_message_sent() -> ColumnElement[bool]:
    return and_(messages.c.status == "sent", messages.c.channel.in_(MESSAGE_CHANNELS))


def _message_counts(
    conn: Connection, workspace_id: int, scope: _Scope, steps: dict[tuple[int, str], StepFigures]
) -> None:
    m, period = messages.c, scope.period
    rows = conn.execute(
        select(
            m.workflow_id,
            m.step_id,
            _count_if(and_(_is_message_sent(), period.holds(m.sent_at))),
            _count_if(period.holds(m.opened_at)),
            _count_if(period.holds(m.clicked_at)),
            # A resend is counted with the send it repeated: in the period of its sent_at.
            func.coalesce(func.sum(case((period.holds(m.sent_at), m.resends), else_=0)), 0),
        )
        .where(m.workspace_id == workspace_id, m.workflow_id.is_not(None), scope.messages())
        .group_by(m.workflow_id, m.step_id)
    )
    for workflow_id, step_id, sent, opened, clicked, resends in rows:
        if (step := steps.get((workflow_id, step_id))) is not None:
            step.sent = step.delivered = sent
            step.opened, step.clicked, step.resends = opened, clicked, int(resends)


def _message_events(
    conn: Connection, workspace_id: int, scope: _Scope, steps: dict[tuple[int, str], StepFigures]
) -> None:
    """Unsubscribes and bounces, each counted once per message it names."""
    message_id = message_reference(conn)
    rows = conn.execute(
        select(
            messages.c.workflow_id,
            messages.c.step_id,
            events.c.name,
            func.count(func.distinct(messages.c.id)),
        )
        .join(
            messages,
            and_(messages.c.id == message_id, messages.c.workspace_id == events.c.workspace_id),
        )
        .where(
            events.c.workspace_id == workspace_id,
            events.c.name.in_((UNSUBSCRIBED, BOUNCED)),
            scope.period.holds(events.c.occurred_at),
            scope.messages(),
        )
        .group_by(messages.c.workflow_id, messages.c.step_id, events.c.name)
    )
    for workflow_id, step_id, name, count in rows:
        if (step := steps.get((workflow_id, step_id))) is None:
            continue
        if name == UNSUBSCRIBED:
            step.unsubscribed = count
        else:
            step.bounced = count
            step.delivered = max(step.sent - count, 0)


def _days(
    conn: Connection, workspace_id: int, scope: _Scope, by_id: dict[int, WorkflowFigures]
) -> None:
    period = scope.period
    days: dict[tuple[int, str], DayFigures] = {}

    def add(workflow_id: int, day: str, name: str, value: float) -> None:
        row = days.setdefault((workflow_id, day), DayFigures(day=day))
        setattr(row, name, getattr(row, name) + value)

    e, m = enrollments.c, messages.c
    for name, column in (("entered", e.entered_at), ("converted", e.converted_at)):
        day = day_of(conn, column)
        revenue = (
            func.coalesce(func.sum(e.revenue), 0.0) if name == "converted" else literal_column("0")
        )
        for workflow_id, on, count, total in conn.execute(
            select(e.workflow_id, day, func.count(), revenue)
            .where(e.workspace_id == workspace_id, period.holds(column), scope.enrollments())
            .group_by(e.workflow_id, day)
        ):
            add(workflow_id, on, name, count)
            if name == "converted":
                add(workflow_id, on, "revenue", float(total))
    # Cohorts for the daily rates: each counted on the day of its denominator.
    cohort = and_(period.holds(e.entered_at), e.converted_at.is_not(None))
    day = day_of(conn, e.entered_at)
    for workflow_id, on, count in conn.execute(
        select(e.workflow_id, day, func.count())
        .where(e.workspace_id == workspace_id, cohort, scope.enrollments())
        .group_by(e.workflow_id, day)
    ):
        add(workflow_id, on, "entered_converted", count)
    sent = and_(_is_message_sent(), period.holds(m.sent_at))
    for name, column, condition in (
        ("sent", m.sent_at, sent),
        ("sent_clicked", m.sent_at, and_(sent, m.clicked_at.is_not(None))),
        ("opened", m.opened_at, period.holds(m.opened_at)),
        ("clicked", m.clicked_at, period.holds(m.clicked_at)),
    ):
        day = day_of(conn, column)
        for workflow_id, on, count in conn.execute(
            select(m.workflow_id, day, func.count())
            .where(
                m.workspace_id == workspace_id,
                m.workflow_id.is_not(None),
                condition,
                scope.messages(),
            )
            .group_by(m.workflow_id, day)
        ):
            add(workflow_id, on, name, count)
    for (workflow_id, _), row in sorted(days.items(), key=lambda item: item[0]):
        if (figures := by_id.get(workflow_id)) is not None:
            figures.days.append(row)
