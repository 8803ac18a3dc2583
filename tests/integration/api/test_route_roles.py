"""Every /api route declares who may call it; roles are refused on the server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF
from tidings.api.app import create_app
from tidings.api.auth import Policy
from tidings.storage.engine import create_engine
from tidings.storage.people import Role


def _policies(dependant: Dependant) -> list[Policy]:
    found = []
    for dependency in dependant.dependencies:
        policy = getattr(dependency.call, "policy", None)
        if isinstance(policy, Policy):
            found.append(policy)
        found.extend(_policies(dependency))
    return found


@dataclass(frozen=True)
class Served:
    """A route as the app serves it: full path, methods, endpoint and dependencies."""

    path: str
    methods: set[str]
    endpoint: str
    dependant: Dependant


def _api_routes() -> list[Served]:
    app = create_app(create_engine("sqlite://"))
    # FastAPI includes routers lazily: iter_route_contexts yields each route as served, and
    # its effective route carries the dependencies of every router above it.
    found = []
    for context in iter_route_contexts(app.routes):
        effective = getattr(context, "_effective_route", context.route)
        dependant = getattr(effective, "dependant", None)
        path, endpoint = context.path or "", getattr(context.endpoint, "__name__", "")
        if path.startswith("/api"):
            assert isinstance(dependant, Dependant), path
            found.append(Served(path, set(context.methods or ()), endpoint, dependant))
    return found


def test_every_api_route_declares_its_role_or_that_it_is_public() -> None:
    routes = _api_routes()
    assert len(routes) > 40
    for route in routes:
        policies = _policies(route.dependant)
        assert len(policies) == 1, (
            f"{route.path} {route.methods}: add requires(Role...) or public() to its router"
        )


def test_only_logging_in_and_accepting_invitations_are_public() -> None:
    public = {r.path for r in _api_routes() if _policies(r.dependant)[0].public}
    assert public == {"/api/session", "/api/session/workspace", "/api/invitations/accept"}


def test_the_roles_each_route_needs() -> None:
    needed = {}
    for route in _api_routes():
        policy = _policies(route.dependant)[0]
        for method in route.methods:
            needed[(method, route.path)] = policy.needed(method, route.endpoint)
    assert needed[("GET", "/api/workflows")] is Role.VIEWER
    assert needed[("POST", "/api/workflows/{key}/activate")] is Role.EDITOR
    assert needed[("POST", "/api/workflows/validate")] is Role.VIEWER
    assert needed[("PUT", "/api/workflows/{key}/draft")] is Role.EDITOR
    assert needed[("DELETE", "/api/workflows/{key}/draft")] is Role.EDITOR
    assert needed[("POST", "/api/workflows/{key}/publish")] is Role.EDITOR
    assert needed[("GET", "/api/workflows/{key}/draft")] is Role.VIEWER
    assert needed[("GET", "/api/workflows/{key}/diff")] is Role.VIEWER
    assert needed[("GET", "/api/workflow-drafts")] is Role.VIEWER
    assert needed[("POST", "/api/approvals/{approval_id}/approve")] is Role.APPROVER
    assert needed[("PUT", "/api/settings")] is Role.OWNER
    assert needed[("POST", "/api/keys")] is Role.OWNER
    assert needed[("POST", "/api/people")] is Role.OWNER
    assert needed[("DELETE", "/api/contacts/{contact_id}")] is Role.OWNER
    assert needed[("GET", "/api/contacts/{contact_id}/export")] is Role.OWNER
    assert needed[("GET", "/api/audit")] is Role.EDITOR
    assert needed[("POST", "/api/workflows/{key}/preview")] is Role.EDITOR
    assert needed[("GET", "/api/blueprints")] is Role.VIEWER
    assert needed[("POST", "/api/blueprints/{name}")] is Role.EDITOR
    assert needed[("PUT", "/api/forms/{key}")] is Role.EDITOR
    assert needed[("GET", "/api/forms/{key}/figures")] is Role.VIEWER
    # No route is left at a read level for a change.
    for (method, path), role in needed.items():
        # Validation is a POST (it takes a document) that stores nothing.
        dry = path == "/api/workflows/validate"
        if (
            method not in {"GET", "HEAD"}
            and not dry
            and not path.startswith(("/api/session", "/api/inv"))
        ):
            assert role is not Role.VIEWER, (method, path)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    for role in Role:
        add_member(store, f"{role.value}@example.com", role)
    yield from served(store)


def _as(client: TestClient, role: Role) -> Browser:
    browser = Browser(client)
    assert browser.login(f"{role.value}@example.com").status_code == 200
    return browser


def _check(browser: Browser, method: str, path: str, expected: int, **kwargs: Any) -> None:
    response = browser.call(method, path, **kwargs)
    assert response.status_code == expected, (method, path, response.text)
    if expected == 403:
        assert response.headers["content-type"] == "application/problem+json"
        assert "role" in response.json()["detail"]


def test_a_viewer_reads_but_cannot_publish_activate_or_decide(
    store: Store, client: TestClient
) -> None:
    _check(_as(client, Role.EDITOR), "POST", "/api/workflows", 201, content=HANDOFF)
    viewer = _as(client, Role.VIEWER)
    _check(viewer, "GET", "/api/workflows", 200)
    _check(viewer, "GET", "/api/workflows/handoff", 200)
    _check(viewer, "POST", "/api/workflows", 403, content=HANDOFF)
    _check(viewer, "POST", "/api/workflows/handoff/pause", 403)
    _check(viewer, "POST", "/api/workflows/handoff/activate", 403)
    _check(viewer, "PUT", "/api/workflows/handoff/draft", 403, content=HANDOFF)
    _check(viewer, "POST", "/api/workflows/handoff/publish", 403)
    _check(viewer, "POST", "/api/approvals/1/approve", 403, json={"by": "me"})
    _check(viewer, "GET", "/api/people", 200)
    assert viewer.call("GET", "/api/workflows/handoff").json()["status"] == "active"


def test_editors_edit_approvers_decide_and_only_owners_manage(
    store: Store, client: TestClient
) -> None:
    editor = _as(client, Role.EDITOR)
    _check(editor, "POST", "/api/workflows", 201, content=HANDOFF)
    _check(editor, "POST", "/api/workflows/handoff/pause", 200)
    _check(editor, "POST", "/api/approvals/1/approve", 403, json={"by": "me"})
    _check(editor, "POST", "/api/keys", 403, json={"kind": "secret"})
    _check(editor, "PUT", "/api/settings", 403, json={})
    _check(editor, "DELETE", "/api/contacts/1", 403)
    _check(editor, "GET", "/api/contacts/1/export", 403)
    _check(editor, "POST", "/api/people", 403, json={"email": "x@example.com", "role": "owner"})
    approver = _as(client, Role.APPROVER)
    _check(
        approver, "POST", "/api/approvals/1/approve", 404, json={"by": "me"}
    )  # allowed; there is no such one
    _check(approver, "POST", "/api/workflows/handoff/activate", 403)
    owner = _as(client, Role.OWNER)
    _check(owner, "POST", "/api/approvals/1/approve", 404, json={"by": "me"})
    _check(owner, "POST", "/api/workflows/handoff/activate", 200)
    _check(owner, "POST", "/api/keys", 201, json={"kind": "secret"})
    _check(owner, "DELETE", "/api/contacts/1", 404)
