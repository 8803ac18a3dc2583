"""Every response carries a request id; a 500 names it in its body and in its log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key


@pytest.fixture
def client(store: Store) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, secret


def _break_the_workflows_table(store: Store) -> None:
    cascade = " CASCADE" if store.engine.dialect.name == "postgresql" else ""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA foreign_keys=OFF"))
        conn.execute(text(f"DROP TABLE workflow_versions{cascade}"))
        conn.execute(text(f"DROP TABLE workflows{cascade}"))


def test_a_server_error_names_its_request_id_in_body_header_and_log(
    store: Store, client: tuple[TestClient, str], caplog: pytest.LogCaptureFixture
) -> None:
    http, secret = client
    auth = {"Authorization": f"Bearer {secret}"}
    # Given a database that has lost a table the admin API reads...
    assert http.get("/api/workflows", headers=auth).status_code == 200
    _break_the_workflows_table(store)
    # ...when a call fails inside the server...
    with caplog.at_level(logging.ERROR, logger="tidings.api.errors"):
        response = http.get("/api/workflows", headers=auth)
    # ...the answer is a problem document with the request id the header carries...
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    rid = response.headers["x-request-id"]
    assert response.json()["request_id"] == rid
    assert len(rid) >= 16
    # ...and the log record that holds the traceback carries the same id.
    (record,) = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    assert getattr(record, "request_id", None) == rid
    assert record.exc_info is not None


def test_a_valid_incoming_request_id_is_kept(store: Store, client: tuple[TestClient, str]) -> None:
    http, secret = client
    _break_the_workflows_table(store)
    response = http.get(
        "/api/workflows",
        headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "lb-7f3a:42"},
    )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "lb-7f3a:42"
    assert response.json()["request_id"] == "lb-7f3a:42"


@pytest.mark.parametrize(
    "given",
    [
        "",  # empty
        "a" * 129,  # too long
        "id with spaces",  # would split a log line
        "id\u2028x",  # a line separator
    ],
)
def test_an_unfit_incoming_request_id_is_replaced(
    client: tuple[TestClient, str], given: str
) -> None:
    http, _ = client
    response = http.get("/v1/nothing", headers={b"X-Request-ID": given.encode("utf-8")})
    assert response.headers["x-request-id"] not in ("", given)


def test_every_answer_carries_a_fresh_request_id(client: tuple[TestClient, str]) -> None:
    http, _ = client
    first = http.get("/openapi.json").headers["x-request-id"]
    second = http.post("/v1/track", json={}).headers["x-request-id"]
    assert first != second
