"""People management, invitations, and the audit log, through the admin API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.api.people import PASSWORD, Browser, add_member, secret_key, served
from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF, subscriber, track
from tidings.api.auth import COOKIE
from tidings.storage.people import Role
from tidings.storage.tables import approvals


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "olga@example.com", Role.OWNER)
    add_member(store, "ed@example.com", Role.EDITOR)
    yield from served(store)


def _owner(client: TestClient) -> Browser:
    browser = Browser(client)
    assert browser.login("olga@example.com").status_code == 200
    return browser


def test_an_invited_person_chooses_a_password_once_and_is_logged_in(
    store: Store, client: TestClient
) -> None:
    owner = _owner(client)
    invited = owner.call("POST", "/api/people", json={"email": "Vic@Example.com", "role": "viewer"})
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert (body["email"], body["role"], body["invited"]) == ("vic@example.com", "viewer", True)
    token = body["invite_token"]
    assert body["invite_url"].endswith(token)
    listed = {p["email"]: p for p in owner.call("GET", "/api/people").json()}
    assert listed["vic@example.com"]["invited"] is True
    # Before accepting, there is no password that works.
    assert Browser(TestClient(client.app)).login("vic@example.com").status_code == 401

    vic = TestClient(client.app)
    short = vic.post("/api/invitations/accept", json={"token": token, "password": "short"})
    assert short.status_code == 400
    assert short.json()["errors"][0]["path"] == "password"
    accepted = vic.post(
        "/api/invitations/accept", json={"token": token, "password": PASSWORD, "name": "Vic"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["person"] == {"email": "vic@example.com", "name": "Vic"}
    assert accepted.json()["role"] == "viewer"
    assert vic.cookies.get(COOKIE)
    assert vic.get("/api/session").status_code == 200
    again = TestClient(client.app).post(
        "/api/invitations/accept", json={"token": token, "password": "another password"}
    )
    assert again.status_code == 400
    assert Browser(TestClient(client.app)).login("vic@example.com").status_code == 200
    listed = {p["email"]: p for p in owner.call("GET", "/api/people").json()}
    assert listed["vic@example.com"]["invited"] is False


def test_forged_and_expired_invitations_are_refused(store: Store, client: TestClient) -> None:
    owner = _owner(client)
    token = owner.call("POST", "/api/people", json={"email": "v@example.com", "role": "viewer"})
    token = token.json()["invite_token"]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    anyone = TestClient(client.app)
    for bad in (forged, "not-a-token"):
        refused = anyone.post("/api/invitations/accept", json={"token": bad, "password": PASSWORD})
        assert refused.status_code == 400
        assert "ask an owner" in refused.json()["detail"]
    store.clock.advance(timedelta(days=7, minutes=1))
    late = anyone.post("/api/invitations/accept", json={"token": token, "password": PASSWORD})
    assert late.status_code == 400


def test_roles_change_and_the_last_owner_stays(store: Store, client: TestClient) -> None:
    owner = _owner(client)
    demoted = owner.call("PATCH", "/api/people/olga@example.com", json={"role": "viewer"})
    assert demoted.status_code == 409
    assert "owner" in demoted.json()["detail"]
    assert owner.call("DELETE", "/api/people/olga@example.com").status_code == 409
    promoted = owner.call("PATCH", "/api/people/ed@example.com", json={"role": "owner"})
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "owner"
    # With two owners, olga may step down; her session now acts as a viewer.
    assert (
        owner.call("PATCH", "/api/people/olga@example.com", json={"role": "viewer"}).json()["role"]
        == "viewer"
    )
    assert owner.call("POST", "/api/keys", json={"kind": "secret"}).status_code == 403


def test_removing_a_person_ends_their_sessions(store: Store, client: TestClient) -> None:
    ed = Browser(TestClient(client.app))
    ed.login("ed@example.com")
    assert ed.call("GET", "/api/workflows").status_code == 200
    owner = _owner(client)
    assert owner.call("DELETE", "/api/people/ed@example.com").status_code == 204
    assert ed.call("GET", "/api/workflows").status_code == 401
    assert ed.login("ed@example.com").status_code == 401
    assert owner.call("DELETE", "/api/people/ed@example.com").status_code == 404


def test_the_audit_log_names_the_person_invited_their_role_and_the_key_made(
    client: TestClient,
) -> None:
    owner = _owner(client)
    assert (
        owner.call(
            "POST", "/api/people", json={"email": "Vic@Example.com", "role": "viewer"}
        ).status_code
        == 201
    )
    assert (
        owner.call("PATCH", "/api/people/vic@example.com", json={"role": "approver"}).status_code
        == 200
    )
    made = owner.call("POST", "/api/keys", json={"kind": "write"})
    assert made.status_code == 201

    entries = owner.call("GET", "/api/audit").json()["entries"]
    said = [(e["action"], e["subject_key"], e["details"]) for e in entries[:3]]
    key_entry, role_entry, invite_entry = said
    assert key_entry[:2] == ("keys.create", made.json()["key"][:10])
    assert key_entry[2]["kind"] == "write"
    # The whole key is shown once, to its maker; the log keeps only its prefix.
    assert made.json()["key"] not in str(entries)
    assert role_entry[:2] == ("people.change_role", "vic@example.com")
    assert role_entry[2]["role"] == "approver"
    assert invite_entry[:2] == ("people.invite", "vic@example.com")
    assert (invite_entry[2]["role"], invite_entry[2]["invited"]) == ("viewer", True)


def test_the_audit_log_names_who_changed_what_with_the_workflow_diff(
    store: Store, client: TestClient
) -> None:
    ed = Browser(client)
    ed.login("ed@example.com")
    assert ed.call("POST", "/api/workflows", content=HANDOFF).status_code == 201
    changed = HANDOFF.replace("timeout: 2d", "timeout: 3d")
    assert ed.call("POST", "/api/workflows", content=changed).status_code == 201
    refused = ed.call("POST", "/api/keys", json={"kind": "secret"})
    assert refused.status_code == 403
    machine = TestClient(client.app)
    key = secret_key(store)
    paused = machine.post(
        "/api/workflows/handoff/pause", headers={"Authorization": f"Bearer {key}"}
    )
    assert paused.status_code == 200

    page = ed.call("GET", "/api/audit", params={"subject": "workflows:handoff"}).json()
    entries = page["entries"]
    assert [(e["action"], e["actor_type"], e["actor"]) for e in entries] == [
        ("workflows.pause", "key", key[:10]),
        ("workflows.create", "person", "ed@example.com"),
        ("workflows.create", "person", "ed@example.com"),
    ]
    newest_deploy, first_deploy = entries[1], entries[2]
    assert newest_deploy["details"]["version"] == 2
    diff = newest_deploy["details"]["diff"]
    assert "--- version 1" in diff and "+++ version 2" in diff
    assert "-  - {id: ask" in diff and "+  - {id: ask" in diff and "timeout: 3d" in diff
    assert "diff" not in first_deploy["details"]
    # The refused attempt changed nothing and is not a change on the log.
    everything = ed.call("GET", "/api/audit").json()["entries"]
    assert not [e for e in everything if e["subject_type"] == "keys"]
    assert [e["action"] for e in everything if e["subject_type"] == "session"] == ["session.login"]
    # Paging: one at a time, continuing with next_before.
    first = ed.call("GET", "/api/audit", params={"limit": 1}).json()
    second = ed.call("GET", "/api/audit", params={"limit": 1, "before": first["next_before"]})
    assert second.json()["entries"][0]["id"] < first["entries"][0]["id"]


def test_viewers_and_approvers_cannot_read_the_audit_log(store: Store, client: TestClient) -> None:
    add_member(store, "vera@example.com", Role.VIEWER)
    vera = Browser(client)
    vera.login("vera@example.com")
    assert vera.call("GET", "/api/audit").status_code == 403


def test_a_person_decides_approvals_under_their_own_name(store: Store, client: TestClient) -> None:
    add_member(store, "abe@example.com", Role.APPROVER)
    key = secret_key(store)
    machine = TestClient(client.app, headers={"Authorization": f"Bearer {key}"})
    # Abe is the step's approver: only a named approver (or an owner) may decide.
    named = HANDOFF.replace("approvers: [lead@example.com]", "approvers: [abe@example.com]")
    assert machine.post("/api/workflows", content=named).status_code == 201
    subscriber(store, "lead")
    track(store, "lead", "demo_requested")
    abe = Browser(client)
    abe.login("abe@example.com")
    (pending,) = abe.call("GET", "/api/approvals").json()
    decided = abe.call("POST", f"/api/approvals/{pending['id']}/approve", json={"by": "olga"})
    assert decided.status_code == 200, decided.text
    with store.engine.connect() as conn:
        by = conn.execute(select(approvals.c.decided_by)).scalar_one()
    assert by == "abe@example.com"
    owner = _owner(TestClient(client.app))
    (entry,) = owner.call("GET", "/api/audit", params={"subject": "approvals"}).json()["entries"]
    assert (entry["action"], entry["actor"]) == ("approvals.approve", "abe@example.com")
