"""POST /api/workflows/{key}/dry-run: the publish dialog's summary on the real contacts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import deploy
from tests.integration.test_dry_run import CART, fingerprint, set_up
from tidings.storage.people import Role


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "ed@example.com", Role.EDITOR)
    add_member(store, "vi@example.com", Role.VIEWER)
    yield from served(store)


def _yaml(source: str) -> dict[str, Any]:
    return {"content": source, "headers": {"Content-Type": "application/yaml"}}


def _as(client: TestClient, email: str) -> Browser:
    browser = Browser(client)
    assert browser.login(email).status_code == 200
    return browser


def test_an_editor_dry_runs_a_workflow_on_the_workspaces_contacts(
    store: Store, client: TestClient
) -> None:
    set_up(store)
    deploy(store, CART)
    ed = _as(client, "ed@example.com")
    before = fingerprint(store.engine)
    answer = ed.call("POST", "/api/workflows/cart/dry-run", json={"sample": 3, "days": 2})
    assert answer.status_code == 200, answer.text
    after = fingerprint(store.engine)
    # Only the sessions' last-seen times move; no contact, event, journey, message or
    # audit line is written.
    assert {k: v for k, v in after.items() if k != "sessions"} == {
        k: v for k, v in before.items() if k != "sessions"
    }
    body = answer.json()
    assert body["contacts"] == 3
    [cart] = body["workflows"]
    steps = {s["step_id"]: s for s in cart["steps"]}
    assert cart["entered"] == 3
    assert steps["vip"]["deferred"] == {"quiet_hours": 1}
    assert [s["sent"] for s in (steps["hot"], steps["vip"], steps["cold"])] == [1, 1, 1]
    too_many = ed.call("POST", "/api/workflows/cart/dry-run", json={"sample": 50_000})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["path"] == "body.sample"
    bad_since = ed.call("POST", "/api/workflows/cart/dry-run", json={"since": "a while"})
    assert bad_since.status_code == 400 and "since" in bad_since.json()["detail"]
    assert ed.call("POST", "/api/workflows/nope/dry-run", json={}).status_code == 404
    viewer = _as(client, "vi@example.com")
    refused = viewer.call("POST", "/api/workflows/cart/dry-run", json={})
    assert refused.status_code == 403 and "editor role" in refused.json()["detail"]


def test_the_publish_dialog_dry_runs_the_unpublished_draft(
    store: Store, client: TestClient
) -> None:
    set_up(store)
    ed = _as(client, "ed@example.com")
    url = "/api/workflows/cart/dry-run"
    # Nothing published and no draft yet: nothing to run, and the answer says how to fix it.
    assert ed.call("POST", url, json={"sample": 3}).status_code == 404
    missing = ed.call("POST", url, json={"sample": 3, "draft": True})
    assert missing.status_code == 404 and "no draft of 'cart'" in missing.json()["detail"]
    # A draft whose bar for "hot" nobody clears: the run is of the draft, not of anything live.
    draft = CART.replace("engagement >= 20", "engagement >= 1000")
    assert ed.call("PUT", "/api/workflows/cart/draft", **_yaml(draft)).status_code == 200
    before = fingerprint(store.engine)
    answer = ed.call("POST", url, json={"sample": 3, "days": 2, "draft": True})
    assert answer.status_code == 200, answer.text
    [cart] = answer.json()["workflows"]
    steps = {s["step_id"]: s for s in cart["steps"]}
    assert cart["entered"] == 3
    assert [s["sent"] for s in (steps["hot"], steps["vip"], steps["cold"])] == [0, 1, 2]
    assert "hot" in cart["never_reached"]
    after = fingerprint(store.engine)
    assert {k: v for k, v in after.items() if k != "sessions"} == {
        k: v for k, v in before.items() if k != "sessions"
    }
    # A draft the validator refuses is refused here too, with the problems named.
    broken = CART.replace("else: cold", "else: nowhere")
    assert ed.call("PUT", "/api/workflows/cart/draft", **_yaml(broken)).status_code == 200
    refused = ed.call("POST", url, json={"draft": True})
    assert refused.status_code == 422 and "nowhere" in refused.text
