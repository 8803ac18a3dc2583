"""Helpers for integration tests: deploy workflows, send events, read what happened."""

from __future__ import annotations

import itertools
import json
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.core import validate_workflow
from tidings.delivery.transports import Recorder, Transports
from tidings.runtime.ingest import IDENTIFY, Incoming, IngestReport, ingest
from tidings.runtime.scheduler import run_until_idle
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.workflows import deploy_workflow

_ids = itertools.count()

#: A sales hand-off that waits for a person's approval (two days) before writing to the lead.
HANDOFF = """
id: handoff
name: Sales hand-off
trigger: {event: demo_requested}
templates:
  hi: {subject: "A rep will call", text: "soon"}
steps:
  - {id: ask, type: approval, message: "Call {{ contact.email }}?", approvers: [lead@example.com], timeout: 2d, on_reject: done}
  - {id: hi, type: send, template: hi}
  - {id: done, type: exit, reason: handled}
"""


def deploy(store: Store, source: str) -> int:
    spec, problems = validate_workflow(yaml.safe_load(textwrap.dedent(source)))
    assert spec is not None, [str(p) for p in problems]
    with store.engine.begin() as conn:
        workflow_id, _, _ = deploy_workflow(
            conn, store.workspace_id, spec, source, store.clock.now()
        )
    return workflow_id


def track(
    store: Store, user: str, name: str, message_id: str | None = None, **properties: Any
) -> IngestReport:
    item = Incoming(
        message_id or f"m{next(_ids)}", user, name, store.clock.now(), properties=properties
    )
    return ingest(store.engine, store.workspace_id, [item], store.clock, store.catalog)


def identify(store: Store, user: str, **traits: Any) -> IngestReport:
    item = Incoming(f"m{next(_ids)}", user, IDENTIFY, store.clock.now(), traits=traits)
    return ingest(store.engine, store.workspace_id, [item], store.clock, store.catalog)


def subscriber(store: Store, user: str, **traits: Any) -> None:
    identify(store, user, email=f"{user}@example.com", consent={"email": "subscribed"}, **traits)


def tick(store: Store, delta: timedelta) -> int:
    store.clock.advance(delta)
    return run_until_idle(store.engine, store.clock, store.catalog)


def rows(store: Store, sql: str, **params: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def outbox(store: Store) -> list[tuple[str, str]]:
    """(idempotency key, subject) of every queued message, oldest first."""
    return [
        (r[0], r[1])
        for r in rows(store, "SELECT idempotency_key, subject FROM messages ORDER BY id")
    ]


def enrollment_states(store: Store) -> list[tuple[str, str | None, str | None]]:
    return [
        (r[0], r[1], r[2])
        for r in rows(store, "SELECT status, step_id, exit_reason FROM enrollments ORDER BY id")
    ]


def stored_json(value: Any) -> Any:
    """A JSON column as read by raw SQL: a dict on PostgreSQL, text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def consent_of(store: Store, user: str | None = None) -> dict[str, str]:
    """A contact's consent: the one contact's, or `user`'s."""
    where = "" if user is None else " WHERE external_id = :user"
    [row] = rows(store, f"SELECT consent FROM contacts{where}", user=user)
    found: dict[str, str] = stored_json(row.consent)
    return found


def recorded_admin(store: Store) -> Iterator[TestClient]:
    """The admin API with a secret key, its messages (test sends included) caught by the
    simulator's channels, so a test reads what was sent and what was stored about it."""
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    channels = Recorder()
    transports = Transports(
        "http://tidings.test", channels, smtp=channels, sms=channels, sms_region="US"
    )
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, transports=transports)
    with TestClient(app, follow_redirects=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


#: A welcome whose journeys wait 90 days with a goal: the list's and the report's figures.
WAITING_WELCOME = """
id: welcome
name: Welcome
trigger: {type: event, event: signed_up}
goal: {event: order_completed, within: 60d}
steps:
  - {id: wait, type: wait, for: 90d, next: done}
  - {id: done, type: exit, reason: finished}
"""
