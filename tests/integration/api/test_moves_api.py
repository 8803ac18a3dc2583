"""The move's API: a dry run that changes nothing and is not audited, then the move,
audited with its map; editors only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, tick, track
from tidings.storage.people import Role

V1 = """
id: nurture
name: Nurture
trigger: {event: signed_up}
templates:
  tip: {subject: "A tip", text: "x"}
steps:
  - {id: pause, type: wait, for: 2d}
  - {id: legacy, type: wait, event: clicked, timeout: 1d}
  - {id: tip, type: send, template: tip}
"""
V2 = V1.replace("id: pause, type: wait, for: 2d", "id: hold, type: wait, for: 2d").replace(
    "event: clicked", "event: opened"
)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "ed@example.com", Role.EDITOR)
    add_member(store, "vi@example.com", Role.VIEWER)
    yield from served(store)


def _as(client: TestClient, email: str) -> Browser:
    browser = Browser(client)
    assert browser.login(email).status_code == 200
    return browser


def _waiting(store: Store) -> None:
    deploy(store, V1)
    for user in ("ann", "bob"):
        subscriber(store, user)
        track(store, user, "signed_up")
    deploy(store, V2)


def test_the_dry_run_then_the_move(store: Store, client: TestClient) -> None:
    _waiting(store)
    ed = _as(client, "ed@example.com")
    body = {"map": {"pause": "hold"}}
    dry = ed.call("POST", "/api/workflows/nurture/migration", json=body)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {
        "to_version": 2,
        "moved": 2,
        "stranded": 0,
        "applied": False,
        "lines": [
            {"from_version": 1, "from_step": "pause", "to_step": "hold", "contacts": 2,
             "note": "deadline kept"},
        ],
    }  # fmt: skip
    assert rows(store, "SELECT DISTINCT version FROM enrollments") == [(1,)]
    done = ed.call("POST", "/api/workflows/nurture/migration/apply", json=body)
    assert done.status_code == 200, done.text
    assert (done.json()["moved"], done.json()["applied"]) == (2, True)
    assert rows(store, "SELECT DISTINCT version, step_id FROM enrollments") == [(2, "hold")]
    logged = rows(
        store,
        "SELECT actor, action, subject_key, details FROM audit_log"
        " WHERE subject_type = 'workflows' ORDER BY id",
    )
    assert [(r.actor, r.action, r.subject_key) for r in logged] == [
        ("ed@example.com", "workflows.apply_migration", "nurture")
    ]
    details = logged[0].details
    details = details if isinstance(details, dict) else yaml.safe_load(details)
    assert details["map"] == {"pause": "hold"} and details["moved"] == 2


def test_those_who_cannot_move_are_counted_with_the_reason(
    store: Store, client: TestClient
) -> None:
    _waiting(store)
    tick(store, timedelta(days=2, minutes=1))  # on to the wait for a click
    ed = _as(client, "ed@example.com")
    dry = ed.call("POST", "/api/workflows/nurture/migration", json={})
    assert dry.json()["lines"] == [
        {"from_version": 1, "from_step": "legacy", "to_step": None, "contacts": 2,
         "note": "it awaits clicked, which legacy no longer awaits"},
    ]  # fmt: skip


def test_a_bad_map_is_a_problem_naming_the_step(store: Store, client: TestClient) -> None:
    _waiting(store)
    ed = _as(client, "ed@example.com")
    wrong = ed.call("POST", "/api/workflows/nurture/migration", json={"map": {"pause": "tip"}})
    assert wrong.status_code == 422
    assert "'tip' is a send step; only waits take contacts" in wrong.text
    odd = ed.call("POST", "/api/workflows/nurture/migration", json={"map": {"pause": "<b>"}})
    assert odd.status_code == 400
    missing = ed.call("POST", "/api/workflows/nope/migration", json={})
    assert missing.status_code == 404


def test_viewers_may_not_look_or_move(store: Store, client: TestClient) -> None:
    _waiting(store)
    vi = _as(client, "vi@example.com")
    assert vi.call("POST", "/api/workflows/nurture/migration", json={}).status_code == 403
    assert vi.call("POST", "/api/workflows/nurture/migration/apply", json={}).status_code == 403
    assert rows(store, "SELECT DISTINCT version FROM enrollments") == [(1,)]


def test_the_dry_run_can_plan_on_the_draft_before_it_is_published(
    store: Store, client: TestClient
) -> None:
    deploy(store, V1)
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    ed = _as(client, "ed@example.com")
    saved = ed.call(
        "PUT", "/api/workflows/nurture/draft", content=V2,
        headers={"Content-Type": "application/yaml"},
    )  # fmt: skip
    assert saved.status_code in (200, 201), saved.text
    dry = ed.call(
        "POST", "/api/workflows/nurture/migration", json={"map": {"pause": "hold"}, "draft": True}
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["to_version"], dry.json()["moved"]) == (2, 1)
    assert [(line["from_step"], line["to_step"]) for line in dry.json()["lines"]] == [
        ("pause", "hold")
    ]
    # On the live version (still version 1) nobody waits in an older one.
    live = ed.call("POST", "/api/workflows/nurture/migration", json={"map": {}})
    assert (live.json()["to_version"], live.json()["lines"]) == (1, [])
    assert ed.call("POST", "/api/workflows/nurture/publish").status_code == 200
    done = ed.call(
        "POST", "/api/workflows/nurture/migration/apply", json={"map": {"pause": "hold"}}
    )
    assert done.json()["moved"] == 1


def _drafted(store: Store, ed: Browser) -> None:
    """Version 1 live with two journeys waiting at `pause`; version 2, which renames it
    `hold`, saved as the builder's draft."""
    deploy(store, V1)
    for user in ("ann", "bob"):
        subscriber(store, user)
        track(store, user, "signed_up")
    saved = ed.call(
        "PUT",
        "/api/workflows/nurture/draft",
        content=V2,
        headers={"Content-Type": "application/yaml"},
    )
    assert saved.status_code == 200 and saved.json()["valid"], saved.text


def test_publish_and_move_in_one_request(store: Store, client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    _drafted(store, ed)
    body = {"move": True, "map": {"pause": "hold"}}
    done = ed.call("POST", "/api/workflows/nurture/publish", json=body)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["version"], answer["move_error"]) == (2, None)
    assert (answer["move"]["moved"], answer["move"]["applied"]) == (2, True)
    assert rows(store, "SELECT DISTINCT version, step_id FROM enrollments") == [(2, "hold")]
    # One act, one line on the audit log, with the map it moved by.
    logged = rows(
        store,
        "SELECT action, details FROM audit_log WHERE subject_type = 'workflows' ORDER BY id",
    )
    actions = [r.action for r in logged]
    assert actions[-1] == "workflows.publish" and "workflows.apply_migration" not in actions
    details = logged[-1].details
    details = details if isinstance(details, dict) else yaml.safe_load(details)
    assert (details["map"], details["moved"], details["version"]) == ({"pause": "hold"}, 2, 2)


def test_a_map_that_does_not_fit_publishes_nothing(store: Store, client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    _drafted(store, ed)
    refused = ed.call(
        "POST", "/api/workflows/nurture/publish", json={"move": True, "map": {"pause": "tip"}}
    )
    assert refused.status_code == 422
    assert "'tip' is a send step; only waits take contacts" in refused.text
    # Still version 1, its journeys where they were, the draft kept for another try.
    assert rows(store, "SELECT current_version FROM workflows") == [(1,)]
    assert rows(store, "SELECT DISTINCT version, step_id FROM enrollments") == [(1, "pause")]
    assert ed.call("GET", "/api/workflows/nurture/draft").status_code == 200


def test_publish_without_move_leaves_the_waiting_where_they_are(
    store: Store, client: TestClient
) -> None:
    ed = _as(client, "ed@example.com")
    _drafted(store, ed)
    done = ed.call("POST", "/api/workflows/nurture/publish")
    assert done.status_code == 200, done.text
    assert (done.json()["version"], done.json()["move"]) == (2, None)
    assert rows(store, "SELECT DISTINCT version, step_id FROM enrollments") == [(1, "pause")]


def test_a_first_publish_checks_the_map_too(store: Store, client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    saved = ed.call(
        "PUT",
        "/api/workflows/nurture/draft",
        content=V1,
        headers={"Content-Type": "application/yaml"},
    )
    assert saved.status_code == 200, saved.text
    refused = ed.call(
        "POST", "/api/workflows/nurture/publish", json={"move": True, "map": {"pause": "tip"}}
    )
    assert refused.status_code == 422, refused.text
    assert "'tip' is a send step; only waits take contacts" in refused.text
    # Nothing published, the draft kept for another try.
    assert rows(store, "SELECT count(*) FROM workflows") == [(0,)]
    assert ed.call("GET", "/api/workflows/nurture/draft").status_code == 200


def test_a_map_without_move_is_refused(store: Store, client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    _drafted(store, ed)
    refused = ed.call("POST", "/api/workflows/nurture/publish", json={"map": {"pause": "hold"}})
    assert refused.status_code == 422
    assert "map needs move: true" in refused.text
    assert rows(store, "SELECT current_version FROM workflows") == [(1,)]
