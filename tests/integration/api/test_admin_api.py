"""The admin API: secret keys only, one workspace's data only, problems with paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integration.api.people import add_member
from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF, rows, tick
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.messages import MessageStatus
from tidings.storage.people import Role
from tidings.storage.suppressions import suppressed
from tidings.storage.workspaces import ensure_workspace, mark_simulated


class Api:
    def __init__(self, client: TestClient, write: str, secret: str) -> None:
        self.client, self.write, self.secret = client, write, secret

    def admin(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.secret}", **(headers or {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def track(self, body: dict[str, object]) -> None:
        assert self.client.post("/v1/track", json=body, auth=(self.write, "")).status_code == 200


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    with store.engine.begin() as conn:
        write = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        yield Api(client, write, secret)


#: Routes that take credentials in their body: logging in and accepting an invitation.
PUBLIC = ("/api/session", "/api/invitations/")


def test_every_admin_route_needs_a_secret_key(store: Store, api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    admin = [
        (method, path)
        for path, ops in paths.items()
        if path.startswith("/api") and not path.startswith(PUBLIC)
        for method in ops
    ]
    assert len(admin) >= 14
    filled = {
        "{key}": "handoff",
        "{contact_id}": "1",
        "{approval_id}": "1",
        "{key_id}": "1",
        "{email}": "a@example.com",
    }
    for method, template in admin:
        path = template
        for name, value in filled.items():
            path = path.replace(name, value)
        for headers in (
            {},
            {"Authorization": f"Bearer {api.write}"},
            {"Authorization": "Bearer tds_forged"},
        ):
            response = api.client.request(method.upper(), path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"


def test_create_a_workflow_from_yaml_and_see_its_versions(api: Api) -> None:
    created = api.admin(
        "POST", "/api/workflows", content=HANDOFF, headers={"content-type": "application/yaml"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    again = api.admin("POST", "/api/workflows", content=HANDOFF.replace("2d", "3d"))
    assert again.json()["version"] == 2
    detail = api.admin("GET", "/api/workflows/handoff").json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][1]["spec"]["steps"][0]["timeout"] == "3d"
    assert api.admin("POST", "/api/workflows/handoff/pause").json()["status"] == "paused"
    listed = api.admin("GET", "/api/workflows").json()
    assert listed == [
        {
            "key": "handoff",
            "name": "Sales hand-off",
            "status": "paused",
            "version": 2,
            "figures": None,
        }
    ]


def test_an_invalid_workflow_comes_back_with_every_problem_and_its_path(api: Api) -> None:
    broken = HANDOFF.replace("timeout: 2d", "timeout: 2 days").replace("type: send", "type: sned")
    response = api.admin("POST", "/api/workflows", content=broken)
    assert response.status_code == 422
    errors = {e["path"]: e["message"] for e in response.json()["errors"]}
    assert errors["steps[0].timeout"].startswith("'2 days' is not a duration")
    assert errors["steps[1].type"] == "unknown type 'sned'"
    assert api.admin("GET", "/api/workflows").json() == []


def test_approvals_inbox_and_decision(store: Store, api: Api) -> None:
    add_member(store, "lead@example.com", Role.APPROVER)  # the approver the step names
    api.admin("POST", "/api/workflows", content=HANDOFF)
    api.track(
        {
            "userId": "lead",
            "event": "demo_requested",
            "context": {
                "traits": {"email": "lead@example.com", "consent": {"email": "subscribed"}}
            },
        }
    )
    (request,) = api.admin("GET", "/api/approvals").json()
    assert request["message"] == "Call lead@example.com?"
    decided = api.admin(
        "POST", f"/api/approvals/{request['id']}/approve", json={"by": "maria"}
    ).json()
    assert decided == {"id": request["id"], "status": "approved", "enrollment_status": "exited"}
    assert (
        api.admin(
            "POST", f"/api/approvals/{request['id']}/approve", json={"by": "maria"}
        ).status_code
        == 409
    )
    # The approver's notice (an alert) and the message approving let through.
    notice, message = sorted(api.admin("GET", "/api/messages").json(), key=lambda m: m["id"])
    assert (notice["channel"], notice["step_id"]) == ("alert:email", "ask")
    assert (message["subject"], message["workflow"], message["step_id"]) == (
        "A rep will call",
        "handoff",
        "hi",
    )


def _queue_one_message(api: Api) -> None:
    api.admin("POST", "/api/workflows", content=HANDOFF)
    consent = {"email": "subscribed"}
    context = {"traits": {"email": "lead@example.com", "consent": consent}}
    api.track({"userId": "lead", "event": "demo_requested", "context": context})
    (request,) = api.admin("GET", "/api/approvals").json()
    api.admin("POST", f"/api/approvals/{request['id']}/approve", json={"by": "maria"})


@pytest.mark.parametrize("status", list(MessageStatus))
def test_messages_can_be_listed_by_every_status_the_outbox_has(
    store: Store, api: Api, status: MessageStatus
) -> None:
    _queue_one_message(api)
    with store.engine.begin() as conn:
        # Only the message approving let through, not the approver's notice.
        conn.execute(text("DELETE FROM messages WHERE channel = 'alert:email'"))
        conn.execute(text("UPDATE messages SET status = :s"), {"s": status.value})
    (message,) = api.admin("GET", "/api/messages", params={"status": status.value}).json()
    assert message["status"] == status.value
    others = [s for s in MessageStatus if s != status]
    for other in others:
        assert api.admin("GET", "/api/messages", params={"status": other.value}).json() == []


def test_an_unknown_message_status_is_refused_naming_the_parameter(api: Api) -> None:
    response = api.admin("GET", "/api/messages", params={"status": "bounced"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "query.status"
    assert all(s.value in error["message"] for s in MessageStatus)  # what it may be


def test_a_contact_with_its_timeline_and_stats(store: Store, api: Api) -> None:
    api.admin("POST", "/api/workflows", content=HANDOFF)
    api.track(
        {
            "userId": "lead",
            "event": "demo_requested",
            "context": {"traits": {"email": "lead@example.com"}},
        }
    )
    tick(store, timedelta(days=2))
    (contact,) = api.admin("GET", "/api/contacts", params={"email": "lead@example.com"}).json()
    detail = api.admin("GET", f"/api/contacts/{contact['id']}").json()
    assert detail["user_id"] == "lead"
    assert [e["name"] for e in detail["events"]] == ["demo_requested"]
    assert [(j["workflow"], j["status"], j["exit_reason"]) for j in detail["enrollments"]] == [
        ("handoff", "exited", "approval timed out")
    ]
    assert [s["action"] for s in detail["steps"]] == ["enrolled", "awaiting_approval", "timed_out"]
    stats = api.admin("GET", "/api/workflows/handoff/stats").json()
    assert (stats["entered"], stats["exited"], stats["steps"][0]["entered"]) == (1, 1, 1)
    journeys = api.admin(
        "GET", "/api/workflows/handoff/enrollments", params={"status": "exited"}
    ).json()
    assert [j["contact_id"] for j in journeys] == [contact["id"]]


def test_paging_and_tag_filters(store: Store, api: Api) -> None:
    for i in range(5):
        api.track({"userId": f"u{i}", "event": "x"})
    first = api.admin("GET", "/api/contacts", params={"limit": 2}).json()
    second = api.admin("GET", "/api/contacts", params={"limit": 2, "after": first[-1]["id"]}).json()
    assert [c["user_id"] for c in first + second] == ["u0", "u1", "u2", "u3"]
    assert api.admin("GET", "/api/contacts", params={"tag": "vip"}).json() == []


def test_another_workspaces_ids_are_not_found(store: Store, api: Api) -> None:
    api.track({"userId": "mine", "event": "x"})
    with store.engine.begin() as conn:
        other = ensure_workspace(conn, "other", "Other", store.clock.now())
        their_secret = create_key(conn, other, KeyKind.SECRET, store.clock.now())
    (mine,) = api.admin("GET", "/api/contacts").json()
    response = api.client.get(
        f"/api/contacts/{mine['id']}", headers={"Authorization": f"Bearer {their_secret}"}
    )
    assert response.status_code == 404
    assert (
        api.client.get("/api/contacts", headers={"Authorization": f"Bearer {their_secret}"}).json()
        == []
    )


def test_keys_are_shown_once_and_can_be_revoked(store: Store, api: Api) -> None:
    created = api.admin("POST", "/api/keys", json={"kind": "write"}).json()
    assert created["key"].startswith("tdw_")
    listed = api.admin("GET", "/api/keys").json()
    assert all("key" not in k and len(k["prefix"]) == 10 for k in listed)
    newest = listed[-1]["id"]
    assert api.admin("DELETE", f"/api/keys/{newest}").status_code == 204
    assert api.admin("DELETE", f"/api/keys/{newest}").status_code == 404
    # a fresh app has no cache: the revoked key is refused at once
    fresh = TestClient(create_app(store.engine, clock=store.clock))
    assert (
        fresh.post(
            "/v1/track", json={"userId": "u", "event": "x"}, auth=(created["key"], "")
        ).status_code
        == 401
    )


def test_update_a_contact(store: Store, api: Api) -> None:
    api.track(
        {"userId": "u1", "event": "x", "context": {"traits": {"plan": "free", "city": "Oslo"}}}
    )
    (contact,) = api.admin("GET", "/api/contacts").json()
    changes = {
        "timezone": "Europe/Oslo",
        "attributes": {"plan": "pro", "city": None},
        "add_tags": ["vip"],
        "consent": {"email": "unsubscribed"},
    }
    updated = api.admin("PATCH", f"/api/contacts/{contact['id']}", json=changes).json()
    assert (updated["timezone"], updated["attributes"], updated["tags"], updated["consent"]) == (
        "Europe/Oslo",
        {"plan": "pro"},
        ["vip"],
        {"email": "unsubscribed"},
    )
    bad = api.admin(
        "PATCH",
        f"/api/contacts/{contact['id']}",
        json={"timezone": "Mars/Base", "consent": {"email": "maybe"}},
    )
    assert bad.status_code == 400
    paths = {e["path"] for e in bad.json()["errors"]}
    assert {"body.timezone", "body.consent.email"} <= paths


def test_erasure_deletes_everything_and_keeps_only_hashes(store: Store, api: Api) -> None:
    api.admin("POST", "/api/workflows", content=HANDOFF)
    api.track(
        {
            "userId": "gone",
            "event": "demo_requested",
            "context": {"traits": {"email": "Gone@Example.com"}},
        }
    )
    api.track({"userId": "stays", "event": "x"})
    contacts = {c["user_id"]: c["id"] for c in api.admin("GET", "/api/contacts").json()}
    assert api.admin("DELETE", f"/api/contacts/{contacts['gone']}").status_code == 204
    assert api.admin("GET", f"/api/contacts/{contacts['gone']}").status_code == 404
    for table in ("events", "enrollments", "step_log", "approvals", "messages"):
        assert (
            rows(
                store,
                f"SELECT count(*) AS n FROM {table} WHERE contact_id = :c",
                c=contacts["gone"],
            )[0].n
            == 0
        )
    assert [c["user_id"] for c in api.admin("GET", "/api/contacts").json()] == ["stays"]
    kept = rows(store, "SELECT kind, value_hash FROM suppressions ORDER BY kind")
    assert [k.kind for k in kept] == ["email", "user_id"]
    assert all(len(k.value_hash) == 64 and "gone" not in k.value_hash for k in kept)
    with store.engine.connect() as conn:
        assert suppressed(conn, store.workspace_id, [("email", "gone@example.com")])  # case-blind
        assert not suppressed(conn, store.workspace_id, [("email", "stays@example.com")])


def test_segments_defined_previewed_paged_and_exported(store: Store, api: Api) -> None:
    for n, plan in enumerate(["pro", "pro", "free"]):
        api.track({"userId": f"u{n}", "event": "signed_up", "properties": {"plan": plan}})
        identify = {"userId": f"u{n}", "traits": {"plan": plan, "email": f"u{n}@example.com"}}
        assert (
            api.client.post("/v1/identify", json=identify, auth=(api.write, "")).status_code == 200
        )

    previewed = api.admin(
        "POST", "/api/segments/preview", json={"condition": 'contact.plan == "pro"'}
    )
    assert previewed.status_code == 200
    assert previewed.json()["size"] == 2
    assert [m["external_id"] for m in previewed.json()["sample"]] == ["u0", "u1"]
    # A preview changes nothing, so it is no change on the audit log.
    audit = api.admin("GET", "/api/audit", params={"subject": "segments"}).json()
    assert [e["action"] for e in audit["entries"]] == []

    bad = api.admin(
        "PUT", "/api/segments/pro", json={"name": "Pro", "condition": "contact.plan =="}
    )
    assert bad.status_code == 422
    assert bad.json()["title"] == "Invalid segment"
    assert bad.json()["errors"][0]["path"] == "condition"

    made = api.admin(
        "PUT",
        "/api/segments/signups",
        json={"name": "Signed up", "condition": "performed signed_up at least 1 time"},
    )
    assert made.status_code == 200 and made.json()["size"] == 3
    listed = api.admin("GET", "/api/segments").json()
    assert [(s["key"], s["size"]) for s in listed] == [("signups", 3)]
    page = api.admin("GET", "/api/segments/signups?limit=2").json()
    assert [m["external_id"] for m in page["members"]] == ["u0", "u1"]
    after = page["members"][-1]["id"]
    rest = api.admin("GET", f"/api/segments/signups?limit=2&after={after}").json()
    assert [m["external_id"] for m in rest["members"]] == ["u2"]

    exported = api.admin("GET", "/api/segments/signups/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("id,external_id,email") and len(lines) == 4

    assert api.admin("DELETE", "/api/segments/signups").status_code == 204
    assert api.admin("GET", "/api/segments/signups").status_code == 404


def test_a_scoring_model_through_the_api(store: Store, api: Api) -> None:
    bad = api.admin("PUT", "/api/scoring", json={"scores": {"e": {"half_life": "3 days"}}})
    assert bad.status_code == 422
    assert bad.json()["title"] == "Invalid scoring model"
    assert bad.json()["errors"][0]["path"] == "scores.e.half_life"
    model = {
        "scores": {
            "engagement": {
                "half_life": "30d",
                "rules": [{"id": "pricing", "event": "page_viewed", "points": 10}],
            }
        }
    }
    assert api.admin("PUT", "/api/scoring", json=model).json() == model
    assert api.admin("GET", "/api/scoring").json() == model
    api.track({"userId": "ann", "event": "page_viewed", "properties": {"url": "/pricing"}})
    [contact] = api.admin("GET", "/api/contacts").json()
    assert contact["scores"] == {"engagement": 10}
    detail = api.admin("GET", f"/api/contacts/{contact['id']}").json()
    assert any("engagement +10 by rule pricing" in line["detail"] for line in detail["steps"])


def test_import_duplicates_and_personal_data_through_the_api(store: Store, api: Api) -> None:
    csv_body = "Mail,Plan\nann@example.com,pro\nnot-an-email,free\n"
    headers = {"Content-Type": "text/csv"}
    dry = api.admin(
        "POST",
        "/api/contacts/import?dry_run=true&map=Mail%3Demail",
        content=csv_body,
        headers=headers,
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 1 and dry.json()["dry_run"] is True
    assert dry.json()["rejected"][0]["row"] == 3
    assert api.admin("GET", "/api/contacts").json() == []
    done = api.admin(
        "POST", "/api/contacts/import?map=Mail%3Demail", content=csv_body, headers=headers
    )
    assert done.json()["created"] == 1
    [ann] = api.admin("GET", "/api/contacts").json()
    assert ann["attributes"] == {"plan": "pro"}

    assert api.admin("GET", "/api/contacts/duplicates").json() == []
    exported = api.admin("GET", f"/api/contacts/{ann['id']}/export")
    assert exported.status_code == 200
    assert exported.json()["profile"]["email"] == "ann@example.com"
    assert "attachment" in exported.headers["content-disposition"]


def test_reports_as_json_and_as_a_page(store: Store, api: Api) -> None:
    cart = (Path(__file__).parents[3] / "examples" / "workflows" / "cart_recovery.yaml").read_text()
    api.admin("POST", "/api/workflows", content=cart)
    for user in ("ann", "bob", "cy"):
        traits = {
            "email": f"{user}@example.com",
            "source": "ads",
            "consent": {"email": "subscribed"},
        }
        assert api.client.post("/v1/identify", json={"userId": user, "traits": traits}, auth=(api.write, "")).status_code == 200  # fmt: skip
        api.track({"userId": user, "event": "cart_abandoned", "properties": {"cart_id": f"c-{user}", "value": 40}})  # fmt: skip
    api.track({"userId": "ann", "event": "order_completed", "properties": {"cart_id": "c-ann", "revenue": 40}})  # fmt: skip
    found = api.admin("GET", "/api/reports", params={"window": "3d"})
    assert found.status_code == 200, found.text
    body = found.json()
    (figures,) = body["workflows"]
    assert (figures["key"], figures["entered"], figures["converted"]) == ("cart_recovery", 3, 1)
    assert figures["revenue"] == 40.0 and figures["days"][0]["entered"] == 3
    assert body["attribution"]["window"] == 3 * 86400 and body["attribution"]["conversions"] == 1
    assert body["value"]["by_source"][0]["group"] == "ads"
    assert body["value"]["by_source"][0]["value"]["total"] == 40.0
    # The split's holdout: the report's groups are the paths the journeys took.
    paths = [r[0] for r in rows(store, "SELECT detail FROM step_log WHERE action = 'split'")]
    held = sum(p.startswith("path holdout") for p in paths)
    lifts = [(lift["workflow"], lift["treated"], lift["holdout"]) for lift in body["lifts"]]
    assert lifts == ([("cart_recovery", 3 - held, held)] if held else [])
    assert len(paths) == 3
    day = store.clock.now().date().isoformat()
    stats = api.admin(
        "GET", "/api/workflows/cart_recovery/stats", params={"since": day, "daily": True}
    )
    assert stats.json()["entered"] == 3 and len(stats.json()["days"]) == 1
    later = api.admin("GET", "/api/workflows/cart_recovery/stats", params={"since": "2030-01-01"})
    assert later.json()["entered"] == 0
    page = api.admin("GET", "/api/reports/html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Abandoned cart recovery" in page.text
    bad = api.admin("GET", "/api/reports", params={"window": "a week"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "window"
    backwards = api.admin(
        "GET", "/api/reports", params={"since": "2026-05-02", "until": "2026-05-01"}
    )
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["path"] == "since"


def test_a_simulated_workspace_is_reported_as_of_its_virtual_time(store: Store, api: Api) -> None:
    cart = (Path(__file__).parents[3] / "examples" / "workflows" / "cart_recovery.yaml").read_text()
    api.admin("POST", "/api/workflows", content=cart)

    def untouched() -> list[str]:
        found = api.admin("GET", "/api/reports").json()["findings"]
        return [f["summary"] for f in found if f["kind"] == "untouched"]

    # A real workspace 200 days on: the workflow has run unchanged all that time.
    store.clock.advance(timedelta(days=200))
    assert untouched() == ["running unchanged for 200 days"]
    # A simulation that ended 2 days after the deploy: its data lives in its own time.
    with store.engine.begin() as conn:
        mark_simulated(conn, store.workspace_id, store.clock.now() - timedelta(days=198))
    assert untouched() == []


def test_a_template_previewed_for_a_contact_and_a_sample_event(store: Store, api: Api) -> None:
    cart = (Path(__file__).parents[3] / "examples" / "workflows" / "cart_recovery.yaml").read_text()
    api.admin("POST", "/api/workflows", content=cart)
    traits = {"email": "ann@example.com", "first_name": "Ann"}
    assert api.client.post("/v1/identify", json={"userId": "ann", "traits": traits}, auth=(api.write, "")).status_code == 200  # fmt: skip
    name = "cart_reminder"
    sample = {"cart_id": "c1", "value": 42, "items": [{"name": "Mug", "price": 12}]}
    audited = rows(store, "SELECT count(*) FROM audit_log")[0][0]
    found = api.admin(
        "POST",
        "/api/workflows/cart_recovery/preview",
        json={"template": name, "contact": "ann", "event": sample},
    )
    assert found.status_code == 200, found.text
    shown = found.json()
    assert shown["subject"] == "You left something behind, Ann"
    assert "<li>Mug</li>" in shown["html"] and "cart/c1" in shown["html"]
    assert "Mug" in shown["text"]  # the text part derived from the HTML
    # Nothing was sent, stored or counted, nor written on the audit trail (an editor's
    # preview follows each keystroke).
    assert rows(store, "SELECT count(*) FROM messages")[0][0] == 0
    assert rows(store, "SELECT count(*) FROM audit_log")[0][0] == audited
    missing = api.admin(
        "POST", "/api/workflows/cart_recovery/preview", json={"template": "remindr"}
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["path"] == "template"
    nobody = api.admin(
        "POST",
        "/api/workflows/cart_recovery/preview",
        json={"template": name, "contact": "nobody@example.com"},
    )
    assert nobody.status_code == 404


def test_blueprints_listed_filled_in_and_created(api: Api) -> None:
    listed = api.admin("GET", "/api/blueprints").json()
    nps = next(b for b in listed if b["name"] == "nps")
    assert nps["title"] == "NPS survey"
    assert {"name": "key", "default": "nps"}.items() <= nps["parameters"][0].items()
    used = api.admin("POST", "/api/blueprints/nps", json={"values": {"key": "survey"}}).json()
    assert used["valid"] and used["problems"] == []
    created = api.admin("POST", "/api/workflows", content=used["source"])
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "survey"
    refused = api.admin("POST", "/api/blueprints/nps", json={"values": {"keyy": "x"}}).json()
    assert not refused["valid"] and refused["problems"][0]["path"] == "keyy"
    assert api.admin("POST", "/api/blueprints/nope", json={}).status_code == 404
