"""Values an older version stored before the gate (NaN, lone surrogates, NUL, huge numbers)
break no read: the upgrade scrubs them, and JSON is read leniently whatever is found.

SQLite kept all of these; PostgreSQL refused all but numbers past a double (1e400 is a
valid jsonb numeric), so each database is seeded with what it could have held.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.integration.conftest import PG_ADMIN_URL, Store, _pg_admin
from tests.integration.journeys import deploy, rows, subscriber
from tests.integration.test_sweeps import BIRTHDAY
from tidings.api.app import create_app
from tidings.clock import VirtualClock
from tidings.runtime.sweeps import sweep_time_triggers
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.engine import create_engine
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import Catalog

#: The last revision before values were checked at the door.
BEFORE_THE_GATE = "0005"
_databases = itertools.count()

#: (attributes, tags, event properties) per contact, as JSON text an old version wrote.
SQLITE_ROWS = [
    (
        '{"plan": "pro", "total": NaN, "big": 1e400, "note": "a\\ud800", "birthday": "1990-03-03"}',
        '["vip", "\\udc00"]',
        '{"revenue": NaN, "items": [Infinity, -Infinity], "name": "x\\u0000"}',
    ),
    (
        '{"plan": "free", "n": 123456789012345678901234567890, "k\\ud800": 1,'
        ' "birthday": "1985-03-03"}',
        "[]",
        '{"revenue": 1e400, "deep": ' + "[" * 200 + "]" * 200 + "}",
    ),
]
POSTGRES_ROWS = [
    ('{"plan": "pro", "big": 1e400, "birthday": "1990-03-03"}', '["vip"]', '{"revenue": 1e400}'),
    (
        '{"plan": "free", "n": 123456789012345678901234567890, "birthday": "1985-03-03"}',
        "[]",
        '{"revenue": -1e400, "deep": ' + "[" * 200 + "]" * 200 + "}",
    ),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_engine(
    request: pytest.FixtureRequest, tmp_path: Path, run_tag: str, worker_id: str
) -> Iterator[Engine]:
    """A database as the version before the gate left it: migrated to 0005 only."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, BEFORE_THE_GATE)
        yield engine
        engine.dispose()
        return
    name = f"tidings_old_{run_tag}_{worker_id}_{next(_databases)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine = create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        upgrade(engine, BEFORE_THE_GATE)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _seed(engine: Engine, now: datetime) -> int:
    """Write bad rows with plain SQL, as the old version's JSON encoder let them through."""
    postgres = engine.dialect.name == "postgresql"
    as_json = "CAST({} AS jsonb)" if postgres else "{}"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (key, name, created_at, secret, settings)"
                " VALUES ('old', 'Old', :now, 'secret', '{}')"
            ),
            {"now": now},
        )
        workspace_id: int = conn.execute(text("SELECT id FROM workspaces")).scalar_one()
        seeded = POSTGRES_ROWS if postgres else SQLITE_ROWS
        for number, (attributes, tags, properties) in enumerate(seeded, start=1):
            conn.execute(
                text(
                    "INSERT INTO contacts (workspace_id, external_id, email, timezone,"
                    " attributes, tags, consent, score, created_at, updated_at) VALUES"
                    f" (:ws, :user, :email, 'UTC', {as_json.format(':attributes')},"
                    f" {as_json.format(':tags')}, {as_json.format(':consent')}, 0, :now, :now)"
                ),
                {
                    "ws": workspace_id,
                    "user": f"u{number}",
                    "email": f"u{number}@example.com",
                    "attributes": attributes,
                    "tags": tags,
                    "consent": '{"email": "subscribed"}',
                    "now": now,
                },
            )
            contact_id = conn.execute(
                text("SELECT id FROM contacts WHERE external_id = :u"), {"u": f"u{number}"}
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO events (workspace_id, contact_id, message_id, name, properties,"
                    f" occurred_at, received_at) VALUES (:ws, :cid, :mid, 'order_completed',"
                    f" {as_json.format(':properties')}, :now, :now)"
                ),
                {
                    "ws": workspace_id,
                    "cid": contact_id,
                    "mid": f"m{number}",
                    "properties": properties,
                    "now": now,
                },
            )
    return workspace_id


def _admin_client(store: Store) -> tuple[TestClient, dict[str, str]]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    return TestClient(app, follow_redirects=False), {"Authorization": f"Bearer {secret}"}


def _read_everything(store: Store) -> dict[str, Any]:
    """Every read that once failed on such rows; each must answer 200."""
    client, auth = _admin_client(store)
    answers: dict[str, Any] = {}
    with client:
        [first, *_] = client.get("/api/contacts", headers=auth).json()
        reads = {
            "list": ("GET", "/api/contacts", None),
            "by_tag": ("GET", "/api/contacts?tag=vip", None),
            "read": ("GET", f"/api/contacts/{first['id']}", None),
            "export": ("GET", f"/api/contacts/{first['id']}/export", None),
            "segment": (
                "PUT",
                "/api/segments/buyers",
                {
                    "name": "Buyers",
                    "condition": "contact.total > 5 or contact.plan == \"pro\" or "
                    "performed order_completed where event.revenue > 1",
                },
            ),
            "segment_read": ("GET", "/api/segments/buyers", None),
            "segment_export": ("GET", "/api/segments/buyers/export", None),
            "preview": ("POST", "/api/segments/preview", {"condition": "total event.revenue of order_completed > 0"}),
            "report": ("GET", "/api/reports", None),
            "report_html": ("GET", "/api/reports/html", None),
        }  # fmt: skip
        for name, (method, path, body) in reads.items():
            response = client.request(method, path, headers=auth, json=body)
            assert response.status_code == 200, (name, response.text)
            answers[name] = response
    return answers


def test_an_upgrade_scrubs_old_bad_values_and_every_read_survives(old_engine: Engine) -> None:
    clock = VirtualClock(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    # Given rows an older version stored
    workspace_id = _seed(old_engine, clock.now())
    # When the database is upgraded
    upgrade(old_engine)
    store = Store(old_engine, workspace_id, Catalog(), clock)
    # Then every read answers
    answers = _read_everything(store)
    contact = answers["read"].json()
    assert contact["attributes"]["plan"] == "pro"
    assert contact["attributes"]["big"] is None or contact["attributes"]["big"] == str(10**400)
    assert answers["segment"].json()["size"] == 1
    # and the birthday sweep over them starts the journey instead of failing
    deploy(store, BIRTHDAY)
    assert sweep_time_triggers(store.engine, store.clock, store.catalog) == 2
    # and no stored JSON is left that SQLite's JSON functions call malformed
    if old_engine.dialect.name == "sqlite":
        assert rows(store, "SELECT id FROM contacts WHERE json_valid(attributes) = 0") == []
        assert rows(store, "SELECT id FROM events WHERE json_valid(properties) = 0") == []


def test_python_readers_scrub_what_they_find(old_engine: Engine) -> None:
    # Given bad rows written after the upgrade ran (by hand, or by a tool that wrote SQL)
    upgrade(old_engine)
    clock = VirtualClock(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    workspace_id = _seed(old_engine, clock.now())
    store = Store(old_engine, workspace_id, Catalog(), clock)
    client, auth = _admin_client(store)
    # When contacts are listed, read and exported, they answer with the bad parts replaced
    with client:
        listed = client.get("/api/contacts", headers=auth)
        assert listed.status_code == 200, listed.text
        first = listed.json()[0]
        for path in (f"/api/contacts/{first['id']}", f"/api/contacts/{first['id']}/export"):
            assert client.get(path, headers=auth).status_code == 200, path
    attributes = first["attributes"]
    if old_engine.dialect.name == "sqlite":
        assert attributes["total"] is None
        assert attributes["note"] == "a\ufffd"
        assert first["tags"] == ["vip", "\ufffd"]
    assert attributes["big"] is None or attributes["big"] == str(10**400)


def test_a_birthday_sweep_skips_a_row_of_malformed_json_and_serves_the_rest(
    store: Store,
) -> None:
    # Given a birthday workflow, a contact whose birthday it is, and (on SQLite) a row of
    # malformed JSON written by hand after the upgrade: SQLite's JSON functions refuse it
    deploy(store, BIRTHDAY)
    subscriber(store, "ann", birthday="1990-03-03")
    if store.engine.dialect.name == "sqlite":
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO contacts (workspace_id, external_id, email, timezone, attributes,"
                    " tags, consent, score, created_at, updated_at) VALUES (:ws, 'bad',"
                    " 'bad@example.com', 'UTC', '{\"birthday\": \"1990-03-03\", \"x\": NaN}',"
                    " '[]', '{\"email\": \"subscribed\"}', 0, :now, :now)"
                ),
                {"ws": store.workspace_id, "now": store.clock.now()},
            )
    # When the sweep runs at nine on her birthday
    store.clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    # Then her journey starts; the bad row is passed over, not the sweep's end
    assert sweep_time_triggers(store.engine, store.clock, store.catalog) == 1
    [recipient] = rows(store, "SELECT recipient FROM messages")
    assert recipient[0] == "ann@example.com"
