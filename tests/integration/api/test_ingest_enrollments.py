"""An event is never lost to the journeys it sets off: a conflicting enrollment is decided
and logged, and the event and its batch neighbours are stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, rows
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key

#: Every order enrolls the customer in the thank-you flow ...
ORDERS = """
id: orders
name: Orders
trigger: {event: order_completed}
entry: {reentry: always}
steps:
  - {id: thank, type: enroll, workflow: thanks}
"""

#: ... which an order also starts on its own: one event, two ways into one journey.
THANKS = """
id: thanks
name: Thanks
trigger: {event: order_completed}
entry: {reentry: always}
templates:
  t: {subject: "Thank you", text: "..."}
steps:
  - {id: pause, type: wait, for: 1d}
  - {id: thank, type: send, template: t}
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


def order(user: str, message_id: str) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": "order_completed", "messageId": message_id}


def stored_events(store: Store) -> list[str]:
    return [r.message_id for r in rows(store, "SELECT message_id FROM events ORDER BY id")]


def test_two_orders_tracked_are_both_stored_and_one_journey_runs(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deploy(store, ORDERS)
    deploy(store, THANKS)

    first = post(client, key, "/v1/track", order("ann", "o1"))
    second = post(client, key, "/v1/track", order("ann", "o2"))

    assert (first.status_code, second.status_code) == (200, 200)
    assert stored_events(store) == ["o1", "o2"]
    waiting = [s for s in enrollment_states(store) if s[0] == "waiting"]
    assert waiting == [("waiting", "pause", None)]  # one thank-you journey, never two at once
    refusals = rows(store, "SELECT detail FROM step_log WHERE action = 'not_enrolled'")
    assert refusals and all(r.detail == "already in this workflow" for r in refusals)


def test_a_batch_with_two_orders_stores_every_call(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deploy(store, ORDERS)
    deploy(store, THANKS)
    batch = [
        {"type": "track", "userId": "bob", "event": "viewed", "messageId": "v1"},
        order("ann", "o1"),
        order("ann", "o2"),
        order("cy", "o3"),
    ]

    response = post(client, key, "/v1/batch", {"batch": batch})

    assert response.status_code == 200 and response.json()["accepted"] == 4
    assert stored_events(store) == ["v1", "o1", "o2", "o3"]
    owners = rows(
        store,
        "SELECT c.external_id FROM enrollments e JOIN contacts c ON c.id = e.contact_id"
        " WHERE e.status = 'waiting' ORDER BY c.external_id",
    )
    assert [r.external_id for r in owners] == ["ann", "cy"]
