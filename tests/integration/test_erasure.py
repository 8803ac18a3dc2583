"""Erasure leaves nothing that names the person: not in any table, not in what the
suppression list answers. Only keyed hashes of their identifiers remain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, identify, rows, track
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.migrate import upgrade
from tidings.storage.suppressions import identifier_hash, legacy_hash, suppressed
from tidings.storage.tables import metadata, suppressions

ADDRESS, NAME, PHONE = "annabelle.zed@example.com", "Annabelle", "+14155550123"

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi: {subject: "Welcome {{ contact.first_name }}", text: "Hi {{ contact.first_name }} ({{ contact.email }})"}
steps:
  - {id: hello, type: send, template: hi, kind: transactional}
  - {id: tell, type: notify, channel: email, to: rep@shop.example, message: "New: {{ contact.first_name }} {{ contact.email }}"}
"""


@pytest.fixture
def admin(store: Store) -> Iterator[TestClient]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def traces(store: Store, *needles: str) -> list[str]:
    """Every text or JSON value, in every table, that holds one of the needles."""
    found = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    held = value if isinstance(value, str) else json.dumps(value, default=str)
                    hits = [n for n in needles if n.lower() in held.lower()]
                    if hits:
                        found.append(f"{table.name}.{column}: {hits}")
    return found


def test_erasure_leaves_no_trace_of_the_person(store: Store, admin: TestClient) -> None:
    # Given: a contact who got a message and an alert about them, then hard-bounced with
    # a provider's text that names them
    deploy(store, WELCOME)
    identify(store, "u1", email=ADDRESS, first_name=NAME, phone=PHONE)
    track(store, "u1", "signed_up", plan=f"{NAME}'s plan")
    bounce = {
        "address": ADDRESS,
        "type": "hard",
        "reason": f"550 5.1.1 <{ADDRESS}> ({NAME} Zed): mailbox unknown",
    }
    assert admin.post("/api/bounces", json=bounce).status_code == 200
    assert traces(store, ADDRESS, NAME)  # the test can see them before

    # When: the contact is erased
    [contact] = rows(store, "SELECT id FROM contacts")
    assert admin.delete(f"/api/contacts/{contact.id}").status_code == 204

    # Then: no table holds the address, the name or the phone number
    assert traces(store, ADDRESS, NAME, PHONE) == []
    # and the suppression list still recognises the address, with a code and no text
    check = admin.get("/api/suppressions/check", params={"address": ADDRESS}).json()
    assert check == {"address": ADDRESS, "suppressed": True, "reason": "hard_bounce"}
    reasons = {r.reason for r in rows(store, "SELECT reason FROM suppressions")}
    assert reasons <= {"hard_bounce", "erased"}


def _secret(store: Store) -> str:
    [row] = rows(store, "SELECT secret FROM workspaces WHERE id = :w", w=store.workspace_id)
    return str(row.secret)


def test_hashes_are_keyed_by_the_workspace_secret(store: Store, admin: TestClient) -> None:
    admin.post("/api/suppressions", json={"address": ADDRESS})
    [row] = rows(store, "SELECT value_hash, hash_version FROM suppressions")
    # A plain SHA-256 of a guessed address does not find it; the keyed hash does.
    assert row.value_hash != legacy_hash("email", ADDRESS)
    assert row.value_hash == identifier_hash("email", ADDRESS, _secret(store))
    assert row.hash_version == 2


def test_legacy_unkeyed_entries_match_until_rekeyed(store: Store, admin: TestClient) -> None:
    # Given: an entry written before keyed hashes (plain SHA-256, version 1)
    legacy: dict[str, Any] = {
        "workspace_id": store.workspace_id,
        "kind": "email",
        "value_hash": legacy_hash("email", ADDRESS),
        "reason": "complaint",
        "hash_version": 1,
        "created_at": store.clock.now(),
    }
    with store.engine.begin() as conn:
        conn.execute(suppressions.insert(), [legacy])
    # Then: it is still honoured
    with store.engine.connect() as conn:
        assert suppressed(conn, store.workspace_id, [("email", ADDRESS.upper())]) == {
            ("email", ADDRESS.upper()): "complaint"
        }
    # When: the address is suppressed again, the entry is re-keyed and keeps its reason
    admin.post("/api/suppressions", json={"address": ADDRESS})
    [row] = rows(store, "SELECT value_hash, hash_version, reason FROM suppressions")
    assert (row.hash_version, row.reason) == (2, "complaint")
    assert row.value_hash == identifier_hash("email", ADDRESS, _secret(store))
    # and taking it off the list takes it off
    assert admin.delete("/api/suppressions", params={"address": ADDRESS}).status_code == 204
    assert rows(store, "SELECT id FROM suppressions") == []


def test_the_upgrade_turns_stored_reasons_into_codes(tmp_path: Path) -> None:
    # Given: a list written before keyed hashes, with bounce text that names people
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005")
    old = {
        "bounced: 550 <ann@example.com> Ann Lee unknown": "hard_bounce",
        "hard: 5.1.1 bob@example.com": "hard_bounce",
        "complained: abuse report from cy@example.com": "complaint",
        "complaint: feedback loop": "complaint",
        "erased through the API": "erased",
        "asked by phone, Dana Smith": "manual",
    }
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, key, name, created_at, secret, settings)"
                " VALUES (1, 'w', 'W', '2026-01-01', 's', '{}')"
            )
        )
        for i, reason in enumerate(old):
            conn.execute(
                text(
                    "INSERT INTO suppressions (workspace_id, kind, value_hash, reason, created_at)"
                    " VALUES (1, 'email', :h, :r, '2026-01-01')"
                ),
                {"h": f"{i:064d}", "r": reason},
            )
    # When
    upgrade(engine)
    # Then: each reason is its code, and every entry is marked as an unkeyed hash
    with engine.connect() as conn:
        found = list(
            conn.execute(text("SELECT reason, hash_version FROM suppressions ORDER BY id"))
        )
    engine.dispose()
    assert [(r.reason, r.hash_version) for r in found] == [(code, 1) for code in old.values()]
