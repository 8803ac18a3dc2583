"""The few figures the workflows list shows beside each workflow: who is in a journey now,
who entered and converted lately, and the latest entry in that time.

The full report (`reports.workflow_figures`) walks every step and day; a list needs a
handful of counts. Each count here is one grouped query answered from an index alone:
entries and conversions from indexes led by their moment, so the cost follows the journeys
inside the period, not all the enrollments ever made; open journeys from the partial index
of open enrollments by workflow. None of these indexes is led by `workflow_id` alone with
every row in it: SQLite, which keeps no statistics here, would otherwise walk such an index
for the report's `GROUP BY workflow_id` and read each row through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select

from tidings.storage.tables import OPEN_PREDICATE, enrollments, workflows


@dataclass(kw_only=True)
class ListFigures:
    """One workflow's figures since a moment. `converted` counts conversions inside the
    period (as the report does); `entered_converted` counts, of those who entered inside
    the period, the ones that converted: the conversion rate divides it by `entered`, the
    same people above and below the line. `last_entered_at` is the latest entry inside the
    period, if any."""

    in_journey: int = 0
    entered: int = 0
    converted: int = 0
    entered_converted: int = 0
    last_entered_at: datetime | None = field(default=None)


def list_figures(conn: Connection, workspace_id: int, since: datetime) -> dict[int, ListFigures]:
    """Figures by workflow id for every workflow of the workspace, counting from `since`
    (included) on."""
    e, w = enrollments.c, workflows.c
    # By workflow rather than by the enrollment's own workspace column: the indexes hold
    # workflow_id, so no row is read.
    ids = select(w.id).where(w.workspace_id == workspace_id)
    found = {workflow_id: ListFigures() for workflow_id in conn.execute(ids).scalars()}
    if not found:
        return found
    mine = e.workflow_id.in_(ids)
    for workflow_id, entered, entered_converted, last in conn.execute(
        select(e.workflow_id, func.count(), func.count(e.converted_at), func.max(e.entered_at))
        .where(e.entered_at >= since, mine)
        .group_by(e.workflow_id)
    ):
        figures = found[workflow_id]
        figures.entered, figures.entered_converted = entered, entered_converted
        figures.last_entered_at = last
    for workflow_id, converted in conn.execute(
        select(e.workflow_id, func.count())
        .where(e.converted_at >= since, mine)
        .group_by(e.workflow_id)
    ):
        found[workflow_id].converted = converted
    # The literal predicate lets both databases answer from the partial index of open
    # enrollments by workflow.
    for workflow_id, in_journey in conn.execute(
        select(e.workflow_id, func.count()).where(OPEN_PREDICATE, mine).group_by(e.workflow_id)
    ):
        found[workflow_id].in_journey = in_journey
    return found
