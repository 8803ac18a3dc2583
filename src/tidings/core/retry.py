"""Retry timing: how long to wait before trying again, for messages and for loops.

Both are exponential (base, 2*base, 4*base ... up to a cap). A message's wait is also
jittered, so many messages failing together do not all retry in the same second; the jitter
is an argument, so this stays a pure function.
"""

from __future__ import annotations

from datetime import timedelta

#: A supervised loop's first wait after a failed round, and its longest (seconds).
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


def retry_delay(attempts: int, base: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, times 0.5..1.

    `jitter` in [0, 1) comes from the caller (random in production).
    """
    delay: timedelta = min(base * (2 ** max(attempts - 1, 0)), cap)
    return delay * (0.5 + jitter / 2)


def backoff(failures: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds a loop waits after `failures` failed rounds in a row: base, 2*base, ... cap."""
    return float(min(base * 2 ** max(failures - 1, 0), cap))
