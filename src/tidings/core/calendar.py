"""Local-time arithmetic in the contact's timezone, DST included.

Rules: a local time that does not exist (the hour skipped in spring) is taken as the
same wall-clock distance past the gap, so 02:30 becomes 03:30; a local time that happens
twice (the hour repeated in autumn) is taken at its first occurrence.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone by name, or UTC when the name is missing or unknown.

    A profile's timezone is whatever a client sent: a name too long for a file name makes
    the zone lookup raise OSError, which must not fail the journey.
    """
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`, following the DST rules above."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_local_time(
    now: datetime, tz_name: str | None, at: time, weekdays: tuple[str, ...] = ()
) -> datetime:
    """The first instant after `now` when the contact's clock shows `at` on an allowed weekday."""
    tz = zone(tz_name)
    local_day = now.astimezone(tz).date()
    for offset in range(9):
        day = local_day + timedelta(days=offset)
        if weekdays and _WEEKDAYS[day.weekday()] not in weekdays:
            continue
        candidate = at_local(day, at, tz)
        if candidate > now:
            return candidate
    raise AssertionError("a weekday set always matches within eight days")


def anniversary_on(value: date, year: int) -> date:
    """The date's anniversary in `year`; 29 February falls on 28 February in common years."""
    try:
        return value.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def anniversaries_due(
    now: datetime, tz: ZoneInfo, at: time, offset_days: int, grace: timedelta
) -> set[str]:
    """The month-days ("03-03") whose yearly moment, `offset_days` later at local `at` in
    `tz`, fell in the last `grace` before `now`. A 29 February date is due with the 28th
    in common years."""
    local_today = now.astimezone(tz).date()
    due: set[str] = set()
    for shift in (-2, -1, 0, 1):
        local_day = local_today + timedelta(days=shift)
        moment = at_local(local_day, at, tz)
        if not now - grace < moment <= now:
            continue
        day = local_day - timedelta(days=offset_days)
        due.add(day.strftime("%m-%d"))
        if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
            due.add("02-29")
    return due


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by `parts`: the same enrollment and step always get the same one.

    Random paths are drawn this way, not from a random generator, so that a scheduler
    that crashes and runs a step again sends the contact down the same path.
    """
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
