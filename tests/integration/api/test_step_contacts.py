"""Who is at a step now: the workflow's enrollments filtered by step, as the canvas asks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, subscriber, track
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key

FLOW = """
id: flow
name: Flow
trigger: {event: signed_up}
templates:
  hi: {subject: Hi, text: Hello}
steps:
  - {id: first_wait, type: wait, for: 1h}
  - {id: hi, type: send, template: hi}
  - {id: second_wait, type: wait, for: 1d}
"""


def test_the_contacts_at_a_step(store: Store) -> None:
    deploy(store, FLOW)
    for user in ("ann", "bob"):
        subscriber(store, user)
        track(store, user, "signed_up")
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app) as client:

        def at(step: str) -> list[str]:
            found = client.get(
                "/api/workflows/flow/enrollments",
                params={"step": step, "status": "waiting"},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert found.status_code == 200, found.text
            return [e["contact_email"] for e in found.json()]

        # The canvas names the people waiting by their email, not by an id.
        assert sorted(at("first_wait")) == ["ann@example.com", "bob@example.com"]
        assert at("second_wait") == []
