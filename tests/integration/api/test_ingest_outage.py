"""A database outage during ingestion answers 503, so clients send the calls again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integration.api.test_ingest_api import events, post
from tests.integration.conftest import PG_ADMIN_URL, Store
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.engine import create_engine


@contextmanager
def unreachable(store: Store) -> Iterator[None]:
    """PostgreSQL refuses new connections to the store's database and drops its sessions,
    as during a restart; connections are allowed again on leaving."""
    name = store.engine.url.database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        admin.dispose()


def test_a_batch_during_a_database_outage_is_refused_with_503_and_stored_when_sent_again(
    pg_store: Store,
) -> None:
    store = pg_store
    with store.engine.begin() as conn:
        key = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    batch = {
        "batch": [
            {"type": "track", "userId": f"u{i}", "event": "viewed", "messageId": f"m{i}"}
            for i in range(3)
        ]
    }
    with TestClient(app, raise_server_exceptions=False) as client:
        # Given a server that has seen its write key (so the key is known without a query)
        first = {"userId": "u0", "event": "opened", "messageId": "first"}
        assert post(client, key, "/v1/track", first).status_code == 200

        # When the database goes away, a batch and a single call are refused as a whole,
        # with a status Segment's clients retry (never a 200 that rejects every call)
        with unreachable(store):
            refused = post(client, key, "/v1/batch", batch)
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            single = post(client, key, "/v1/track", {"userId": "u9", "event": "x"})
            assert single.status_code == 503, single.text

        # Then, once it is back, the same batch sent again is stored in full
        again = post(client, key, "/v1/batch", batch)
    assert again.status_code == 200
    assert again.json()["accepted"] == 3 and again.json()["rejected"] == []
    assert events(store) == [
        ("opened", "first"),
        ("viewed", "m0"),
        ("viewed", "m1"),
        ("viewed", "m2"),
    ]
