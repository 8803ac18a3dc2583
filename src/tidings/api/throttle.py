"""Rate limits per client address for the public routes, where every hit writes a row.

Counts live in this process's memory (`limits`' sliding window counter): a restart forgets
them, and several servers each count on their own, which is enough to stop one address
from flooding the database through links anyone can request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from tidings.api.client_address import client_address
from tidings.api.errors import ApiError
from tidings.config import DEFAULT_LINK_RATE, DEFAULT_SMS_RATE

__all__ = ["DEFAULT_LINK_RATE", "DEFAULT_SMS_RATE", "RateLimit", "limited"]


class RateLimit:
    """One named limit, counted per client address."""

    def __init__(self, name: str, rate: str) -> None:
        """A limit named `name` (its counts are its own) at `rate`, like `10/second;300/hour`."""
        self.name = name
        self.items = parse_many(rate)
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def hit(self, address: str, *, per: str = "address") -> None:
        """Count a hit from `address`; 429 with Retry-After once any of its limits is reached.

        `per` names what `address` is in the message (an address, a key)."""
        item = self._reached(address)
        if item is not None:
            raise ApiError(
                429,
                "Too many requests",
                f"at most {item} from one {per}; retry later",
                headers={"Retry-After": str(self._retry_after(item, address))},
            )

    def allows(self, address: str) -> bool:
        """Count a hit from `address`; False once any of its limits is reached (for routes
        that still answer, and only skip their writes)."""
        return self._reached(address) is None

    def _reached(self, address: str) -> RateLimitItem | None:
        for item in self.items:
            if not self._limiter.hit(item, self.name, address):
                return item
        return None

    def _retry_after(self, item: RateLimitItem, address: str) -> int:
        # The limiter's clock is the wall clock: its reset time is an epoch timestamp.
        reset_at = self._limiter.get_window_stats(item, self.name, address).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def limited(limit: RateLimit) -> Callable[[Request], Awaitable[None]]:
    """A route dependency that counts each request against `limit` by its client address."""

    async def check(request: Request) -> None:
        # In memory and quick: no reason to leave the event loop for it.
        limit.hit(client_address(request))

    return check
