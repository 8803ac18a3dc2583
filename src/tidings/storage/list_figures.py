"""The few figures the workflows list shows beside each workflow: who is in it now, who
entered and converted lately, and when someone last entered.

The full report (`reports.workflow_figures`) walks every step and day; a list needs a
handful of counts, so this is one statement over the workspace's workflows whose counts
are correlated subqueries, each answered from an index on `enrollments` led by
`workflow_id`: the cost follows the journeys inside the period and those still open, not
all the enrollments ever made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, ScalarSelect, TextClause, func, select

from tidings.storage.tables import OPEN_PREDICATE, enrollments, workflows


@dataclass(frozen=True, kw_only=True)
class ListFigures:
    """One workflow's figures since a moment. `converted` counts conversions inside the
    period (as the report does); `entered_converted` counts, of those who entered inside
    the period, the ones that converted: the conversion rate divides it by `entered`, the
    same people above and below the line."""

    in_journey: int = 0
    entered: int = 0
    converted: int = 0
    entered_converted: int = 0
    last_entered_at: datetime | None = None


def list_figures(conn: Connection, workspace_id: int, since: datetime) -> dict[int, ListFigures]:
    """Figures by workflow id for every workflow of the workspace, counting from `since`
    (included) on."""
    e, w = enrollments.c, workflows.c

    def scalar(
        column: ColumnElement[Any], *conditions: ColumnElement[bool] | TextClause
    ) -> ScalarSelect[Any]:
        return select(column).where(e.workflow_id == w.id, *conditions).scalar_subquery()

    rows = conn.execute(
        select(
            w.id,
            # The literal predicate lets both databases answer from the partial index on
            # open enrollments, which is led by workflow_id.
            scalar(func.count(), OPEN_PREDICATE),
            scalar(func.count(), e.entered_at >= since),
            scalar(func.count(), e.converted_at >= since),
            scalar(func.count(e.converted_at), e.entered_at >= since),
            scalar(func.max(e.entered_at)),
        ).where(w.workspace_id == workspace_id)
    )
    return {
        workflow_id: ListFigures(
            in_journey=in_journey,
            entered=entered,
            converted=converted,
            entered_converted=entered_converted,
            last_entered_at=last_entered_at,
        )
        for workflow_id, in_journey, entered, converted, entered_converted, last_entered_at in rows
    }
