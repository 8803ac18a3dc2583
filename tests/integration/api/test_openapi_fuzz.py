"""Schemathesis fuzzes every operation of the OpenAPI document: no input is a server error.

Its pytest plugin does not load under pytest 9, so each operation's Hypothesis strategy is
driven directly: the same cases, the same check.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.engine import create_engine


def _operations(schema: Any) -> list[Any]:
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result}"
        found.append(result.ok())
    return found


def _labels() -> list[str]:
    # Listing operations needs only the document, not a database with data.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(create_engine("sqlite://")))
    return [operation.label for operation in _operations(schema)]


LABELS = _labels()


def test_every_operation_is_fuzzed() -> None:
    assert len(LABELS) >= 20


@pytest.mark.parametrize("label", LABELS)
def test_no_input_is_a_server_error(store: Store, label: str) -> None:
    with store.engine.begin() as conn:
        write = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    (operation,) = [op for op in _operations(schema) if op.label == label]
    if label.split()[1].startswith("/v1"):
        auth = "Basic " + base64.b64encode(f"{write}:".encode()).decode()
    else:
        auth = f"Bearer {secret}"

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        if label.endswith("/simulate"):
            # A whole simulation per call: keep the sizes small so the suite stays quick.
            query = case.query or {}
            assume(
                int(query.get("contacts", 0) or 0) <= 200 and float(query.get("days", 0) or 0) <= 2
            )
        case.call_and_validate(headers={"Authorization": auth}, checks=[not_a_server_error])

    call()
