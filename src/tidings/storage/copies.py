"""Copy a workspace's settings and a sample of its contacts into another database.

A dry run works on such a copy (a scratch SQLite file): the real engine runs there, and
the source is only ever read. Rows keep their ids, so a contact is the same number in
both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Row, Table, cast, func, select

from tidings.storage.tables import (
    contacts,
    events,
    messages,
    score_awards,
    segment_members,
    segments,
    suppressions,
    workspaces,
)

#: Rows per statement: below every driver's limit on bound parameters.
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _insert(dst: Connection, table: Table, rows: Sequence[Row[Any]]) -> None:
    if rows:
        dst.execute(table.insert(), [dict(r._mapping) for r in rows])


def count_workspace_contacts(src: Connection, workspace_id: int) -> int:
    """How many contacts the workspace has."""
    return int(
        src.execute(
            select(func.count())
            .select_from(contacts)
            .where(contacts.c.workspace_id == workspace_id)
        ).scalar_one()
    )


#: A prime above every 32-bit id: the sampling order is a permutation of ids below it.
_PRIME = 4_294_967_311


def sample_contact_ids(
    src: Connection, workspace_id: int, count: int | None, seed: int
) -> list[int]:
    """`count` of the workspace's contacts drawn at random (the same ones for the same
    seed and contacts), or all of them when `count` is None; in id order.

    Drawn by the database: the contacts are ordered by a seeded scramble of their ids and
    the first `count` taken, so only the sample's ids are ever read. The arithmetic stays
    below 2**63 for any 32-bit id and seed, in PostgreSQL's bigint as in SQLite.
    """
    query = select(contacts.c.id).where(contacts.c.workspace_id == workspace_id)
    if count is not None:
        scrambled = (cast(contacts.c.id, BigInteger) * 2_654_435_761 + seed % _PRIME) % _PRIME
        multiplier = 1_000_003 + 2 * (seed % 1_000_000)
        query = query.order_by((scrambled * multiplier) % _PRIME, contacts.c.id).limit(count)
    return sorted(r[0] for r in src.execute(query))


def copy_workspace(src: Connection, dst: Connection, workspace_id: int) -> None:
    """The workspace row (settings, scoring model, secret), its segments' definitions and
    its suppressions, under the same ids."""
    _insert(
        dst,
        workspaces,
        src.execute(select(workspaces).where(workspaces.c.id == workspace_id)).all(),
    )
    _insert(
        dst,
        segments,
        src.execute(select(segments).where(segments.c.workspace_id == workspace_id)).all(),
    )
    _insert(
        dst,
        suppressions,
        src.execute(select(suppressions).where(suppressions.c.workspace_id == workspace_id)).all(),
    )


def copy_contacts(
    src: Connection,
    dst: Connection,
    ids: Sequence[int],
    before: datetime,
    *,
    events_since: datetime | None,
    limit: int,
    tick: Callable[[], None] = lambda: None,
) -> int:
    """The contacts, their segment memberships, their events from `events_since` (None:
    all of them) and their score awards from before `before` (what happened after is
    replayed, not copied). Return how many events and awards were copied: at most
    `limit` + 1, so the caller can tell there were more than `limit`. `tick` is called
    before each chunk (to stop a run past its time)."""
    copied = 0
    for part in _chunks(ids):
        tick()
        _insert(dst, contacts, src.execute(select(contacts).where(contacts.c.id.in_(part))).all())
        _insert(
            dst,
            segment_members,
            src.execute(
                select(segment_members).where(segment_members.c.contact_id.in_(part))
            ).all(),
        )
        if events_since is None or events_since < before:
            wanted = select(events).where(
                events.c.contact_id.in_(part), events.c.occurred_at < before
            )
            if events_since is not None:
                wanted = wanted.where(events.c.occurred_at >= events_since)
            rows = src.execute(wanted.limit(limit + 1 - copied)).all()
            _insert(dst, events, rows)
            copied += len(rows)
        if copied > limit:
            return copied
        rows = src.execute(
            select(score_awards)
            .where(score_awards.c.contact_id.in_(part), score_awards.c.awarded_at < before)
            .limit(limit + 1 - copied)
        ).all()
        _insert(dst, score_awards, rows)
        copied += len(rows)
        if copied > limit:
            return copied
    return copied


def copy_sent_messages(
    src: Connection,
    dst: Connection,
    ids: Sequence[int],
    since: datetime,
    before: datetime,
    tick: Callable[[], None] = lambda: None,
) -> int:
    """The messages sent to the contacts from `since` up to `before`, so frequency caps and
    the duplicate check count them; detached from their journeys and workflows (which are
    not copied). Return how many.

    Each gets an idempotency key of its own (`copied:{id}`): the real key names an
    enrollment id, and the copy's enrollments are numbered from 1 again, so a dry-run send
    with the same enrollment, step and visit would collide with it and be lost."""
    copied = 0
    m = messages.c
    for part in _chunks(ids):
        tick()
        rows = src.execute(
            select(messages).where(
                m.contact_id.in_(part),
                m.status == "sent",
                m.sent_at >= since,
                m.sent_at < before,
            )
        ).all()
        detached = [
            {
                **r._mapping,
                "enrollment_id": None,
                "workflow_id": None,
                "step_id": None,
                "idempotency_key": f"copied:{r.id}",
            }
            for r in rows
        ]
        if detached:
            dst.execute(messages.insert(), detached)
        copied += len(detached)
    return copied


def events_between(
    src: Connection,
    ids: Sequence[int],
    since: datetime,
    until: datetime,
    limit: int,
    tick: Callable[[], None] = lambda: None,
) -> list[Row[Any]]:
    """The contacts' events from `since` up to `until`, oldest first; at most `limit` + 1,
    so the caller can tell there were more than `limit`."""
    found: list[Row[Any]] = []
    e = events.c
    for part in _chunks(ids):
        tick()
        found += list(
            src.execute(
                select(e.id, e.contact_id, e.message_id, e.name, e.properties, e.occurred_at)
                .where(e.contact_id.in_(part), e.occurred_at >= since, e.occurred_at <= until)
                .order_by(e.occurred_at, e.id)
                .limit(limit + 1 - len(found))
            )
        )
        if len(found) > limit:
            break
    return sorted(found, key=lambda r: (r.occurred_at, r.id))
