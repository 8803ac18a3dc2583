"""The public routes, where anyone's hit writes a row, are limited per client address;
a person's open or click past the limit is answered as usual and not recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.config import load_settings
from tidings.errors import ConfigError

#: One request to each route that changes consent, with a token that opens nothing.
WRITES = [
    ("POST", "/u/forged"),  # one-click unsubscribe
    ("POST", "/p/forged"),  # the preference center
    ("POST", "/confirm/forged"),  # double opt-in
]
#: The routes a person follows: past the rate they still answer, and record nothing.
FOLLOWED = [
    ("GET", "/t/o/forged"),  # the open pixel
    ("GET", "/t/c/forged"),  # the click redirect
]


@pytest.fixture
def app(store: Store) -> FastAPI:
    # Per day, so that no window can turn over while the test runs.
    return create_app(
        store.engine, clock=store.clock, catalog=store.catalog, link_rate="3/day", sms_rate="2/day"
    )


@pytest.fixture
def clients(app: FastAPI) -> Iterator[tuple[TestClient, TestClient]]:
    # The second client shares the first one's app, already started: it is not entered.
    second = TestClient(app, client=("198.51.100.8", 40000), follow_redirects=False)
    with TestClient(app, client=("198.51.100.7", 40000), follow_redirects=False) as first:
        yield first, second


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_consent_change_answers_429_past_the_link_rate(
    clients: tuple[TestClient, TestClient], method: str, path: str
) -> None:
    first, second = clients
    for _ in range(3):
        assert first.request(method, path).status_code != 429
    refused = first.request(method, path)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Too many requests"
    assert "3 per 1 day" in refused.json()["detail"]
    # Another address is not held back by the first one's hits.
    assert second.request(method, path).status_code != 429


def test_the_link_routes_share_one_count_per_address(
    clients: tuple[TestClient, TestClient],
) -> None:
    first, _ = clients
    for method, path in FOLLOWED + WRITES[:1]:
        assert first.request(method, path).status_code != 429
    assert first.post("/confirm/forged").status_code == 429


@pytest.mark.parametrize(("method", "path"), FOLLOWED)
def test_an_open_or_click_past_the_link_rate_is_answered_as_usual(
    clients: tuple[TestClient, TestClient], method: str, path: str
) -> None:
    first, _ = clients
    answers = {first.request(method, path).status_code for _ in range(5)}
    assert 429 not in answers


def test_the_inbound_sms_webhook_has_its_own_rate(
    clients: tuple[TestClient, TestClient],
) -> None:
    first, second = clients
    for _ in range(2):
        # Unsigned: refused, yet counted, since checking costs the server too.
        assert first.post("/v1/sms/inbound/test", data={"Body": "STOP"}).status_code == 403
    assert first.post("/v1/sms/inbound/test", data={"Body": "STOP"}).status_code == 429
    assert first.get("/t/o/forged").status_code == 200
    assert second.post("/v1/sms/inbound/test", data={"Body": "STOP"}).status_code == 403


def test_ingest_and_admin_routes_are_not_limited(
    clients: tuple[TestClient, TestClient],
) -> None:
    first, _ = clients
    for _ in range(5):
        assert first.post("/v1/track", json={}).status_code == 401
        assert first.get("/api/workflows").status_code == 401


@pytest.mark.parametrize("rate", ["lots", "10 per", "", "/minute"])
def test_an_unreadable_rate_setting_is_named(rate: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_LINK_RATE_LIMIT", rate)
    with pytest.raises(ConfigError, match=r"TIDINGS_LINK_RATE_LIMIT.*120/minute"):
        load_settings()


def test_behind_a_trusted_proxy_each_client_is_counted_by_the_address_it_added(
    store: Store,
) -> None:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, link_rate="3/day")
    app.state.auth = replace(app.state.auth, trust_proxy=True)
    # Every call comes from the proxy's address; the proxy appends the client's own.
    with TestClient(app, client=("10.0.0.2", 40000), follow_redirects=False) as proxy:

        def confirm(forwarded: str) -> int:
            answer = proxy.post("/confirm/forged", headers={"X-Forwarded-For": forwarded})
            return answer.status_code

        for _ in range(3):
            assert confirm("198.51.100.7") != 429
        assert confirm("198.51.100.7") == 429
        # A made-up entry before the proxy's own changes nothing...
        assert confirm("203.0.113.99, 198.51.100.7") == 429
        # ...and another client behind the same proxy has its own count.
        assert confirm("198.51.100.8") != 429
        # A made-up line before the proxy's own line changes nothing either.
        two_lines = [("X-Forwarded-For", "203.0.113.98"), ("X-Forwarded-For", "198.51.100.7")]
        assert proxy.post("/confirm/forged", headers=two_lines).status_code == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(
    clients: tuple[TestClient, TestClient],
) -> None:
    first, _ = clients
    for hop in range(3):
        headers = {"X-Forwarded-For": f"203.0.113.{hop}"}
        assert first.post("/confirm/forged", headers=headers).status_code != 429
    assert (
        first.post("/confirm/forged", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    )
