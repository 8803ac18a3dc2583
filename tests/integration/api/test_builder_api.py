"""The builder's API: live validation, drafts that are never lost, publish, diffs, roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import rows
from tidings.storage.people import Role

CART = """\
id: cart
name: Abandoned cart
trigger: {event: cart_abandoned}
templates:
  nudge: {subject: "Your cart", text: "Still there?"}
layout:
  trigger: {x: 0, y: 0}
  wait: {x: 0, y: 120}
  nudge: {x: 0, y: 240}
steps:
  - {id: wait, type: wait, for: 1h}
  - {id: nudge, type: send, template: nudge}
"""


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "ed@example.com", Role.EDITOR)
    add_member(store, "vi@example.com", Role.VIEWER)
    yield from served(store)


def _as(client: TestClient, email: str) -> Browser:
    browser = Browser(client)
    assert browser.login(email).status_code == 200
    return browser


def _yaml(source: str) -> dict[str, Any]:
    return {"content": source, "headers": {"Content-Type": "application/yaml"}}


def test_validation_names_the_step_the_field_and_the_fix(client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    broken = CART.replace("for: 1h", "fro: 1h").replace("template: nudge", "template: nudg")
    answer = ed.call("POST", "/api/workflows/validate", **_yaml(broken))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["valid"] is False
    found = {(p["step_id"], p["path"]): p for p in body["problems"]}
    assert found["wait", "steps[0].fro"]["hint"] == "did you mean for?"
    assert found["nudge", "steps[1].template"]["hint"] == "did you mean nudge?"
    fine = ed.call("POST", "/api/workflows/validate", **_yaml(CART)).json()
    assert fine == {"valid": True, "problems": []}


def test_validation_reads_json_and_reports_unreadable_yaml_as_a_problem(
    client: TestClient,
) -> None:
    ed = _as(client, "ed@example.com")
    as_json = ed.call("POST", "/api/workflows/validate", json=yaml.safe_load(CART))
    assert as_json.json()["valid"] is True
    unreadable = ed.call("POST", "/api/workflows/validate", **_yaml("steps: [\n  {id: a"))
    assert unreadable.status_code == 200
    (problem,) = unreadable.json()["problems"]
    assert problem["message"].startswith("line ")
    assert problem["step_id"] is None


def test_layout_is_kept_through_publish_and_a_stale_position_is_a_warning(
    client: TestClient,
) -> None:
    ed = _as(client, "ed@example.com")
    stale = CART.replace("  nudge: {x: 0, y: 240}", "  nudge: {x: 0, y: 240}\n  nuge: {x: 1, y: 1}")
    problems = ed.call("POST", "/api/workflows/validate", **_yaml(stale)).json()
    assert problems["valid"] is True
    (warning,) = problems["problems"]
    assert (warning["path"], warning["severity"], warning["step_id"]) == (
        "layout.nuge",
        "warning",
        "nuge",
    )
    assert ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART)).status_code == 200
    assert ed.call("POST", "/api/workflows/cart/publish").status_code == 200
    spec = ed.call("GET", "/api/workflows/cart").json()["versions"][0]["spec"]
    assert spec["layout"]["nudge"] == {"x": 0.0, "y": 240.0}


def test_a_draft_is_kept_even_when_invalid_and_the_engine_runs_the_published_version(
    store: Store, client: TestClient
) -> None:
    ed = _as(client, "ed@example.com")
    assert ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART)).json()["valid"] is True
    published = ed.call("POST", "/api/workflows/cart/publish")
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 1
    assert ed.call("GET", "/api/workflows/cart/draft").status_code == 404

    half_done = CART.replace("for: 1h", "for: 1 fortnight")
    saved = ed.call("PUT", "/api/workflows/cart/draft", **_yaml(half_done))
    assert saved.status_code == 200
    assert saved.json()["valid"] is False
    assert saved.json()["problems"][0]["step_id"] == "wait"
    again = ed.call("GET", "/api/workflows/cart/draft").json()
    assert again["source"] == half_done
    assert again["updated_by"] == "ed@example.com"
    assert [d["key"] for d in ed.call("GET", "/api/workflow-drafts").json()] == ["cart"]

    refused = ed.call("POST", "/api/workflows/cart/publish")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "steps[0].for"
    # Refused: the draft stays, and the published version is still the one that runs.
    assert ed.call("GET", "/api/workflows/cart/draft").json()["source"] == half_done
    assert ed.call("GET", "/api/workflows/cart").json()["version"] == 1
    (spec,) = rows(store, "SELECT spec FROM workflow_versions")
    assert "fortnight" not in str(spec)


def test_a_draft_whose_id_differs_from_its_key_cannot_be_published(client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    saved = ed.call("PUT", "/api/workflows/other/draft", **_yaml(CART)).json()
    assert saved["valid"] is False
    assert saved["problems"][0]["path"] == "id"
    assert "set id: other" in saved["problems"][0]["hint"]
    assert ed.call("POST", "/api/workflows/other/publish").status_code == 422


def test_diff_between_versions_and_the_draft_reads_as_yaml(client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART))
    ed.call("POST", "/api/workflows/cart/publish")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART.replace("for: 1h", "for: 2h")))
    assert ed.call("POST", "/api/workflows/cart/publish").json()["version"] == 2
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART.replace("for: 1h", "for: 3h")))

    one_two = ed.call("GET", "/api/workflows/cart/diff?from=1&to=2").json()["diff"]
    assert "--- version 1\n+++ version 2\n" in one_two
    assert "-  for: 1h\n+  for: 2h\n" in one_two
    to_draft = ed.call("GET", "/api/workflows/cart/diff?from=2&to=draft").json()["diff"]
    assert "-  for: 2h\n+  for: 3h\n" in to_draft
    missing = ed.call("GET", "/api/workflows/cart/diff?from=1&to=9")
    assert missing.status_code == 404
    assert "versions 1 to 2" in missing.json()["detail"]


def test_a_viewer_reads_and_validates_but_cannot_save_publish_or_discard(
    client: TestClient,
) -> None:
    ed = _as(client, "ed@example.com")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART))
    viewer = _as(client, "vi@example.com")
    assert viewer.call("GET", "/api/workflows/cart/draft").status_code == 200
    assert viewer.call("POST", "/api/workflows/validate", **_yaml(CART)).json()["valid"] is True
    for method, path in (
        ("POST", "/api/workflows/cart/publish"),
        ("PUT", "/api/workflows/cart/draft"),
        ("DELETE", "/api/workflows/cart/draft"),
    ):
        refused = viewer.call(method, path, **_yaml(CART))
        assert refused.status_code == 403, (method, path)
        assert "editor role" in refused.json()["detail"]
    assert ed.call("GET", "/api/workflows/cart").status_code == 404


def test_saving_and_publishing_are_on_the_audit_log(store: Store, client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART))
    ed.call("POST", "/api/workflows/validate", **_yaml(CART))  # a dry check: not logged
    ed.call("POST", "/api/workflows/cart/publish")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART.replace("for: 1h", "for: 2h")))
    ed.call("POST", "/api/workflows/cart/publish")
    logged = rows(
        store,
        "SELECT actor, action, subject_key, details FROM audit_log"
        " WHERE subject_type = 'workflows' ORDER BY id",
    )
    assert [(r.actor, r.action, r.subject_key) for r in logged] == [
        ("ed@example.com", "workflows.save", "cart"),
        ("ed@example.com", "workflows.publish", "cart"),
        ("ed@example.com", "workflows.save", "cart"),
        ("ed@example.com", "workflows.publish", "cart"),
    ]
    details = logged[-1].details
    details = details if isinstance(details, dict) else yaml.safe_load(details)
    assert "+  - {id: wait, type: wait, for: 2h}" in details["diff"]


def test_a_discarded_draft_is_gone_and_the_published_version_stays(client: TestClient) -> None:
    ed = _as(client, "ed@example.com")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml(CART))
    ed.call("POST", "/api/workflows/cart/publish")
    ed.call("PUT", "/api/workflows/cart/draft", **_yaml("anything: at all"))
    assert ed.call("DELETE", "/api/workflows/cart/draft").status_code == 204
    assert ed.call("DELETE", "/api/workflows/cart/draft").status_code == 404
    assert ed.call("GET", "/api/workflows/cart").json()["version"] == 1


def test_the_builder_checks_against_the_workspace_as_a_deploy_does(client: TestClient) -> None:
    """An enroll into a workflow the workspace lacks, or a form trigger naming no form, is a
    problem on the canvas as the editor types, not only once the publish is refused."""
    ed = _as(client, "ed@example.com")
    enrolls = CART.replace(
        "  - {id: nudge, type: send, template: nudge}",
        "  - {id: nudge, type: send, template: nudge}\n  - {id: next, type: enroll, workflow: wellcome}",
    )
    for answer in (
        ed.call("POST", "/api/workflows/validate", **_yaml(enrolls)).json(),
        ed.call("PUT", "/api/workflows/cart/draft", **_yaml(enrolls)).json(),
    ):
        assert answer["valid"] is False
        (problem,) = answer["problems"]
        assert (problem["step_id"], problem["path"]) == ("next", "steps[2].workflow")
    refused = ed.call("POST", "/api/workflows/cart/publish")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "steps[2].workflow"
    # The same workflow sent straight to the API's deploy is refused the same way.
    deployed = ed.call("POST", "/api/workflows", **_yaml(enrolls))
    assert deployed.status_code == 422
    assert deployed.json()["errors"][0]["path"] == "steps[2].workflow"

    # Enrolling into itself, or into a workflow the workspace has, is fine.
    itself = enrolls.replace("workflow: wellcome", "workflow: cart")
    assert ed.call("PUT", "/api/workflows/cart/draft", **_yaml(itself)).json()["valid"] is True
    assert ed.call("POST", "/api/workflows/cart/publish").status_code == 200
    other = enrolls.replace("id: cart", "id: browse").replace(
        "workflow: wellcome", "workflow: cart"
    )
    assert ed.call("POST", "/api/workflows/validate", **_yaml(other)).json()["valid"] is True

    form = CART.replace("trigger: {event: cart_abandoned}", "trigger: {type: form, form: signup}")
    answer = ed.call("POST", "/api/workflows/validate", **_yaml(form)).json()
    assert answer["valid"] is False and answer["problems"][0]["path"].startswith("trigger")
