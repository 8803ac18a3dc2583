"""A template driven by event data cannot stall ingest: the event is stored, the call is
answered, and only the message that would not render is held, with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, outbox, rows
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key

#: The receipt lists one line per item; how many items comes in the event.
RECEIPT = """
id: receipt
name: Receipt
trigger: {event: order_completed}
templates:
  r: {subject: "Your order", text: "{% for i in (1..event.items) %}item {{ i }}\\n{% endfor %}"}
steps:
  - {id: send, type: send, template: r, kind: transactional}
"""


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        key = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        yield client, key


def post(client: TestClient, key: str, path: str, body: Any) -> Any:
    return client.post(path, content=json.dumps(body), auth=(key, ""))


def order(user: str, items: int, message_id: str) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": "order_completed",
        "messageId": message_id,
        "properties": {"items": items},
        "context": {"traits": {"email": f"{user}@example.com"}},
    }


def held(store: Store) -> list[tuple[str, str]]:
    return [
        (r.action, r.detail)
        for r in rows(store, "SELECT action, detail FROM step_log WHERE action = 'held'")
    ]


def test_a_huge_number_in_a_tracked_event_holds_only_its_message(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deploy(store, RECEIPT)

    # When: one event asks for a hundred million lines, through /v1/track
    response = post(client, key, "/v1/track", order("mallory", 100_000_000, "t1"))

    # Then: the call is answered, the event is kept, and the message is held with why
    assert response.status_code == 200
    assert [r.message_id for r in rows(store, "SELECT message_id FROM events")] == ["t1"]
    assert outbox(store) == []
    [(_, detail)] = held(store)
    assert "template error: the range (1..event.items) has 100,000,000 items" in detail


def test_a_runaway_event_in_a_batch_does_not_hold_up_its_neighbour(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deploy(store, RECEIPT)
    batch = [order("mallory", 10**12, "b1"), order("ann", 3, "b2")]

    response = post(client, key, "/v1/batch", {"batch": batch})

    assert response.status_code == 200 and response.json()["accepted"] == 2
    stored = {r.message_id for r in rows(store, "SELECT message_id FROM events")}
    assert stored == {"b1", "b2"}
    # Ann's receipt went out in full; Mallory's was held with the limit it broke.
    [text] = [r.body_text for r in rows(store, "SELECT body_text FROM messages")]
    assert text == "item 1\nitem 2\nitem 3\n"
    [(_, detail)] = held(store)
    assert "1,000,000,000,000 items" in detail
