"""Where time comes from. Nothing else in Tidings asks the system for the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to; the simulator and tests drive it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a clock never goes backwards")
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump forward to `instant`."""
        instant = instant.astimezone(UTC)
        if instant < self._now:
            raise ValueError("a clock never goes backwards")
        self._now = instant
