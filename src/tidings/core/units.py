"""Durations and times of day as workflow and settings files write them: `3d`, `09:00`."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from tidings.core.duration import format_duration, parse_duration


def _to_duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f"{value} has no unit; write it like {value}s, {value}m, {value}h or {value}d"
        )
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
]


def _to_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as the base-60 number 540.
        value = f"{value // 60:02d}:{value % 60:02d}"
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day; write it like 09:00 or 18:30") from None


LocalTime = Annotated[
    time,
    BeforeValidator(_to_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]
