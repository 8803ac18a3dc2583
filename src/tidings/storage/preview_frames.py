"""Rendered email previews, kept for a few minutes under the hash of their random id."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from tidings.storage.tables import preview_frames


def frame_hash(frame_id: str) -> str:
    """What a frame is stored under: the id opens the frame, its hash does not."""
    return hashlib.sha256(frame_id.encode()).hexdigest()


def keep_frame(
    conn: Connection,
    workspace_id: int,
    frame_id: str,
    html: str,
    *,
    now: datetime,
    expires_at: datetime,
    max_frames: int,
    max_bytes: int,
) -> None:
    """Store a frame; drop the expired ones, then the oldest while more than `max_frames`
    frames or `max_bytes` bytes of HTML are kept."""
    conn.execute(delete(preview_frames).where(preview_frames.c.expires_at <= now))
    kept = frame_hash(frame_id)
    size = len(html.encode("utf-8", "surrogatepass"))
    conn.execute(
        insert(preview_frames).values(
            id_hash=kept,
            workspace_id=workspace_id,
            html=html,
            size=size,
            expires_at=expires_at,
        )
    )
    # The new frame counts first, whatever the clock says: its URL is about to be answered.
    others = conn.execute(
        select(preview_frames.c.id_hash, preview_frames.c.size)
        .where(preview_frames.c.id_hash != kept)
        .order_by(preview_frames.c.expires_at.desc())
    ).all()
    total, dropped = size, []
    for count, (id_hash, other_size) in enumerate(others, start=2):
        total += other_size
        if count > max_frames or total > max_bytes:
            dropped.append(id_hash)
    if dropped:
        conn.execute(delete(preview_frames).where(preview_frames.c.id_hash.in_(dropped)))


def open_frame(conn: Connection, frame_id: str, now: datetime) -> str | None:
    """The HTML kept under `frame_id`, or None when unknown or expired."""
    found = conn.execute(
        select(preview_frames.c.html).where(
            preview_frames.c.id_hash == frame_hash(frame_id), preview_frames.c.expires_at > now
        )
    ).scalar()
    return None if found is None else str(found)
