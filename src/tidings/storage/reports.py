"""Per-workflow and per-step figures, straight from the enrollments, step log and outbox."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, case, func, select

from tidings.storage.tables import (
    OPEN_STATUSES,
    contacts,
    enrollments,
    events,
    messages,
    step_log,
    workflows,
)
from tidings.storage.workflows import Catalog


@dataclass(kw_only=True)
class Figures:
    """The counts reported for a workflow and for each of its steps."""

    entered: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: float = 0.0
    exited: int = 0
    waiting: int = 0


@dataclass(kw_only=True)
class StepFigures(Figures):
    """What happened at one step."""

    step_id: str
    kind: str


@dataclass(kw_only=True)
class WorkflowFigures(Figures):
    """What happened in one workflow, in total and step by step."""

    key: str
    name: str
    version: int
    completed: int = 0
    steps: list[StepFigures] = field(default_factory=list)


def workflow_figures(
    conn: Connection, workspace_id: int, catalog: Catalog
) -> list[WorkflowFigures]:
    """Figures for every workflow in the workspace, steps in the order of the current version."""
    result = []
    wf_rows = conn.execute(
        select(workflows.c.id, workflows.c.key, workflows.c.name, workflows.c.current_version)
        .where(workflows.c.workspace_id == workspace_id)
        .order_by(workflows.c.key)
    ).all()
    opened, clicked = _engagement(conn, workspace_id)
    for wf in wf_rows:
        spec = catalog.version(conn, wf.id, wf.current_version)
        figures = WorkflowFigures(key=wf.key, name=wf.name, version=wf.current_version)
        steps = {s.id: StepFigures(step_id=s.id, kind=s.type) for s in spec.steps}

        def at(step_id: str | None, steps: dict[str, StepFigures] = steps) -> StepFigures | None:
            return steps.get(step_id) if step_id is not None else None

        totals = conn.execute(
            select(
                func.count(),
                func.count(enrollments.c.converted_at),
                func.coalesce(func.sum(enrollments.c.revenue), 0.0),
                func.sum(case((enrollments.c.status == "exited", 1), else_=0)),
                func.sum(case((enrollments.c.status == "completed", 1), else_=0)),
                func.sum(case((enrollments.c.status.in_(OPEN_STATUSES), 1), else_=0)),
            ).where(enrollments.c.workflow_id == wf.id)
        ).one()
        figures.entered, figures.converted, figures.revenue = totals[0], totals[1], float(totals[2])
        figures.exited, figures.completed, figures.waiting = (
            totals[3] or 0,
            totals[4] or 0,
            totals[5] or 0,
        )

        for step_id, status, count in conn.execute(
            select(enrollments.c.step_id, enrollments.c.status, func.count())
            .where(
                enrollments.c.workflow_id == wf.id,
                enrollments.c.status.in_(("exited", *OPEN_STATUSES)),
            )
            .group_by(enrollments.c.step_id, enrollments.c.status)
        ):
            step = at(step_id)
            if step is not None:
                if status == "exited":
                    step.exited += count
                else:
                    step.waiting += count
        for step_id, count in conn.execute(
            select(step_log.c.step_id, func.count())
            .where(step_log.c.workflow_id == wf.id, step_log.c.enters.is_(True))
            .group_by(step_log.c.step_id)
        ):
            if (step := at(step_id)) is not None:
                step.entered = count
        for step_id, count, revenue in conn.execute(
            select(
                step_log.c.step_id,
                func.count(func.distinct(enrollments.c.id)),
                func.sum(enrollments.c.revenue),
            )
            .join(enrollments, enrollments.c.id == step_log.c.enrollment_id)
            .where(
                step_log.c.workflow_id == wf.id,
                step_log.c.enters.is_(True),
                enrollments.c.converted_at.is_not(None),
            )
            .group_by(step_log.c.step_id)
        ):
            if (step := at(step_id)) is not None:
                step.converted, step.revenue = count, float(revenue or 0)
        for step_id, count in conn.execute(
            select(messages.c.step_id, func.count())
            .where(messages.c.workflow_id == wf.id, messages.c.status == "sent")
            .group_by(messages.c.step_id)
        ):
            if (step := at(step_id)) is not None:
                step.sent = count
        for step in steps.values():
            step.opened = opened.get((wf.id, step.step_id), 0)
            step.clicked = clicked.get((wf.id, step.step_id), 0)
        figures.steps = list(steps.values())
        figures.sent = sum(s.sent for s in figures.steps)
        figures.opened = sum(s.opened for s in figures.steps)
        figures.clicked = sum(s.clicked for s in figures.steps)
        result.append(figures)
    return result


def _engagement(
    conn: Connection, workspace_id: int
) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int]]:
    """Distinct messages opened and clicked, by (workflow id, step id).

    Open and click events carry the message id they came from; each message counts once.
    """
    message_id = events.c.properties["message_id"].as_integer()
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
            events.c.name.in_(("email_opened", "email_clicked")),
        )
        .group_by(messages.c.workflow_id, messages.c.step_id, events.c.name)
    )
    counts: dict[str, dict[tuple[int, str], int]] = defaultdict(dict)
    for workflow_id, step_id, name, count in rows:
        counts[name][(workflow_id, step_id)] = count
    return counts["email_opened"], counts["email_clicked"]


def recovered_cart_example(
    conn: Connection, workspace_id: int, workflow_key: str
) -> tuple[str, int] | None:
    """(user id, contact id) of the first contact who converted in `workflow_key` after a
    message, to show their story."""
    row = conn.execute(
        select(contacts.c.external_id, contacts.c.id)
        .join(enrollments, enrollments.c.contact_id == contacts.c.id)
        .join(workflows, workflows.c.id == enrollments.c.workflow_id)
        .join(messages, messages.c.enrollment_id == enrollments.c.id)
        .where(
            workflows.c.workspace_id == workspace_id,
            workflows.c.key == workflow_key,
            enrollments.c.converted_at.is_not(None),
        )
        .order_by(enrollments.c.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None
