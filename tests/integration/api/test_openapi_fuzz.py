"""Schemathesis fuzzes every operation of the OpenAPI document: no input is a server error,
and every answer is one the document declares (status, content type and schema).

Its pytest plugin does not load under pytest 9, so each operation's Hypothesis strategy is
driven directly: the same cases, the same check.
"""

from __future__ import annotations

import base64
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
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


#: Examples per operation and database: enough to find what it finds, quick enough to run always.
EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


def test_every_operation_is_fuzzed() -> None:
    assert len(_labels()) >= 20


def _fuzz(operation: Any, auth: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": auth}, checks=CHECKS)

    call()


def test_every_answer_is_declared_and_none_is_a_server_error(store: Store) -> None:
    with store.engine.begin() as conn:
        write = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    basic = "Basic " + base64.b64encode(f"{write}:".encode()).decode()
    # One database for every operation (a fresh one each costs more than the calls), and
    # each operation's failure is collected so that one run names them all.
    failures: dict[str, str] = {}
    for operation in _operations(schema):
        auth = basic if operation.path.startswith("/v1") else f"Bearer {secret}"
        try:
            _fuzz(operation, auth)
        except Exception as exc:
            # A flaky failure wraps the first call's error: name that too, or it is lost.
            inner = getattr(exc, "exceptions", ())
            failures[operation.label] = "; ".join(f"{type(e).__name__}: {e}" for e in (exc, *inner))
    assert not failures, "\n\n".join(f"{label}: {why}" for label, why in failures.items())
