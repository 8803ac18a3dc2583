"""Every HTML page the API serves carries a Content-Security-Policy, and /docs loads
nothing from another site."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from tests.integration.conftest import Store
from tidings.api import inbound, links
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key


@pytest.fixture
def client(store: Store) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        yield client, secret


def _get_paths(http: TestClient) -> set[str]:
    """Every GET route: the documented ones, the link pages, and the app's own (/docs)."""
    documented = {
        path for path, ops in http.get("/openapi.json").json()["paths"].items() if "get" in ops
    }
    hidden = [*links.router.routes, *inbound.router.routes, *http.app.routes]  # type: ignore[attr-defined]
    return documented | {
        route.path
        for route in hidden
        if isinstance(route, Route) and "GET" in (route.methods or ())
    }


def test_every_html_answer_carries_a_content_security_policy(
    client: tuple[TestClient, str],
) -> None:
    http, secret = client
    html_routes = []
    for template in sorted(_get_paths(http)):
        path = re.sub(r"\{[^}]+\}", "forged", template)
        response = http.get(path, headers={"Authorization": f"Bearer {secret}"})
        if response.headers.get("content-type", "").startswith("text/html"):
            html_routes.append(template)
            policy = response.headers.get("content-security-policy", "")
            assert "default-src 'none'" in policy, template
    # The docs, the report page, and the link pages (unsubscribe, preferences, confirm).
    assert {"/docs", "/api/reports/html", "/u/{token}", "/p/{token}", "/confirm/{token}"} <= set(
        html_routes
    )


def test_the_docs_load_only_this_servers_files(client: tuple[TestClient, str]) -> None:
    http, _ = client
    page = http.get("/docs")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "http" not in policy and "*" not in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 3
    for source in sources:
        # Each is a path on this server, and this server has it.
        assert source.startswith("/docs/"), source
        assert http.get(source).status_code == 200, source
    # No inline script the policy would have to allow.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == []
    assert "SwaggerUIBundle" in http.get("/docs/own/docs.js").text


def test_the_cdn_pages_are_gone_and_the_document_stays(client: tuple[TestClient, str]) -> None:
    http, _ = client
    assert http.get("/redoc").status_code == 404
    assert http.get("/openapi.json").json()["info"]["title"] == "Tidings"
