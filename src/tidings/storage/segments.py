"""Segments: named conditions, and who is in each one now.

Membership is computed in SQL (`condition_sql`) and stored, so that entering and leaving
are facts with a time: `refresh` returns who entered and who left since the last refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from tidings.core.conditions import Condition, parse_condition
from tidings.storage.condition_sql import condition_sql
from tidings.storage.dialect import insert_for
from tidings.storage.tables import contacts, segment_members, segment_sizes, segments
from tidings.storage.types import UTCDateTime
from tidings.storage.workspaces import touch_config

#: How many contact ids one membership statement names at most (SQLite's variable limit).
ID_CHUNK = 5000


@dataclass(frozen=True)
class Segment:
    """A stored segment."""

    id: int
    key: str
    name: str
    condition: str
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None

    @property
    def parsed(self) -> Condition:
        """The condition's tree (parsing is cached)."""
        return parse_condition(self.condition)


def _segment(row: Any) -> Segment:
    return Segment(
        row.id, row.key, row.name, row.condition, row.created_at, row.updated_at, row.refreshed_at
    )


def list_segments(conn: Connection, workspace_id: int) -> list[Segment]:
    """Every segment of the workspace, by key."""
    rows = conn.execute(
        select(segments).where(segments.c.workspace_id == workspace_id).order_by(segments.c.key)
    )
    return [_segment(r) for r in rows]


def find_segment(conn: Connection, workspace_id: int, key: str) -> Segment | None:
    """The segment with this key, if any."""
    row = conn.execute(
        select(segments).where(segments.c.workspace_id == workspace_id, segments.c.key == key)
    ).one_or_none()
    return _segment(row) if row is not None else None


def save_segment(
    conn: Connection, workspace_id: int, key: str, name: str, condition: str, now: datetime
) -> tuple[Segment, bool]:
    """Create the segment, or change its name and condition; True when it is new.

    A changed condition empties the stored membership: the next refresh fills it again
    without announcing everyone as having entered.
    """
    found = find_segment(conn, workspace_id, key)
    if found is None:
        conn.execute(
            insert(segments).values(
                workspace_id=workspace_id,
                key=key,
                name=name,
                condition=condition,
                created_at=now,
                updated_at=now,
                refreshed_at=None,
            )
        )
    else:
        values: dict[str, Any] = {"name": name, "condition": condition, "updated_at": now}
        if found.condition != condition:
            conn.execute(delete(segment_members).where(segment_members.c.segment_id == found.id))
            values["refreshed_at"] = None
        conn.execute(update(segments).where(segments.c.id == found.id).values(**values))
    touch_config(conn, workspace_id)
    saved = find_segment(conn, workspace_id, key)
    assert saved is not None
    return saved, found is None


def delete_segment(conn: Connection, segment: Segment) -> None:
    """Remove a segment and its memberships."""
    owner = select(segments.c.workspace_id).where(segments.c.id == segment.id).scalar_subquery()
    touch_config(conn, owner)
    conn.execute(delete(segment_members).where(segment_members.c.segment_id == segment.id))
    conn.execute(delete(segment_sizes).where(segment_sizes.c.segment_id == segment.id))
    conn.execute(delete(segments).where(segments.c.id == segment.id))


def matching(
    conn: Connection, workspace_id: int, cond: Condition, now: datetime, *, whole: bool = True
) -> Select[Any]:
    """The ids of the workspace's contacts who meet `cond` now; `whole` when the query
    will scan everyone rather than a few named contacts."""
    return select(contacts.c.id).where(
        contacts.c.workspace_id == workspace_id,
        condition_sql(cond, conn.dialect.name, now, whole=whole),
    )


def count_matching(conn: Connection, workspace_id: int, cond: Condition, now: datetime) -> int:
    """How many contacts meet `cond` now, without storing anything (a preview)."""
    query = select(func.count()).select_from(matching(conn, workspace_id, cond, now).subquery())
    return int(conn.execute(query).scalar_one())


def sample_matching(
    conn: Connection, workspace_id: int, cond: Condition, now: datetime, limit: int
) -> list[int]:
    """The first `limit` contact ids that meet `cond` now (a preview)."""
    query = matching(conn, workspace_id, cond, now).order_by(contacts.c.id).limit(limit)
    return [r[0] for r in conn.execute(query)]


@dataclass(frozen=True)
class Changes:
    """Who a refresh moved in and out of one segment."""

    entered: list[int]
    exited: list[int]


def refresh(
    conn: Connection,
    workspace_id: int,
    segment: Segment,
    now: datetime,
    contact_ids: Sequence[int] | None = None,
) -> Changes:
    """Bring stored membership in line with the condition, for everyone or for these contacts.

    Two statements per chunk, both in the database: insert who meets the condition and is
    not a member, delete members who no longer meet it; each returns the ids it touched.
    """
    if contact_ids is None:
        changes = _refresh_where(conn, workspace_id, segment, now, None)
        conn.execute(update(segments).where(segments.c.id == segment.id).values(refreshed_at=now))
        touch_config(conn, workspace_id)
        _note_size(conn, segment, now)
        return changes
    entered: list[int] = []
    exited: list[int] = []
    ids = sorted(set(contact_ids))
    for start in range(0, len(ids), ID_CHUNK):
        part = _refresh_where(conn, workspace_id, segment, now, ids[start : start + ID_CHUNK])
        entered += part.entered
        exited += part.exited
    return Changes(entered, exited)


def _note_size(conn: Connection, segment: Segment, now: datetime) -> None:
    """Keep the segment's size for today (UTC); a later full refresh the same day replaces it."""
    day = now.astimezone(UTC).date()
    size = size_of(conn, segment)
    kept = segment_sizes.c.segment_id == segment.id, segment_sizes.c.day == day
    conn.execute(delete(segment_sizes).where(*kept))
    conn.execute(insert(segment_sizes).values(segment_id=segment.id, day=day, size=size))


def size_history(conn: Connection, segment: Segment, since: date) -> list[tuple[date, int]]:
    """The segment's size on each day from `since` that had a full refresh, oldest first."""
    rows = conn.execute(
        select(segment_sizes.c.day, segment_sizes.c.size)
        .where(segment_sizes.c.segment_id == segment.id, segment_sizes.c.day >= since)
        .order_by(segment_sizes.c.day)
    )
    return [(r.day, r.size) for r in rows]


def _refresh_where(
    conn: Connection,
    workspace_id: int,
    segment: Segment,
    now: datetime,
    ids: list[int] | None,
) -> Changes:
    cond = segment.parsed
    meets = matching(conn, workspace_id, cond, now, whole=ids is None)
    in_scope: ColumnElement[bool] | None = None
    if ids is not None:
        meets = meets.where(contacts.c.id.in_(bindparam("ids", ids, expanding=True)))
        in_scope = segment_members.c.contact_id.in_(bindparam("ids2", ids, expanding=True))
    if segment.refreshed_at is not None:
        # Skipping present members up front is cheaper than letting each one conflict
        # (a sweep of a full segment: 0.27 s against 0.34 s at 80,000 members).
        member = exists().where(
            segment_members.c.segment_id == segment.id,
            segment_members.c.contact_id == contacts.c.id,
        )
        meets = meets.where(~member)
    # The first fill has no such filter: against a segment_members that was empty when the
    # statement was planned, PostgreSQL picks a nested loop that scans the table being
    # filled once per candidate, reading every row this same statement has inserted
    # (invisible, but on the pages): 266,669 members took 280 s at 1M contacts (bench/).
    # Either way, members already there are skipped by the conflict on the primary key and
    # RETURNING names only the rows really added; another transaction adding the same
    # member first wins the same way.
    newcomers = meets.with_only_columns(
        literal(segment.id), contacts.c.id, literal(workspace_id), literal(now, UTCDateTime())
    )
    entered = conn.execute(
        insert_for(conn, segment_members)
        .from_select(["segment_id", "contact_id", "workspace_id", "entered_at"], newcomers)
        .on_conflict_do_nothing()
        .returning(segment_members.c.contact_id)
    )
    entered_ids = sorted(r[0] for r in entered)
    # Per member: a look-up of that contact, so the correlated shape.
    still = matching(conn, workspace_id, cond, now, whole=False).where(
        contacts.c.id == segment_members.c.contact_id
    )
    leaving = delete(segment_members).where(
        and_(
            segment_members.c.segment_id == segment.id,
            ~still.correlate(segment_members).exists(),
            *([in_scope] if in_scope is not None else []),
        )
    )
    exited_ids = sorted(r[0] for r in conn.execute(leaving.returning(segment_members.c.contact_id)))
    return Changes(entered_ids, exited_ids)


def sizes(conn: Connection, workspace_id: int) -> dict[int, int]:
    """How many members each segment has, by segment id."""
    rows = conn.execute(
        select(segment_members.c.segment_id, func.count())
        .where(segment_members.c.workspace_id == workspace_id)
        .group_by(segment_members.c.segment_id)
    )
    return {r[0]: int(r[1]) for r in rows}


def size_of(conn: Connection, segment: Segment) -> int:
    """How many members one segment has."""
    query = select(func.count()).where(segment_members.c.segment_id == segment.id)
    return int(conn.execute(query).scalar_one())


def who(conn: Connection, contact_ids: Sequence[int]) -> list[tuple[int, str | None, str | None]]:
    """(id, user id, email) of these contacts in id order, enough to recognise them; a plain
    read, no row locks (a preview changes nothing)."""
    if not contact_ids:
        return []
    rows = conn.execute(
        select(contacts.c.id, contacts.c.external_id, contacts.c.email)
        .where(contacts.c.id.in_(list(contact_ids)))
        .order_by(contacts.c.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def member_ids(conn: Connection, segment: Segment, after: int = 0, limit: int = 1000) -> list[int]:
    """Member contact ids in id order, after `after`: a page."""
    rows = conn.execute(
        select(segment_members.c.contact_id)
        .where(segment_members.c.segment_id == segment.id, segment_members.c.contact_id > after)
        .order_by(segment_members.c.contact_id)
        .limit(limit)
    )
    return [r[0] for r in rows]


def segments_of(conn: Connection, contact_id: int) -> list[str]:
    """The keys of the segments a contact is in now."""
    rows = conn.execute(
        select(segments.c.key)
        .join(segment_members, segment_members.c.segment_id == segments.c.id)
        .where(segment_members.c.contact_id == contact_id)
        .order_by(segments.c.key)
    )
    return [r[0] for r in rows]


def segments_of_contacts(conn: Connection, contact_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The keys of the segments each of these contacts is in now (absent: none)."""
    found: dict[int, set[str]] = {}
    for start in range(0, len(contact_ids), 5000):
        rows = conn.execute(
            select(segment_members.c.contact_id, segments.c.key)
            .join(segments, segments.c.id == segment_members.c.segment_id)
            .where(segment_members.c.contact_id.in_(contact_ids[start : start + 5000]))
        )
        for contact_id, key in rows:
            found.setdefault(contact_id, set()).add(key)
    return {cid: frozenset(keys) for cid, keys in found.items()}


def member_rows(conn: Connection, segment: Segment, after: int = 0, limit: int = 1000) -> list[Any]:
    """Members' contact rows with when they entered, in id order after `after`: a page."""
    rows = conn.execute(
        select(contacts, segment_members.c.entered_at)
        .join(segment_members, segment_members.c.contact_id == contacts.c.id)
        .where(segment_members.c.segment_id == segment.id, contacts.c.id > after)
        .order_by(contacts.c.id)
        .limit(limit)
    )
    return list(rows)
