"""Settings round-trip: what GET answers, PUT takes back unchanged; the webhook secret is
shown only by a request of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.delivery.webhooks import webhook_secret
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.workspaces import load_workspace


@pytest.fixture
def admin(store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        yield client, {"Authorization": f"Bearer {secret}"}


def test_settings_round_trip_unchanged(
    store: Store, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = admin
    wanted = {
        "sender": {"from_email": "news@shop.example", "postal_address": "1 Main St"},
        "topics": [{"key": "offers", "name": "Offers"}],
    }
    assert client.put("/api/settings", json=wanted, headers=auth).status_code == 200
    before = client.get("/api/settings", headers=auth).json()

    again = client.put("/api/settings", json=before, headers=auth)

    assert again.status_code == 200, again.text
    assert again.json() == before
    assert client.get("/api/settings", headers=auth).json() == before


def test_the_webhook_secret_is_shown_only_when_asked_for(
    store: Store, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = admin
    with store.engine.connect() as conn:
        record = load_workspace(conn, store.workspace_id)
    assert record is not None

    shown = client.post("/api/settings/webhook-secret", headers=auth)

    assert shown.status_code == 200
    assert shown.json() == {"webhook_secret": webhook_secret(record.secret)}
    assert "whsec_" not in client.get("/api/settings", headers=auth).text
    assert client.post("/api/settings/webhook-secret").status_code == 401


HOOK = "https://hooks.slack.example/services/T000/B000/secret-part"


def _stored_hook(store: Store) -> object:
    with store.engine.connect() as conn:
        record = load_workspace(conn, store.workspace_id)
    assert record is not None
    return record.settings["alerts"]["slack_webhook_url"]


def test_the_slack_url_is_shown_masked_and_a_masked_one_sent_back_keeps_it(
    store: Store, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = admin
    wanted = {"alerts": {"slack_webhook_url": HOOK}}
    assert client.put("/api/settings", json=wanted, headers=auth).status_code == 200

    shown = client.get("/api/settings", headers=auth).json()
    assert "secret-part" not in json.dumps(shown)
    assert shown["alerts"]["slack_webhook_url"].startswith("https://hooks.slack.example/")

    shown["sender"] = {"from_email": "news@shop.example", "postal_address": "1 Main St"}
    assert client.put("/api/settings", json=shown, headers=auth).status_code == 200
    assert _stored_hook(store) == HOOK

    replaced = {"alerts": {"slack_webhook_url": "https://hooks.slack.example/services/new"}}
    assert client.put("/api/settings", json=replaced, headers=auth).status_code == 200
    assert _stored_hook(store) == "https://hooks.slack.example/services/new"
