"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

from tidings.core.values import scrubbed

#: Auto-incrementing 64-bit ids; SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


#: What in JSON text may need scrubbing: NaN, Infinity, NUL and surrogate escapes, and
#: numbers of 16 digits or a two-digit exponent. A match only costs a walk of the value.
_SUSPECT = re.compile(r"NaN|Infinity|\\u0000|\\u[dD][89a-fA-F]|\d{16}|[eE]\+?\d\d")


def load_json(text: str | bytes) -> Any:
    """A JSON column's value, readable whatever an older version stored in it.

    Before values were checked at the door, SQLite kept NaN, lone surrogates and huge
    numbers, which broke every answer holding them. The engine reads all JSON through
    this, so such a row reads with its bad parts scrubbed instead of failing the read.
    """
    value = json.loads(text)
    source = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return scrubbed(value) if _SUSPECT.search(source) else value


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store the naive datetime {value}; times are UTC")
        value = value.astimezone(UTC)
        # SQLite has no timezone type; keep naive UTC text that sorts in time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
