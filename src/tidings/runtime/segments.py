"""Keeping segment membership current, and announcing who entered and left.

Two paths keep it current. After each batch of events, the segments those events can change
are recomputed for the batch's contacts only (a rule about `page_viewed` is untouched by an
`email_opened`). A periodic sweep recomputes every segment for everyone, which catches what
time changes (`within 7d` rules) and profile edits made outside events. Entering and leaving
are stored as `segment_entered` / `segment_exited` events, so workflows trigger on them,
wait for them, and exit on them like any other event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.core.conditions import Condition, fields_of, parse_condition
from tidings.core.conditions.ast import behaviours_of
from tidings.core.segments import segment_problems
from tidings.errors import SpecInvalid
from tidings.runtime.transactions import transact
from tidings.storage import segments as store
from tidings.storage.segments import Changes, Segment

SEGMENT_ENTERED = "segment_entered"
SEGMENT_EXITED = "segment_exited"
#: Events about segments never refresh segments themselves: no loop of segment events.
SEGMENT_EVENTS = frozenset({SEGMENT_ENTERED, SEGMENT_EXITED})


@dataclass(frozen=True)
class Announcement:
    """One segment event to store: who, which event, and its properties."""

    contact_id: int
    message_id: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


def changed_by(cond: Condition, event_names: Iterable[str], profiles_changed: bool) -> bool:
    """Whether events with these names can change who meets `cond`.

    A rule on the profile changes only when a profile did (an identify call, a workflow's
    update, a consent change, a score); a behaviour rule only with events of its name.
    """
    if profiles_changed and next(fields_of(cond), None) is not None:
        return True
    names = set(event_names)
    return any(rule.event is None or rule.event in names for rule in behaviours_of(cond))


def announcements(segment: Segment, changes: Changes, now: datetime) -> list[Announcement]:
    """The events that tell workflows who entered and who left."""
    stamp = now.isoformat()
    props = {"segment": segment.key, "segment_name": segment.name}
    return [
        Announcement(cid, f"segment:{segment.id}:{cid}:{name}:{stamp}", name, props)
        for name, ids in ((SEGMENT_ENTERED, changes.entered), (SEGMENT_EXITED, changes.exited))
        for cid in ids
    ]


def follow_events(
    conn: Connection,
    workspace_id: int,
    touched: Sequence[tuple[int, str]],
    now: datetime,
    profiles_changed: bool = True,
    defined: Sequence[Segment] | None = None,
) -> list[Announcement]:
    """Recompute the segments that these (contact, event name) pairs can change, for those
    contacts only; return the segment events to store. `defined`: the workspace's
    segments, when the caller has them (read here otherwise)."""
    names = {name for _, name in touched if name not in SEGMENT_EVENTS}
    contact_ids = sorted({cid for cid, name in touched if name not in SEGMENT_EVENTS})
    if not contact_ids:
        return []
    out: list[Announcement] = []
    if defined is None:
        defined = store.list_segments(conn, workspace_id)
    for segment in defined:
        # A segment not yet filled is filled whole, silently, by the sweep or its creator.
        if segment.refreshed_at is None or not changed_by(segment.parsed, names, profiles_changed):
            continue
        changes = store.refresh(conn, workspace_id, segment, now, contact_ids)
        out += announcements(segment, changes, now)
    return out


def refresh_segment(
    conn: Connection, workspace_id: int, segment: Segment, now: datetime
) -> tuple[Changes, list[Announcement]]:
    """Recompute a segment for everyone. The first fill announces nobody: a new segment's
    members did not just enter it, it just began to be counted."""
    changes = store.refresh(conn, workspace_id, segment, now)
    if segment.refreshed_at is None:
        return changes, []
    return changes, announcements(segment, changes, now)


@dataclass(frozen=True)
class Defined:
    """A segment after it was saved, with its size."""

    segment: Segment
    created: bool
    size: int


def define_segment(
    engine: Engine, workspace_id: int, key: str, name: str, condition: str, now: datetime
) -> Defined:
    """Check, save and fill a segment in one transaction.

    Raises:
        SpecInvalid: with every problem of the key, name and condition.
    """
    problems = segment_problems(key, name, condition)
    if problems:
        raise SpecInvalid(f"segment {key}", problems, kind="segment")

    def work(conn: Connection) -> Defined:
        segment, created = store.save_segment(conn, workspace_id, key, name, condition, now)
        if segment.refreshed_at is None:
            store.refresh(conn, workspace_id, segment, now)
        saved = store.find_segment(conn, workspace_id, key)
        assert saved is not None
        return Defined(saved, created, store.size_of(conn, saved))

    return transact(engine, work)


def preview(
    engine: Engine, workspace_id: int, condition: str, now: datetime, sample: int = 20
) -> tuple[int, list[int]]:
    """How many contacts a condition would hold now, and the first few, storing nothing.

    Raises:
        SpecInvalid: when the condition is not one a segment can use.
    """
    problems = segment_problems("preview", "preview", condition)
    if problems:
        raise SpecInvalid("condition", problems, kind="segment")
    cond = parse_condition(condition)
    with engine.connect() as conn:
        return (
            store.count_matching(conn, workspace_id, cond, now),
            store.sample_matching(conn, workspace_id, cond, now, sample),
        )
