"""A segment's size over time: one size a day, kept by each full refresh (the sweep's)."""

from __future__ import annotations

from datetime import UTC, timedelta

from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import identify
from tidings.api.app import create_app
from tidings.runtime.segments import refresh_segment
from tidings.storage import segments as store_segments
from tidings.storage.api_keys import KeyKind, create_key


def test_the_segment_page_has_its_size_by_day(store: Store) -> None:
    identify(store, "ann", plan="pro")
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    auth = {"Authorization": f"Bearer {secret}"}
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app) as client:
        body = {"name": "Pro", "condition": 'contact.plan == "pro"'}
        assert client.put("/api/segments/pro", json=body, headers=auth).status_code in (200, 201)
        first_day = store.clock.now().astimezone(UTC).date()
        store.clock.advance(timedelta(days=1))
        identify(store, "bob", plan="pro")
        identify(store, "cy", plan="pro")

        def sweep() -> None:
            with store.engine.begin() as conn:
                segment = store_segments.find_segment(conn, store.workspace_id, "pro")
                assert segment is not None
                refresh_segment(conn, store.workspace_id, segment, store.clock.now())

        sweep()
        identify(store, "dee", plan="free")
        sweep()  # the same day again: its size replaces the day's earlier one
        page = client.get("/api/segments/pro", headers=auth).json()
        assert page["history"] == [
            {"day": first_day.isoformat(), "size": 1},
            {"day": (first_day + timedelta(days=1)).isoformat(), "size": 3},
        ]
        assert client.delete("/api/segments/pro", headers=auth).status_code == 204
