"""The raw counts of every experiment: the arms of A/B variants on sends, and the paths of
random splits (holdouts among them), with each arm's outcomes.

An arm's outcome is its journey's goal: whether the enrollment converted, and the revenue it
brought. Sums of squares come along so that revenue per contact can be compared by Welch's
test without reading every journey.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, literal, select

from tidings.core.spec import WinnerMetric
from tidings.storage.reports import Period
from tidings.storage.tables import enrollments, messages, step_log


@dataclass(frozen=True)
class ArmCounts:
    """One arm: who was assigned to it and what they did."""

    workflow_id: int
    step_id: str
    arm: str
    assigned: int
    opened: int
    clicked: int
    converted: int
    revenue: float
    revenue_squares: float


def _revenue_sums() -> tuple[ColumnElement[float], ColumnElement[float]]:
    revenue = func.coalesce(enrollments.c.revenue, 0.0)
    return (
        func.coalesce(func.sum(revenue), 0.0),
        func.coalesce(func.sum(revenue * revenue), 0.0),
    )


def _arms(rows: Iterable[Sequence[Any]]) -> list[ArmCounts]:
    """Arms from rows of (workflow id, step id, arm, assigned, opened, clicked, converted,
    revenue, revenue squared)."""
    return [
        ArmCounts(
            workflow, step, arm, assigned, opened, clicked, converted, float(total), float(squares)
        )
        for workflow, step, arm, assigned, opened, clicked, converted, total, squares in rows
    ]


def variant_arms(conn: Connection, workspace_id: int, period: Period) -> list[ArmCounts]:
    """Per send step with variants, per variant: messages sent in the period, how many were
    opened and clicked, and how many of their journeys converted."""
    m, e = messages.c, enrollments.c
    variant = m.payload["variant"].as_string()
    sent = and_(
        m.workspace_id == workspace_id,
        m.status == "sent",
        variant.is_not(None),
        period.holds(m.sent_at),
    )
    total, squares = _revenue_sums()
    rows = conn.execute(
        select(
            m.workflow_id,
            m.step_id,
            variant,
            func.count(),
            func.count(m.opened_at),
            func.count(m.clicked_at),
            func.count(e.converted_at),
            total,
            squares,
        )
        .join(enrollments, e.id == m.enrollment_id)
        .where(sent)
        .group_by(m.workflow_id, m.step_id, variant)
        .order_by(m.workflow_id, m.step_id, variant)
    )
    return _arms(rows)


def split_arms(conn: Connection, workspace_id: int, period: Period) -> list[ArmCounts]:
    """Per split step, per path: journeys sent down it in the period and how many converted.

    A journey that passed a split twice (a loop) counts once per path it took.
    """
    s, e = step_log.c, enrollments.c
    path = s.data["path"].as_string()
    taken = (
        select(s.workflow_id, s.step_id, path.label("path"), s.enrollment_id)
        .where(s.workspace_id == workspace_id, s.action == "split", period.holds(s.at))
        .distinct()
        .subquery()
    )
    total, squares = _revenue_sums()
    rows = conn.execute(
        select(
            taken.c.workflow_id,
            taken.c.step_id,
            taken.c.path,
            func.count(),
            literal(0),  # a split sends nothing to open or click
            literal(0),
            func.count(e.converted_at),
            total,
            squares,
        )
        .join(enrollments, e.id == taken.c.enrollment_id)
        .group_by(taken.c.workflow_id, taken.c.step_id, taken.c.path)
        .order_by(taken.c.workflow_id, taken.c.step_id, taken.c.path)
    )
    return _arms(rows)


def winner_tallies(
    conn: Connection, workflow_id: int, tests: Mapping[str, WinnerMetric]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per send step that picks its own winner, per variant: (hits, messages sent), where a
    hit is a click or a converted journey as the step's test says. All versions count: a
    new version of the workflow keeps learning from the sends before it."""
    m, e = messages.c, enrollments.c
    variant = m.payload["variant"].as_string()
    found: dict[str, dict[str, tuple[int, int]]] = {step: {} for step in tests}
    rows = conn.execute(
        select(
            m.step_id, variant, func.count(), func.count(m.clicked_at), func.count(e.converted_at)
        )
        .join(enrollments, e.id == m.enrollment_id)
        .where(
            m.workflow_id == workflow_id,
            m.step_id.in_(list(tests)),
            m.status == "sent",
            variant.is_not(None),
        )
        .group_by(m.step_id, variant)
    )
    for step_id, arm, sent, clicked, converted in rows:
        hits = clicked if tests[step_id] is WinnerMetric.CLICKS else converted
        found[step_id][arm] = (hits, sent)
    return found
