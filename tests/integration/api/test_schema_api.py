"""GET /api/schema: the names the condition editor completes, read from the data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import identify, track
from tidings.storage.people import Role

HOSTILE = "<img src=x onerror=alert(1)>"


def test_the_schema_lists_fields_and_events_seen(store: Store) -> None:
    identify(store, "ann", email="ann@example.com", plan="pro", consent={"push": "subscribed"})
    identify(store, "bob", **{HOSTILE: 1})
    track(store, "ann", "cart_abandoned", cart_id="c1", value=30)
    track(store, "ann", "cart_abandoned", currency="EUR")
    track(store, "bob", "signed_up")
    add_member(store, "vi@example.com", Role.VIEWER)
    for client in served(store):
        viewer = Browser(client)
        viewer.login("vi@example.com")
        answer = viewer.call("GET", "/api/schema")
        assert answer.status_code == 200, answer.text
        schema = answer.json()
        # Standard fields always; custom attributes as seen, markup and all (the console
        # shows them as text).
        assert {"email", "tags", "first_name", "plan", HOSTILE} <= set(schema["contact"])
        assert schema["consent"] == ["email", "push", "sms"]
        assert schema["events"] == [
            {"name": "cart_abandoned", "properties": ["cart_id", "currency", "value"]},
            {"name": "signed_up", "properties": []},
        ]
        assert TestClient(client.app).get("/api/schema").status_code == 401
