"""Segments: define, list with sizes, preview a condition, page members, export as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import AfterQuery, SegmentKey
from tidings.api.audit import note_unchanged
from tidings.api.auth import requires
from tidings.api.openapi import problems
from tidings.errors import SegmentNotFound
from tidings.runtime.exports import segment_csv_lines
from tidings.runtime.segments import define_segment, preview
from tidings.runtime.transactions import attempts
from tidings.storage import segments as store
from tidings.storage.people import Role
from tidings.storage.segments import Segment

#: How many days of sizes a segment's page shows.
HISTORY_DAYS = 90

router = APIRouter(
    prefix="/segments",
    tags=["segments"],
    # An export carries contacts' personal data out of Tidings: owners only.
    dependencies=[requires(Role.EDITOR, routes={"export": Role.OWNER})],
)


class SegmentIn(BaseModel):
    """A segment's name and condition (the key is in the path)."""

    name: str = Field(min_length=1, max_length=200)
    condition: str = Field(min_length=1, max_length=10_000)


class ConditionIn(BaseModel):
    """A condition to preview."""

    condition: str = Field(min_length=1, max_length=10_000)


class SegmentOut(BaseModel):
    """A segment and how many contacts are in it."""

    key: str
    name: str
    condition: str
    size: int
    refreshed_at: datetime | None


class MemberOut(BaseModel):
    """One member, enough to recognise them."""

    id: int
    external_id: str | None
    email: str | None


class DaySize(BaseModel):
    """The segment's size on one day (UTC), as of that day's last full refresh."""

    day: date
    size: int


class SegmentDetail(SegmentOut):
    """A segment with its first members and its size on each of the last 90 days that had
    a full refresh (the sweep refreshes every segment; days before this was kept are absent)."""

    members: list[MemberOut]
    history: list[DaySize]


class PreviewOut(BaseModel):
    """What a condition would hold now; nothing is stored."""

    size: int
    sample: list[MemberOut]


def _out(segment: Segment, size: int) -> SegmentOut:
    return SegmentOut(
        key=segment.key,
        name=segment.name,
        condition=segment.condition,
        size=size,
        refreshed_at=segment.refreshed_at,
    )


def _find(admin: AdminDep, key: str) -> Segment:
    with admin.engine.connect() as conn:
        segment = store.find_segment(conn, admin.workspace_id, key)
    if segment is None:
        raise SegmentNotFound(f"no segment {key!r} in this workspace")
    return segment


def _members(conn: Connection, ids: list[int]) -> list[MemberOut]:
    return [MemberOut(id=i, external_id=u, email=e) for i, u, e in store.who(conn, ids)]


@router.get("", response_model=list[SegmentOut])
def list_all(admin: AdminDep) -> list[SegmentOut]:
    """Every segment with its current size."""
    with admin.engine.connect() as conn:
        found = store.list_segments(conn, admin.workspace_id)
        sizes = store.sizes(conn, admin.workspace_id)
    return [_out(s, sizes.get(s.id, 0)) for s in found]


@router.put("/{key}", response_model=SegmentOut, responses=problems(422))
def put(key: SegmentKey, body: SegmentIn, admin: AdminDep) -> SegmentOut:
    """Create or change a segment; it is filled before the answer (nobody is announced as
    entering on the first fill). Problems with the condition come back as 422."""
    defined = define_segment(
        admin.engine, admin.workspace_id, key, body.name, body.condition, admin.clock.now()
    )
    return _out(defined.segment, defined.size)


@router.post("/preview", response_model=PreviewOut, responses=problems(422))
def preview_condition(body: ConditionIn, admin: AdminDep, request: Request) -> PreviewOut:
    """How many contacts a condition holds now, and the first 20, without saving it."""
    # Asked at every keystroke of the rule builder, and it changes nothing: not a change on
    # the audit log.
    note_unchanged(request)
    size, sample = preview(admin.engine, admin.workspace_id, body.condition, admin.clock.now())
    with admin.engine.connect() as conn:
        return PreviewOut(size=size, sample=_members(conn, sample))


@router.get("/{key}", response_model=SegmentDetail)
def get_one(
    key: SegmentKey,
    admin: AdminDep,
    after: AfterQuery = 0,
    limit: int = Query(50, ge=1, le=1000),
) -> SegmentDetail:
    """A segment, its size, and a page of members in id order (pass `after` for the next)."""
    segment = _find(admin, key)
    with admin.engine.connect() as conn:
        size = store.size_of(conn, segment)
        members = _members(conn, store.member_ids(conn, segment, after, limit))
        since = admin.clock.now().astimezone(UTC).date() - timedelta(days=HISTORY_DAYS - 1)
        history = [DaySize(day=d, size=n) for d, n in store.size_history(conn, segment, since)]
    return SegmentDetail(**_out(segment, size).model_dump(), members=members, history=history)


@router.get("/{key}/export", response_class=StreamingResponse)
def export(key: SegmentKey, admin: AdminDep) -> StreamingResponse:
    """The members as CSV, streamed page by page."""
    segment = _find(admin, key)

    def lines() -> Iterator[str]:
        with admin.engine.connect() as conn:
            yield from segment_csv_lines(conn, segment)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="segment-{segment.key}.csv"'},
    )


@router.delete("/{key}", status_code=204)
def remove(key: SegmentKey, admin: AdminDep) -> None:
    """Delete a segment and its memberships (workflows triggered by it stop starting)."""
    segment = _find(admin, key)
    for attempt in attempts(admin.engine):
        with attempt as conn:
            store.delete_segment(conn, segment)
