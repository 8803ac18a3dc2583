"""Shared by the people and session tests: a served app, people with roles, logins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.passwords import hash_password
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.people import Role, add_person, set_role

PASSWORD = "correct horse battery"


def add_member(store: Store, email: str, role: Role, workspace_id: int | None = None) -> None:
    """A person with PASSWORD and `role` in the store's workspace (or another)."""
    from tidings.storage.people import find_person

    now = store.clock.now()
    with store.engine.begin() as conn:
        found = find_person(conn, email)
        person_id = (
            found.id
            if found is not None
            else add_person(
                conn, email, email.split("@")[0], now, password_hash=hash_password(PASSWORD)
            )
        )
        set_role(conn, person_id, workspace_id or store.workspace_id, role, now)


@dataclass
class Browser:
    """A TestClient acting like the console: cookie jar plus the CSRF header on changes."""

    client: TestClient
    csrf: str = ""

    def login(self, email: str, password: str = PASSWORD, **extra: Any) -> Any:
        response = self.client.post(
            "/api/session", json={"email": email, "password": password, **extra}
        )
        if response.status_code == 200:
            self.csrf = response.json()["csrf_token"]
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


def served(store: Store, **options: Any) -> Iterator[TestClient]:
    """The app over the store, in a TestClient."""
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, **options)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def secret_key(store: Store) -> str:
    """A new secret API key for the store's workspace."""
    with store.engine.begin() as conn:
        return create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
