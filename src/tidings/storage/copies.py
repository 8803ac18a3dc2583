"""Copy a workspace's settings and a sample of its contacts into another database.

A dry run works on such a copy (a scratch SQLite file): the real engine runs there, and
the source is only ever read. Rows keep their ids, so a contact is the same number in
both databases.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, func, select

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


def sample_contact_ids(
    src: Connection, workspace_id: int, count: int | None, seed: int
) -> list[int]:
    """`count` of the workspace's contacts drawn at random (the same ones for the same
    seed and contacts), or all of them when `count` is None; in id order."""
    ids = [
        r[0]
        for r in src.execute(
            select(contacts.c.id)
            .where(contacts.c.workspace_id == workspace_id)
            .order_by(contacts.c.id)
        )
    ]
    if count is not None and count < len(ids):
        ids = random.Random(seed).sample(ids, count)
    return sorted(ids)


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


def copy_contacts(src: Connection, dst: Connection, ids: Sequence[int], before: datetime) -> None:
    """The contacts, their segment memberships, and their events and score awards from
    before `before` (what happened after is replayed, not copied)."""
    for part in _chunks(ids):
        _insert(dst, contacts, src.execute(select(contacts).where(contacts.c.id.in_(part))).all())
        _insert(
            dst,
            segment_members,
            src.execute(
                select(segment_members).where(segment_members.c.contact_id.in_(part))
            ).all(),
        )
        _insert(
            dst,
            events,
            src.execute(
                select(events).where(events.c.contact_id.in_(part), events.c.occurred_at < before)
            ).all(),
        )
        _insert(
            dst,
            score_awards,
            src.execute(
                select(score_awards).where(
                    score_awards.c.contact_id.in_(part), score_awards.c.awarded_at < before
                )
            ).all(),
        )


def copy_sent_messages(
    src: Connection, dst: Connection, ids: Sequence[int], since: datetime, before: datetime
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
    src: Connection, ids: Sequence[int], since: datetime, until: datetime, limit: int
) -> list[Row[Any]]:
    """The contacts' events from `since` up to `until`, oldest first; at most `limit` + 1,
    so the caller can tell there were more than `limit`."""
    found: list[Row[Any]] = []
    e = events.c
    for part in _chunks(ids):
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
