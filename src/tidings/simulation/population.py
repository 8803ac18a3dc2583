"""The people of a small online store, each with habits and propensities."""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

_FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Mei",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
]
_LAST = [
    "Abbott",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Varga",
    "Weber",
    "Young",
]
# Where the store's customers live, weighted roughly like a US/EU shop with some reach beyond.
_ZONES = [
    ("America/New_York", 24),
    ("America/Chicago", 12),
    ("America/Denver", 5),
    ("America/Los_Angeles", 14),
    ("Europe/London", 12),
    ("Europe/Berlin", 9),
    ("Europe/Paris", 7),
    ("Europe/Madrid", 4),
    ("Asia/Tokyo", 5),
    ("Australia/Sydney", 5),
    ("America/Sao_Paulo", 3),
]


@dataclass
class Shopper:
    """One simulated customer. Propensities move as messages reach them."""

    index: int
    external_id: str
    email: str
    first_name: str
    timezone: str
    reading_hour: int  # local hour when they usually read email
    open_p: float  # chance to open a message
    click_p: float  # chance to click, once opened
    buy_p: float  # chance to buy after clicking
    session_rate: float  # visits per day
    cart_p: float  # chance a visit ends with an abandoned cart
    buy_organic_p: float  # chance a visit ends with a purchase, unprompted
    order_value: float  # typical basket, in the store's currency
    subscribed: bool
    joins_at: datetime | None  # None: already a customer when the simulation starts
    source: str = "search"  # where they came from (the contact attribute `source`)
    last_seen_days_ago: float = 0.0
    open_cart: tuple[str, float] | None = None
    orders: int = 0
    extra: dict[str, float] = field(default_factory=dict)


#: Acquisition sources: (name, share in percent, how much more than usual they spend).
_SOURCES = [
    ("search", 35, 1.0),
    ("instagram", 25, 0.8),
    ("referral", 15, 1.35),
    ("newsletter", 15, 1.1),
    ("ads", 10, 0.75),
]


def _source(index: int) -> tuple[str, float]:
    """A person's source, from a hash of their index: it leaves the random stream (and so
    every other trait of the population) as it was."""
    point = zlib.crc32(f"source:{index}".encode()) % 100
    for name, share, spend in _SOURCES:
        if point < share:
            return name, spend
        point -= share
    return _SOURCES[-1][0], _SOURCES[-1][2]


def _beta(rng: random.Random, a: float, b: float) -> float:
    return rng.betavariate(a, b)


def make_population(count: int, start: datetime, days: int, rng: random.Random) -> list[Shopper]:
    """`count` people: about 60% already customers (some long quiet), the rest joining later."""
    zones = [z for z, _ in _ZONES]
    weights = [w for _, w in _ZONES]
    people = []
    for i in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        existing = rng.random() < 0.6
        quiet_days = rng.uniform(0, 160) if existing else 0.0
        dormant = quiet_days > 90
        joins = None if existing else start + timedelta(seconds=rng.uniform(0, days * 86400))
        evening = rng.random() < 0.45
        source, spend = _source(i)
        people.append(
            Shopper(
                index=i,
                external_id=f"cus_{i:05d}",
                email=f"{first.lower()}.{last.lower()}.{i}@example.com",
                first_name=first,
                timezone=rng.choices(zones, weights)[0],
                reading_hour=int(rng.gauss(20 if evening else 8, 1.2)) % 24,
                open_p=_beta(rng, 2.2, 3.5),
                click_p=_beta(rng, 1.6, 5.0),
                buy_p=_beta(rng, 1.8, 4.0),
                session_rate=(0.01 if dormant else 1.0) * math.exp(rng.gauss(math.log(0.12), 0.7)),
                cart_p=_beta(rng, 2, 9),
                buy_organic_p=_beta(rng, 1.2, 14),
                order_value=round(math.exp(rng.gauss(math.log(55), 0.55)) * spend, 2),
                subscribed=rng.random() < 0.88,
                joins_at=joins,
                source=source,
                last_seen_days_ago=quiet_days,
            )
        )
    return people
