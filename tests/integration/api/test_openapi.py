"""The OpenAPI document declares the answers the API gives: problem documents, never 422s
of FastAPI's own `{"detail"}` shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key


@pytest.fixture
def client(store: Store) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app) as client:
        yield client, secret


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_error_answer_is_a_problem_document(client: tuple[TestClient, str]) -> None:
    http, _ = client
    document = http.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
        assert "500" in errors, (method, path)
        for code, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (method, path, code)
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, code)


def test_operations_with_input_declare_400_and_paths_with_ids_404(
    client: tuple[TestClient, str],
) -> None:
    http, _ = client
    for method, path, operation in _operations(http.get("/openapi.json").json()):
        if operation.get("parameters") or operation.get("requestBody"):
            assert "400" in operation["responses"], (method, path)
        if "{" in path:
            assert "404" in operation["responses"], (method, path)
        if path.startswith(("/api", "/v1")):
            assert "401" in operation["responses"], (method, path)


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"since": "not a date"}, "query.since"),  # FastAPI's own validation
        ({"window": "a week"}, "window"),  # the report's own check
        ({"since": "2026-05-02", "until": "2026-05-01"}, "since"),
    ],
)
def test_a_bad_report_query_is_a_400_problem(
    client: tuple[TestClient, str], params: dict[str, str], path: str
) -> None:
    http, secret = client
    response = http.get(
        "/api/reports", params=params, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == path
