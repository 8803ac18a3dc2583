"""scrub stored JSON that no reader can use: NaN, Infinity, lone surrogates, NUL, huge numbers

Before values were checked at the door, SQLite kept such values; then SQLite's JSON
functions called the row malformed (segments, reports, date sweeps failed for everyone)
and answers holding them could not be encoded. Each bad part is replaced: text by U+FFFD
in place of the bad characters, non-finite numbers by null, numbers past 2**53 by their
digits as text. Only rows whose JSON text looks suspect are read.

The scrubbing is written out here, not imported: a migration must not change meaning
when the application's code does.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:30:00
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Tables and their JSON columns that hold what users sent (or copies of it).
_COLUMNS = {
    "contacts": ("attributes", "tags", "consent", "scores"),
    "events": ("properties",),
    "enrollments": ("trigger", "visits"),
    "step_log": ("data",),
    "messages": ("payload",),
}
_SUSPECT = r"NaN|Infinity|\\u0000|\\u[dD][89a-fA-F]|[0-9]{16}|[eE]\+?[0-9]{2}"
_MAX_SAFE_INTEGER = 2**53
_MAX_DEPTH = 64
_PAGE = 500


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if not postgres:
        # SQLite has no regular expressions of its own; lend it Python's for this query.
        pattern = re.compile(_SUSPECT)
        bind.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "tidings_suspect",
            1,
            lambda text: text is not None and pattern.search(text) is not None,
            deterministic=True,
        )
    for table, columns in _COLUMNS.items():
        for column in columns:
            _scrub_column(bind, table, column, postgres)


def downgrade() -> None:
    # The bad values are gone for good; nothing to restore.
    pass


def _scrub_column(bind: sa.Connection, table: str, column: str, postgres: bool) -> None:
    if postgres:
        select = f"SELECT id, {column}::text FROM {table} WHERE id > :after AND {column}::text ~ :pattern ORDER BY id LIMIT {_PAGE}"  # noqa: E501
        update = f"UPDATE {table} SET {column} = CAST(:value AS jsonb) WHERE id = :id"
    else:
        select = f"SELECT id, {column} FROM {table} WHERE id > :after AND tidings_suspect({column}) ORDER BY id LIMIT {_PAGE}"  # noqa: E501
        update = f"UPDATE {table} SET {column} = :value WHERE id = :id"
    after = 0
    while True:
        params: dict[str, Any] = {"after": after}
        if postgres:
            params["pattern"] = _SUSPECT
        page = bind.execute(sa.text(select), params).all()
        if not page:
            return
        for row_id, text in page:
            after = row_id
            clean = _scrubbed_text(text)
            if clean != text:
                bind.execute(sa.text(update), {"value": clean, "id": row_id})


def _scrubbed_text(text: str | bytes) -> str:
    try:
        value = json.loads(text)
    except RecursionError:
        return "null"
    clean = json.dumps(_scrub(value, 0), allow_nan=False)
    # Unchanged values keep their exact text (and key order), so they are not rewritten.
    return clean if clean != json.dumps(value) else (text if isinstance(text, str) else clean)


def _scrub(value: Any, depth: int) -> Any:
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return None
        return {_text(str(k)): _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= _MAX_DEPTH:
            return None
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if abs(value) <= _MAX_SAFE_INTEGER else str(value)


def _text(text: str) -> str:
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)
