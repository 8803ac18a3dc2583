"""Erasure leaves nothing that names the person: not in any table, not in what the
suppression list answers. Only keyed hashes of their identifiers remain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, identify, recorded_admin, rows, stored_json, track
from tidings.cleaning import clean_email
from tidings.cli.context import open_database
from tidings.config import load_settings
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.runtime.merges import merge_duplicates
from tidings.storage.audit import record_change
from tidings.storage.engine import create_engine as tidings_engine
from tidings.storage.migrate import alembic_config, upgrade
from tidings.storage.suppressions import (
    SuppressionReason,
    identifier_hash,
    legacy_hash,
    server_key,
    suppress,
    suppressed,
)
from tidings.storage.tables import metadata, suppressions
from tidings.storage.workspaces import ensure_workspace

NOW = datetime(2026, 12, 1, tzinfo=UTC)
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
  - {id: text, type: send, channel: sms, template: hi, kind: transactional}
"""
EDITOR = "ed@shop.example"


@pytest.fixture
def admin(store: Store) -> Iterator[TestClient]:
    yield from recorded_admin(store)


def send_test(admin: TestClient, step: str, to: str, contact: str | None = None) -> None:
    body = {"to": to} if contact is None else {"to": to, "contact": contact}
    sent = admin.post(f"/api/workflows/welcome/steps/{step}/test-send", json=body)
    assert sent.status_code == 200, sent.text


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
    # and tests of the welcome: one rendered for them and sent to the editor (its subject
    # names them), one sent to their address (as typed) and one to their phone (as typed),
    # both rendered for no one, and one that is not about them at all
    send_test(admin, "hello", EDITOR, contact="u1")
    send_test(admin, "hello", ADDRESS.title())
    send_test(admin, "text", "(415) 555-0123")
    send_test(admin, "hello", EDITOR)
    assert {r.recipient for r in rows(store, "SELECT recipient FROM test_sends")} == {
        EDITOR,
        ADDRESS.title(),
        PHONE,
    }
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
    # and the test that was about someone else is still there
    kept = rows(store, "SELECT recipient, subject, contact_id FROM test_sends")
    assert [tuple(r) for r in kept] == [(EDITOR, "[Test] Welcome", None)]


def test_erasure_finds_the_tests_rendered_for_a_profile_merged_into_the_contact(
    store: Store, admin: TestClient
) -> None:
    # Given: a test rendered for the person's anonymous profile, later merged into the
    # profile with their user id
    deploy(store, WELCOME)
    identify(store, "u1", email=ADDRESS)
    traits = {"email": ADDRESS, "first_name": NAME}
    seen = Incoming("a1", None, IDENTIFY, store.clock.now(), anonymous_id="anon-1", traits=traits)
    ingest(store.engine, store.workspace_id, [seen], store.clock, store.catalog)
    [anonymous] = rows(store, "SELECT id FROM contacts WHERE anonymous_id = 'anon-1'")
    send_test(admin, "hello", EDITOR, contact=str(anonymous.id))
    merge_duplicates(store.engine, store.workspace_id, store.clock.now())
    [contact] = rows(store, "SELECT id FROM contacts")
    assert [r[0] for r in rows(store, "SELECT contact_id FROM test_sends")] == [contact.id]

    # When: the merged contact is erased
    assert admin.delete(f"/api/contacts/{contact.id}").status_code == 204

    # Then: the test, whose subject named them, went with it
    assert traces(store, ADDRESS, NAME) == []


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


def test_the_upgrade_drops_test_send_addresses_from_the_audit_trail(store: Store) -> None:
    # Given: the trail as 0014 wrote it, a test send's entry holding the address sent to
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
        record_change(
            conn,
            store.workspace_id,
            actor_type="person",
            actor="ed@shop.example",
            at=NOW,
            action="workflows.test_send",
            subject_type="workflows",
            subject_key="welcome",
            details={"method": "POST", "step": "hello", "to": ADDRESS, "test_send": 1},
        )
    # When
    upgrade(store.engine)
    # Then: the entry says who sent which step's test, and no longer to whom
    [entry] = rows(store, "SELECT actor, details FROM audit_log")
    assert entry.actor == "ed@shop.example"
    assert stored_json(entry.details) == {"method": "POST", "step": "hello", "test_send": 1}


def _with_key(store: Store, secret_key: str | None) -> Engine:
    """Another engine on the store's database, as a server started with this key."""
    url = store.engine.url.render_as_string(hide_password=False)
    return tidings_engine(url, secret_key=secret_key)


def _is_listed(engine: Engine, store: Store) -> bool:
    with engine.connect() as conn:
        return bool(suppressed(conn, store.workspace_id, [("email", ADDRESS)]))


def test_a_configured_secret_key_keys_the_list_from_outside_the_database(store: Store) -> None:
    # Given: an entry keyed by the workspace secret alone, from before a key was set
    with store.engine.begin() as conn:
        suppress(
            conn,
            store.workspace_id,
            [("email", ADDRESS)],
            SuppressionReason.MANUAL,
            store.clock.now(),
        )
    keyed = _with_key(store, "a key kept outside the database")
    try:
        # Then: it is still honoured once the key is set
        assert _is_listed(keyed, store)
        # When: the address is suppressed again, the entry is re-keyed and keeps its reason
        with keyed.begin() as conn:
            suppress(
                conn,
                store.workspace_id,
                [("email", ADDRESS)],
                SuppressionReason.ERASED,
                store.clock.now(),
            )
        [row] = rows(store, "SELECT value_hash, hash_version, reason FROM suppressions")
        assert (row.hash_version, row.reason) == (3, "manual")
        # Then: nothing in the database (the workspace secret included) recreates the hash
        assert row.value_hash != identifier_hash("email", ADDRESS, _secret(store))
        assert row.value_hash != legacy_hash("email", ADDRESS)
        assert row.value_hash == identifier_hash(
            "email", ADDRESS, server_key("a key kept outside the database", _secret(store))
        )
        assert _is_listed(keyed, store)
        assert not _is_listed(store.engine, store)  # without the key: not recognisable
    finally:
        keyed.dispose()


@pytest.mark.parametrize("secret_key", [None, "a key kept outside the database"])
def test_the_upgrade_rekeys_legacy_entries_whose_address_a_contact_still_has(
    tmp_path: Path, secret_key: str | None
) -> None:
    # Given: plain SHA-256 entries, one for a contact's address (written in another case)
    # and one for an address no contact has
    engine = tidings_engine(f"sqlite:///{tmp_path / 'old.db'}", secret_key=secret_key)
    upgrade(engine, "0005")
    gone = "gone@example.com"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, key, name, created_at, secret, settings)"
                " VALUES (1, 'w', 'W', '2026-01-01', 's', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO contacts (workspace_id, external_id, email, phone, timezone,"
                " attributes, tags, consent, score, created_at, updated_at)"
                " VALUES (1, 'u1', :e, :p, 'UTC', '{}', '[]', '{}', 0, '2026-01-01',"
                " '2026-01-01')"
            ),
            {"e": ADDRESS.upper(), "p": PHONE},
        )
        for kind, value in (("email", ADDRESS), ("phone", PHONE), ("email", gone)):
            conn.execute(
                text(
                    "INSERT INTO suppressions (workspace_id, kind, value_hash, reason, created_at)"
                    " VALUES (1, :k, :h, 'complaint', '2026-01-01')"
                ),
                {"k": kind, "h": legacy_hash(kind, value)},
            )
    # When
    upgrade(engine)
    # Then: the known ones are keyed (by the secret key when set), the unknown one is not
    key = server_key(secret_key, "s") if secret_key else "s"
    version = 3 if secret_key else 2
    with engine.connect() as conn:
        found = list(conn.execute(text("SELECT value_hash, hash_version FROM suppressions")))
        listed = suppressed(conn, 1, [("email", ADDRESS), ("phone", PHONE), ("email", gone)])
    engine.dispose()
    assert sorted((r.value_hash, r.hash_version) for r in found) == sorted(
        [
            (identifier_hash("email", ADDRESS, key), version),
            (identifier_hash("phone", PHONE, key), version),
            (legacy_hash("email", gone), 1),
        ]
    )
    assert len(listed) == 3  # and all three are still honoured


def test_tidings_secret_key_reaches_the_commands_database(tmp_path: Path) -> None:
    # Given: the settings a command starts with, TIDINGS_SECRET_KEY among them
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'k.db'}", secret_key="a key kept outside"
    )
    assert "a key kept outside" in settings.secret_values()  # masked in every log line
    engine = open_database(settings)
    try:
        with engine.begin() as conn:
            workspace_id = ensure_workspace(conn, "w", "W", NOW)
            suppress(conn, workspace_id, [("email", ADDRESS)], SuppressionReason.MANUAL, NOW)
            [version] = conn.execute(text("SELECT hash_version FROM suppressions")).scalars()
    finally:
        engine.dispose()
    # Then: the list is keyed by it
    assert version == 3


def test_the_list_folds_an_address_as_cleaning_does(store: Store) -> None:
    # Given: an address typed by hand in another case and Unicode form (e + combining
    # diaeresis) than the cleaned one a contact holds
    typed, cleaned = " ZOE\u0308@Example.com", clean_email("zoë@example.com")
    with store.engine.begin() as conn:
        suppress(conn, store.workspace_id, [("email", typed)], SuppressionReason.MANUAL, NOW)
    # Then: the contact's address is on the list
    with store.engine.connect() as conn:
        assert suppressed(conn, store.workspace_id, [("email", cleaned)]) == {
            ("email", cleaned): "manual"
        }
