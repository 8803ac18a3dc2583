"""A template driven by event data cannot stall ingest: the event is stored, the call is
answered, and only the message that would not render is held, with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, outbox, rows
from tidings.api.app import create_app
from tidings.runtime.ingest import Incoming, ingest
from tidings.runtime.journeys import JourneyLimits
from tidings.runtime.scheduler import run_until_idle
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


class Ticks:
    """A clock that moves one second each time it is read, whatever the machine's speed:
    a journey's core call reads a batch clock twice (one second spent), and a render
    reads its clock once at its start and every few dozen nodes."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


@contextmanager
def app_with(store: Store, limits: JourneyLimits) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        key = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, journey_limits=limits)
    with TestClient(app, follow_redirects=False) as client:
        yield client, key


def test_a_render_past_its_time_limit_holds_only_its_message(store: Store) -> None:
    deploy(store, RECEIPT)
    limits = JourneyLimits(render_seconds=3, render_clock=Ticks())
    with app_with(store, limits) as (client, key):
        # When: one receipt of 1,000 lines (dozens of clock reads) and one of 2 lines
        batch = [order("mallory", 1000, "r1"), order("ann", 2, "r2")]
        response = post(client, key, "/v1/batch", {"batch": batch})

    # Then: both events are stored, Ann's receipt is queued, Mallory's held with why
    assert response.status_code == 200 and response.json()["accepted"] == 2
    assert {r.message_id for r in rows(store, "SELECT message_id FROM events")} == {"r1", "r2"}
    [text] = [r.body_text for r in rows(store, "SELECT body_text FROM messages")]
    assert text == "item 1\nitem 2\n"
    [(_, detail)] = held(store)
    assert detail == "template error: the template takes more than 3 s to render"


def test_journeys_past_the_batch_time_are_left_for_the_scheduler(store: Store) -> None:
    deploy(store, RECEIPT)
    # Each journey costs one tick of the batch's clock: two run, the rest must wait.
    limits = JourneyLimits(batch_seconds=2, batch_clock=Ticks())
    with app_with(store, limits) as (client, key):
        # When: a batch of five orders, each starting a receipt journey
        batch = [order(f"u{i}", 2, f"o{i}") for i in range(5)]
        response = post(client, key, "/v1/batch", {"batch": batch})

    # Then: every event is stored and enrolled, but only two receipts were rendered;
    # the other three journeys stand at their first step, due now
    assert response.status_code == 200 and response.json()["accepted"] == 5
    assert len(rows(store, "SELECT id FROM events")) == 5
    assert sorted(enrollment_states(store)) == [
        ("active", "send", None),
        ("active", "send", None),
        ("active", "send", None),
        ("completed", None, "reached the end"),
        ("completed", None, "reached the end"),
    ]
    assert len(outbox(store)) == 2

    # When: the scheduler runs (with no batch limit of its own)
    assert run_until_idle(store.engine, store.clock, store.catalog) == 3

    # Then: every receipt is queued once, in full, and every journey is done
    texts = [r.body_text for r in rows(store, "SELECT body_text FROM messages")]
    assert texts == ["item 1\nitem 2\n"] * 5
    assert {status for status, _, _ in enrollment_states(store)} == {"completed"}
    sent_to = {r.recipient for r in rows(store, "SELECT recipient FROM messages")}
    assert sent_to == {f"u{i}@example.com" for i in range(5)}


#: A journey that waits for the order, then sends a thank-you.
FOLLOW_UP = """
id: follow_up
name: Follow-up
trigger: {event: signed_up}
templates:
  t: {subject: "Thanks", text: "Thanks for your order of {{ event.total }}"}
steps:
  - {id: wait, type: wait, event: order_completed, timeout: 3d}
  - {id: thanks, type: send, template: t, kind: transactional}
"""


def test_a_journey_resumed_after_the_batch_time_is_run_by_the_scheduler(store: Store) -> None:
    # Given: a journey waiting for an order
    deploy(store, FOLLOW_UP)
    signed_up = Incoming(
        "s1",
        "ann",
        "signed_up",
        store.clock.now(),
        {"total": 30},
        traits={"email": "ann@example.com"},
    )
    ingest(store.engine, store.workspace_id, [signed_up], store.clock, store.catalog)
    assert enrollment_states(store) == [("waiting", "wait", None)]

    # When: the order arrives in a batch with no time for journeys at all
    order = Incoming("o1", "ann", "order_completed", store.clock.now(), {"total": 30})
    limits = JourneyLimits(batch_seconds=0)
    ingest(store.engine, store.workspace_id, [order], store.clock, store.catalog, limits=limits)

    # Then: the event is stored and the journey moved past its wait, due now, unsent
    assert len(rows(store, "SELECT id FROM events")) == 2
    assert enrollment_states(store) == [("active", "thanks", None)]
    assert outbox(store) == []

    # When: the scheduler runs, the thank-you goes out once
    assert run_until_idle(store.engine, store.clock, store.catalog) == 1
    [text] = [r.body_text for r in rows(store, "SELECT body_text FROM messages")]
    assert text == "Thanks for your order of 30"
    assert enrollment_states(store) == [("completed", None, "reached the end")]


APPROVED_RECEIPT = """
id: vip_receipt
name: Receipt after a look
trigger: {event: order_completed}
templates:
  r: {subject: "Your order", text: "{% for i in (1..event.items) %}item {{ i }}\\n{% endfor %}"}
steps:
  - {id: ask, type: approval, message: "Send it?", timeout: 2d, on_reject: done}
  - {id: send, type: send, template: r, kind: transactional}
  - {id: done, type: exit}
"""


def test_a_journey_an_approval_resumes_renders_within_the_servers_limit(store: Store) -> None:
    # The limit the server was started with (TIDINGS_RENDER_SECONDS) holds for the journey
    # a person's approval runs on, not only for the ones ingest and the scheduler run.
    deploy(store, APPROVED_RECEIPT)
    limits = JourneyLimits(render_seconds=3, render_clock=Ticks())
    with app_with(store, limits) as (client, key):
        assert post(client, key, "/v1/track", order("mallory", 1000, "r1")).status_code == 200
        with store.engine.begin() as conn:
            secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
        admin = {"Authorization": f"Bearer {secret}"}
        [pending] = client.get("/api/approvals", headers=admin).json()
        decided = client.post(
            f"/api/approvals/{pending['id']}/approve", json={"by": "maria"}, headers=admin
        )
    assert decided.status_code == 200, decided.text
    assert rows(store, "SELECT id FROM messages") == []
    [(_, detail)] = held(store)
    assert detail == "template error: the template takes more than 3 s to render"
