"""Moments relative to other times: `event.starts_at - 1h`, `contact.renewal_date - 30d`,
`started_at + 3d` (the journey's start, its trigger's time).

A moment is an anchor (a field holding a date or a date-time, or `started_at`) and an
optional offset. A date-time without a zone, and a date, are read on the contact's clock;
a date is taken at `at_time` (midnight unless given) that day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tidings.core.calendar import at_local, zone
from tidings.core.conditions import Facts, parse_field
from tidings.core.conditions.ast import Field
from tidings.core.conditions.evaluate import resolve
from tidings.core.duration import parse_duration
from tidings.core.errors import ConditionSyntaxError

#: The anchor that means "when the journey started" (its trigger's time).
STARTED_AT = "started_at"
_FORM = re.compile(r"^\s*(?P<anchor>[\w.]+)\s*(?:(?P<sign>[+-])\s*(?P<offset>\w+))?\s*$")


@dataclass(frozen=True)
class Moment:
    """A parsed `at:` of a wait: its anchor (None for `started_at`) and its offset."""

    anchor: Field | None
    offset: timedelta


def parse_moment(text: str) -> Moment:
    """Parse `field [+|- duration]`.

    Raises:
        ValueError: naming what is wrong and what a moment looks like.
    """
    found = _FORM.match(text)
    if found is None:
        raise ValueError(
            f"{text!r} is not a moment; write a field and an offset, like"
            " event.starts_at - 1h, contact.renewal_date - 30d or started_at + 3d"
        )
    anchor_text = found["anchor"]
    try:
        anchor = None if anchor_text == STARTED_AT else parse_field(anchor_text)
    except ConditionSyntaxError as exc:
        raise ValueError(f"{text!r}: {exc.reason}") from exc
    offset = timedelta()
    if found["offset"] is not None:
        offset = parse_duration(found["offset"])
        if found["sign"] == "-":
            offset = -offset
    return Moment(anchor, offset)


def _local_date(value: Any) -> date | None:
    """The value as a calendar date when it holds a date without a time, else None."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:  # a bare date
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
    return None


def as_instant(value: Any, tz_name: str | None, at_time: time | None) -> datetime | None:
    """A field's value as a UTC instant, or None when it holds no date or date-time."""
    day = _local_date(value)
    if day is not None:
        return at_local(day, at_time or time(0, 0), zone(tz_name))
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if found.tzinfo is None:
        return found.replace(tzinfo=zone(tz_name)).astimezone(UTC)
    return found.astimezone(UTC)


def moment_of(
    moment: Moment, facts: Facts, started_at: datetime, tz_name: str | None, at_time: time | None
) -> datetime | None:
    """When `moment` falls for this journey, or None when its field holds no time."""
    if moment.anchor is None:
        return started_at + moment.offset
    value = resolve(moment.anchor, facts)
    day = _local_date(value)
    if day is not None and moment.offset % timedelta(days=1) == timedelta():
        # On a date, whole days or weeks move the calendar date, so "30d before, at 09:00"
        # is 09:00 on the contact's clock even across a daylight-saving change; a sub-day
        # offset is added to the instant below.
        try:
            moved = day + moment.offset
        except OverflowError:
            return None
        return at_local(moved, at_time or time(0, 0), zone(tz_name))
    base = as_instant(value, tz_name, at_time)
    return None if base is None else base + moment.offset
