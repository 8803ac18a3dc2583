"""What measurement reads beyond the funnel: conversions and the messages that came before
them (attribution), revenue per contact (customer value), the time journeys took to
convert, and the counts the audit judges by."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, null, select

from tidings.core.attribution import Conversion, Touch
from tidings.core.react import as_number
from tidings.storage.reports import MESSAGE_CHANNELS, Period, day_of
from tidings.storage.tables import (
    OPEN_STATUSES,
    contacts,
    enrollments,
    events,
    messages,
    segment_members,
    segments,
    workflows,
)

#: The contact attribute that names where a contact came from.
SOURCE_ATTRIBUTE = "source"
UNKNOWN_SOURCE = "(unknown)"


def conversions(
    conn: Connection, workspace_id: int, goals: Mapping[str, str | None], period: Period
) -> list[Conversion]:
    """Every goal event in the period with its revenue, oldest first. Only the revenue
    property is read from each event, not its whole document."""
    found: list[tuple[datetime, int, Conversion]] = []
    for name, prop in goals.items():
        amount = events.c.properties[prop] if prop else null()
        rows = conn.execute(
            select(events.c.id, events.c.contact_id, events.c.occurred_at, amount).where(
                events.c.workspace_id == workspace_id,
                events.c.name == name,
                period.holds(events.c.occurred_at),
            )
        )
        found += [
            (at, event_id, Conversion(contact_id, at, (as_number(value) or 0.0) if prop else 0.0))
            for event_id, contact_id, at, value in rows
        ]
    found.sort(key=lambda item: (item[0], item[1]))
    return [conversion for _, _, conversion in found]


def touches(
    conn: Connection, workspace_id: int, contact_ids: set[int], since: datetime, until: datetime
) -> dict[int, list[Touch]]:
    """Messages sent to these contacts between `since` and `until`, oldest first."""
    found: dict[int, list[Touch]] = defaultdict(list)
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = conn.execute(
            select(messages.c.contact_id, messages.c.sent_at, workflows.c.key, messages.c.step_id)
            .join(workflows, workflows.c.id == messages.c.workflow_id)
            .where(
                messages.c.workspace_id == workspace_id,
                messages.c.contact_id.in_(chunk),
                messages.c.status == "sent",
                # A touch is a message the person got: not a webhook or a sales alert.
                messages.c.channel.in_(MESSAGE_CHANNELS),
                messages.c.sent_at >= since,
                messages.c.sent_at <= until,
            )
            .order_by(messages.c.sent_at, messages.c.id)
        )
        for contact_id, at, key, step in rows:
            found[contact_id].append(Touch(at, key, step or ""))
    return dict(found)


@dataclass(frozen=True)
class ContactValue:
    """A contact's revenue to date, and where they came from."""

    contact_id: int
    source: str
    revenue: float
    orders: int


def contact_values(
    conn: Connection,
    workspace_id: int,
    orders_to_date: Iterable[Conversion],
    until: datetime | None,
) -> list[ContactValue]:
    """Every contact known before `until` (None: ever) with their revenue from the given
    conversions (zero if none)."""
    revenue: dict[int, float] = defaultdict(float)
    orders: dict[int, int] = defaultdict(int)
    for item in orders_to_date:
        revenue[item.contact_id] += item.revenue
        orders[item.contact_id] += 1
    source = contacts.c.attributes[SOURCE_ATTRIBUTE].as_string()
    query = select(contacts.c.id, source).where(contacts.c.workspace_id == workspace_id)
    if until is not None:
        query = query.where(contacts.c.created_at < until)
    rows = conn.execute(query)
    return [
        ContactValue(cid, src or UNKNOWN_SOURCE, revenue.get(cid, 0.0), orders.get(cid, 0))
        for cid, src in rows
    ]


def segment_membership(conn: Connection, workspace_id: int) -> dict[str, set[int]]:
    """Each segment's members, by segment key."""
    found: dict[str, set[int]] = defaultdict(set)
    for key, contact_id in conn.execute(
        select(segments.c.key, segment_members.c.contact_id)
        .join(segment_members, segment_members.c.segment_id == segments.c.id)
        .where(segments.c.workspace_id == workspace_id)
    ):
        found[key].add(contact_id)
    return dict(found)


def times_to_convert(
    conn: Connection, workspace_id: int, period: Period
) -> dict[int, list[timedelta]]:
    """Per workflow id, how long each journey converting in the period took from entry."""
    found: dict[int, list[timedelta]] = defaultdict(list)
    for workflow_id, entered, converted in conn.execute(
        select(
            enrollments.c.workflow_id, enrollments.c.entered_at, enrollments.c.converted_at
        ).where(
            enrollments.c.workspace_id == workspace_id, period.holds(enrollments.c.converted_at)
        )
    ):
        found[workflow_id].append(converted - entered)
    return dict(found)


def quarter_cohorts(
    conn: Connection, workspace_id: int, now: datetime, quarter: timedelta
) -> dict[int, tuple[tuple[int, int], tuple[int, int]]]:
    """Per workflow id: (entered, converted) among the journeys that entered in the quarter
    before last, and in the last quarter."""
    e = enrollments.c
    previous = and_(e.entered_at >= now - 2 * quarter, e.entered_at < now - quarter)
    last = and_(e.entered_at >= now - quarter, e.entered_at < now)
    found: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}
    for workflow_id, entered_a, converted_a, entered_b, converted_b in conn.execute(
        select(
            e.workflow_id,
            func.count().filter(previous),
            func.count(e.converted_at).filter(previous),
            func.count().filter(last),
            func.count(e.converted_at).filter(last),
        )
        .where(e.workspace_id == workspace_id, e.entered_at >= now - 2 * quarter)
        .group_by(e.workflow_id)
    ):
        found[workflow_id] = ((entered_a, converted_a), (entered_b, converted_b))
    return found


def parallel_journeys(conn: Connection, workspace_id: int) -> list[int]:
    """For each contact in two or more running workflows, how many."""
    e = enrollments.c
    count = func.count(func.distinct(e.workflow_id))
    return [
        n
        for (n,) in conn.execute(
            select(count)
            .where(e.workspace_id == workspace_id, e.status.in_(OPEN_STATUSES))
            .group_by(e.contact_id)
            .having(count >= 2)
        )
    ]


def alerts_by_day(conn: Connection, workspace_id: int, period: Period) -> dict[str, int]:
    """Internal alerts sent per UTC day (YYYY-MM-DD)."""
    m = messages.c
    day = day_of(conn, m.sent_at)
    return dict(
        conn.execute(
            select(day, func.count())
            .where(
                m.workspace_id == workspace_id,
                m.channel.like("alert:%"),
                m.status == "sent",
                period.holds(m.sent_at),
            )
            .group_by(day)
        ).all()
    )
