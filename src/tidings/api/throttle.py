"""Login throttling: too many failures for one email or from one address earn a 429.

Kept in memory, per server process: a restart forgets it, and several processes each
count on their own. That is enough to make guessing passwords slow (argon2 makes each
guess costly too) without a table written on every failed attempt.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from tidings.clock import Clock

#: Failures counted over this window.
WINDOW = timedelta(minutes=15)
#: Failed attempts allowed per email within the window; the next one is refused.
PER_EMAIL = 5
#: Failed attempts allowed per client address (many emails from one place).
PER_ADDRESS = 20


class LoginThrottle:
    """Counts recent failures per email and per address."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds to wait before trying again, or None when a try is allowed now."""
        now = self._clock.now()
        waits = [
            self._wait(f"email:{email}", PER_EMAIL, now),
            self._wait(f"address:{address}", PER_ADDRESS, now),
        ]
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def failed(self, email: str, address: str) -> None:
        """Count one failed attempt against both the email and the address."""
        now = self._clock.now()
        with self._lock:
            if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                self._failures.clear()
            for key in (f"email:{email}", f"address:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, email: str) -> None:
        """Forget the email's failures: its owner got in."""
        with self._lock:
            self._failures.pop(f"email:{email}", None)

    def _wait(self, key: str, limit: int, now: datetime) -> int | None:
        with self._lock:
            times = self._failures.get(key)
            if not times:
                return None
            while times and times[0] <= now - WINDOW:
                times.popleft()
            if len(times) < limit:
                return None
            return max(1, math.ceil((times[0] + WINDOW - now).total_seconds()))
