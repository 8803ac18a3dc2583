"""Exports: a segment's members as CSV, page by page, never the whole list in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import Connection

from tidings.storage import segments as store
from tidings.storage.segments import Segment

SEGMENT_COLUMNS = (
    "id",
    "external_id",
    "email",
    "phone",
    "timezone",
    "score",
    "tags",
    "entered_at",
    "attributes",
)


def _cells(row: Any) -> list[Any]:
    return [
        row.id,
        row.external_id or "",
        row.email or "",
        row.phone or "",
        row.timezone,
        row.score,
        ";".join(sorted(row.tags)),
        row.entered_at.isoformat(),
        json.dumps(row.attributes, ensure_ascii=False, sort_keys=True),
    ]


def segment_csv_lines(conn: Connection, segment: Segment, page: int = 1000) -> Iterator[str]:
    """The CSV text of a segment's members, a page of rows per chunk, header first."""
    for text, _ in _chunks(conn, segment, page):
        yield text


def _chunks(conn: Connection, segment: Segment, page: int) -> Iterator[tuple[str, int]]:
    """(CSV text, rows in it) per page.

    Cells that a spreadsheet would run as a formula (= + - @ at the start) are prefixed
    with a quote, so an exported attribute cannot execute when the file is opened.
    """
    buffer = _Lines()
    writer = csv.writer(buffer)
    writer.writerow(SEGMENT_COLUMNS)
    yield buffer.take(), 0
    after = 0
    while True:
        rows = store.member_rows(conn, segment, after, page)
        if not rows:
            return
        for row in rows:
            writer.writerow([_defused(cell) for cell in _cells(row)])
        after = rows[-1].id
        yield buffer.take(), len(rows)


def write_segment_csv(conn: Connection, segment: Segment, out: TextIO) -> int:
    """Write the segment's members to `out`; return how many rows were written."""
    written = 0
    for text, rows in _chunks(conn, segment, 1000):
        out.write(text)
        written += rows
    return written


def _defused(cell: Any) -> Any:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


class _Lines:
    """A write target for csv.writer that hands back what was written since the last take."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text
