"""Durations as people write them in workflow files: `90s`, `15m`, `1h`, `3d`, `2w`, `1d12h`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Parse `3d`, `1h30m` or `2w` into a timedelta.

    Raises:
        ValueError: with a message that says what a duration looks like.
    """
    if not isinstance(text, str) or not _WHOLE.match(text):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, like 30m, 1h, 3d or 2w"
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if seconds == 0:
        raise ValueError(f"{text!r} is zero; a duration must be longer than that")
    return timedelta(seconds=seconds)


def format_days(delta: timedelta) -> str:
    """Whole days as marketers count them ("90d", not "12w6d"); anything else as
    `format_duration` writes it."""
    whole_days, rest = divmod(int(delta.total_seconds()), 86400)
    return f"{whole_days}d" if whole_days and not rest else format_duration(delta)


def format_duration(delta: timedelta) -> str:
    """The shortest text that `parse_duration` reads back as `delta`."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in sorted(_UNITS.items(), key=lambda kv: -kv[1]):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
