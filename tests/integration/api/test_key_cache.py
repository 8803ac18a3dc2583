"""The key cache: real keys stay cached whatever is presented, revoked keys stop within the TTL."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import Connection

from tests.integration.conftest import Store
from tidings.api import keys as keys_module
from tidings.api.keys import KeyCache
from tidings.storage.api_keys import KeyKind, KeyOwner, create_key, owner_of, revoke_key
from tidings.storage.tables import api_keys

#: Made-up keys start so; the database could only answer None for them.
MADE_UP = "tdw_made-up-"


class Lookups:
    """Counts the database look-ups the cache makes, and still makes them.

    Made-up keys are answered None without the query: 20,000 queries would only slow the
    test, and None is what the database answers for them.
    """

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._real = owner_of

    def __call__(self, conn: Connection, key: str) -> KeyOwner | None:
        self.keys.append(key)
        if key.startswith(MADE_UP):
            return None
        return self._real(conn, key)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Lookups:
    counter = Lookups()
    monkeypatch.setattr(keys_module, "owner_of", counter)
    return counter


class Clock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def _key(store: Store) -> str:
    with store.engine.begin() as conn:
        return create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())


def test_a_flood_of_unknown_keys_does_not_evict_a_real_one(store: Store, lookups: Lookups) -> None:
    real = _key(store)
    # The time stands still: only the flood, not the TTL, could push the key out.
    cache = KeyCache(store.engine, timer=Clock())
    assert cache.owner(real) is not None
    # When 20,000 made-up keys are presented, each is refused...
    for _ in range(20_000):
        assert cache.owner(MADE_UP + secrets.token_urlsafe(16)) is None
    # ...and the real key is still answered from the cache, without a query.
    before = len(lookups.keys)
    owner = cache.owner(real)
    assert owner is not None and owner.workspace_id == store.workspace_id
    assert len(lookups.keys) == before
    assert before == 20_001


def test_an_unknown_key_is_not_remembered(store: Store, lookups: Lookups) -> None:
    cache = KeyCache(store.engine)
    assert cache.owner("tdw_not-yet") is None
    assert cache.owner("tdw_not-yet") is None
    assert lookups.keys == ["tdw_not-yet", "tdw_not-yet"]


def test_a_revoked_key_stops_working_within_the_ttl(store: Store, lookups: Lookups) -> None:
    real = _key(store)
    clock = Clock()
    cache = KeyCache(store.engine, ttl_seconds=5, timer=clock)
    assert cache.owner(real) is not None
    with store.engine.begin() as conn:
        key_id: Any = conn.execute(api_keys.select()).first()
        assert revoke_key(conn, store.workspace_id, key_id.id, store.clock.now())
    # Within the TTL the cached answer stands (documented), with no query...
    clock.seconds = 4.9
    assert cache.owner(real) is not None
    assert lookups.keys == [real]
    # ...and once the TTL has passed the key is refused.
    clock.seconds = 5.1
    assert cache.owner(real) is None
