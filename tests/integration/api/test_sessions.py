"""Logging in and out: the cookie, the CSRF token, throttling, and equal answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tests.integration.api.people import PASSWORD, Browser, add_member, secret_key, served
from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF
from tidings import passwords
from tidings.api.app import create_app
from tidings.api.auth import COOKIE
from tidings.storage.people import Role
from tidings.storage.workspaces import ensure_workspace


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "ann@example.com", Role.EDITOR)
    yield from served(store)


def test_login_answers_who_where_and_as_what_and_sets_a_strict_cookie(
    store: Store, client: TestClient
) -> None:
    other = _workspace(store, "brand-b")
    add_member(store, "ann@example.com", Role.VIEWER, other)
    response = client.post(
        "/api/session", json={"email": "Ann@Example.com", "password": PASSWORD, "workspace": "test"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["person"] == {"email": "ann@example.com", "name": "ann"}
    assert body["role"] == "editor"
    # The key is what login and switching take; the name is what people read.
    assert body["workspace"] == {"key": "test", "name": "Test"}
    assert body["workspaces"] == [
        {"key": "brand-b", "name": "Brand B", "role": "viewer"},
        {"key": "test", "name": "Test", "role": "editor"},
    ]
    assert len(body["csrf_token"]) >= 32
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "Path=/", "SameSite=strict"):
        assert flag in cookie
    assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would be dropped
    assert client.get("/api/session").json() == body


def test_the_cookie_is_secure_over_https_and_behind_a_trusted_proxy_only(store: Store) -> None:
    add_member(store, "ann@example.com", Role.OWNER)
    login = {"email": "ann@example.com", "password": PASSWORD}
    proxied = {"X-Forwarded-Proto": "https"}
    for client in served(store):
        assert (
            "Secure"
            not in client.post("/api/session", json=login, headers=proxied).headers["set-cookie"]
        )
    for client in served(store, trust_proxy=True):
        assert (
            "Secure"
            in client.post("/api/session", json=login, headers=proxied).headers["set-cookie"]
        )
        # The proxy's own line comes last; a client's line before it is not believed.
        two_lines = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "http")]
        assert (
            "Secure"
            not in client.post("/api/session", json=login, headers=two_lines).headers["set-cookie"]
        )
    app = client.app
    with TestClient(app, base_url="https://testserver") as direct:
        assert "Secure" in direct.post("/api/session", json=login).headers["set-cookie"]


def test_workspace_choice_at_login_and_switching(store: Store, client: TestClient) -> None:
    other = _workspace(store, "brand-b")
    add_member(store, "ann@example.com", Role.VIEWER, other)
    browser = Browser(client)
    chosen = browser.login("ann@example.com", workspace="brand-b").json()
    assert (chosen["workspace"], chosen["role"]) == (
        {"key": "brand-b", "name": "Brand B"},
        "viewer",
    )
    switched = browser.call("POST", "/api/session/workspace", json={"workspace": "test"})
    assert switched.status_code == 200, switched.text
    assert (switched.json()["workspace"], switched.json()["role"]) == (
        {"key": "test", "name": "Test"},
        "editor",
    )
    browser.csrf = switched.json()["csrf_token"]
    # The new workspace's role applies at once: ann may deploy here.
    deployed = browser.call("POST", "/api/workflows", content=HANDOFF)
    assert deployed.status_code == 201, deployed.text
    refused = browser.call("POST", "/api/session/workspace", json={"workspace": "elsewhere"})
    assert refused.status_code == 403
    assert "brand-b, test" in refused.json()["detail"]


def test_unknown_email_and_wrong_password_get_the_same_answer_after_the_same_work(
    store: Store, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(password))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_HASHER", Counting())
    unknown = client.post("/api/session", json={"email": "nobody@example.com", "password": "x1"})
    wrong = client.post("/api/session", json={"email": "ann@example.com", "password": "x2"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.headers["content-type"] == "application/problem+json"
    # Both ran one argon2 verification: the unknown email against the dummy hash.
    assert verified == ["x1", "x2"]


def test_repeated_failures_get_429_with_retry_after_until_the_window_passes(
    store: Store, client: TestClient
) -> None:
    bad = {"email": "ann@example.com", "password": "wrong password"}
    for _ in range(5):
        assert client.post("/api/session", json=bad).status_code == 401
    blocked = client.post("/api/session", json={"email": "ann@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert blocked.headers["content-type"] == "application/problem+json"
    store.clock.advance(timedelta(minutes=15, seconds=1))
    again = client.post("/api/session", json={"email": "ann@example.com", "password": PASSWORD})
    assert again.status_code == 200


def test_one_address_guessing_many_emails_is_throttled(store: Store, client: TestClient) -> None:
    for n in range(20):
        attempt = {"email": f"guess{n}@example.com", "password": "wrong password"}
        assert client.post("/api/session", json=attempt).status_code == 401
    attempt = {"email": "ann@example.com", "password": PASSWORD}
    assert client.post("/api/session", json=attempt).status_code == 429


@pytest.mark.parametrize("trusted", [False, True])
def test_a_made_up_x_forwarded_for_does_not_escape_the_address_limit(
    store: Store, trusted: bool
) -> None:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, trust_proxy=trusted)
    # Every call comes from one peer, a proxy when trusted, which appends what it saw.
    with TestClient(app, client=("10.0.0.2", 40000)) as peer:

        def attempt(n: int, forwarded: str) -> int:
            guess = {"email": f"guess{n}@example.com", "password": "wrong password"}
            headers = {"X-Forwarded-For": forwarded}
            return peer.post("/api/session", json=guess, headers=headers).status_code

        for n in range(20):
            assert attempt(n, f"203.0.113.{n}, 198.51.100.7") == 401
        assert attempt(20, "203.0.113.99, 198.51.100.7") == 429
        # Behind a trusted proxy another client has its own count; without one, the
        # header is not believed at all.
        assert attempt(21, "198.51.100.8") == (401 if trusted else 429)


def test_a_made_up_x_forwarded_for_line_before_the_proxys_own_line_is_not_counted(
    store: Store,
) -> None:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, trust_proxy=True)
    # A proxy such as HAProxy adds its own header line after the client's rather than
    # extending it: the client's line must not be the address counted.
    with TestClient(app, client=("10.0.0.2", 40000)) as proxy:

        def attempt(n: int, made_up: str) -> int:
            guess = {"email": f"guess{n}@example.com", "password": "wrong password"}
            lines = [("X-Forwarded-For", made_up), ("X-Forwarded-For", "198.51.100.7")]
            return proxy.post("/api/session", json=guess, headers=lines).status_code

        for n in range(20):
            assert attempt(n, f"203.0.113.{n}") == 401
        assert attempt(20, "203.0.113.99") == 429


def test_cookie_changes_need_the_csrf_token_and_keys_do_not(
    store: Store, client: TestClient
) -> None:
    browser = Browser(client)
    browser.login("ann@example.com")
    missing = client.post("/api/workflows", content=HANDOFF)
    assert missing.status_code == 403
    assert "X-CSRF-Token" in missing.json()["detail"]
    forged = client.post("/api/workflows", content=HANDOFF, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    assert client.get("/api/workflows").json() == []  # reads need no token, and nothing changed
    assert browser.call("POST", "/api/workflows", content=HANDOFF).status_code == 201
    machine = TestClient(client.app)
    headers = {"Authorization": f"Bearer {secret_key(store)}"}
    assert machine.post("/api/workflows/handoff/pause", headers=headers).status_code == 200


def test_logout_ends_the_session_on_the_server(store: Store, client: TestClient) -> None:
    browser = Browser(client)
    browser.login("ann@example.com")
    token = client.cookies[COOKIE]
    assert client.delete("/api/session").status_code == 403  # without the CSRF token
    done = browser.call("DELETE", "/api/session")
    assert done.status_code == 204
    assert f'{COOKIE}=""' in done.headers["set-cookie"] or "Max-Age=0" in done.headers["set-cookie"]
    # A copy of the old cookie is worth nothing now.
    replay = TestClient(client.app, cookies={COOKIE: token})
    assert replay.get("/api/session").status_code == 401
    assert replay.get("/api/workflows").status_code == 401


def test_login_rotates_the_token(store: Store, client: TestClient) -> None:
    Browser(client).login("ann@example.com")
    first = client.cookies[COOKIE]
    Browser(client).login("ann@example.com")
    assert client.cookies[COOKIE] != first
    assert TestClient(client.app, cookies={COOKIE: first}).get("/api/session").status_code == 401


def test_sessions_end_when_idle(store: Store, client: TestClient) -> None:
    Browser(client).login("ann@example.com")
    store.clock.advance(timedelta(hours=11))
    assert client.get("/api/session").status_code == 200
    store.clock.advance(timedelta(hours=12, seconds=1))
    assert client.get("/api/session").status_code == 401


def _workspace(store: Store, key: str) -> int:
    with store.engine.begin() as conn:
        name = key.replace("-", " ").title()  # brand-b is "Brand B": a key and a name differ
        return ensure_workspace(conn, key, name, store.clock.now())
