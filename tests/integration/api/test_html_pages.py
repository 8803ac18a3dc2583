"""Every HTML page the API serves carries a Content-Security-Policy, and /docs loads
nothing from another site."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from tests.integration.conftest import Store
from tidings.api import approval_links, console, form_pages, inbound, links
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
    """Every GET route: the documented ones, the undocumented routers' (links, approval
    links, forms, the console), and the app's own (/docs). The routers are named one by one:
    FastAPI keeps an included router whole, so the app's routes do not list theirs."""
    documented = {
        path for path, ops in http.get("/openapi.json").json()["paths"].items() if "get" in ops
    }
    routers = [links.router, inbound.router, approval_links.router, form_pages.router]
    hidden = [
        *(route for router in routers for route in router.routes),
        *console.make_router().routes,
        *http.app.routes,  # type: ignore[attr-defined]
    ]
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
            # Nothing by default but this server (the console) or nothing at all, no other
            # site anywhere, and never an inline script.
            assert re.search(r"\bdefault-src '(none|self)'", policy), template
            assert "*" not in policy and "http" not in policy, template
            scripts = re.search(r"script-src ([^;]*)", policy)
            assert scripts is None or "unsafe" not in scripts[1], template
    # The docs, the report page, the link pages (unsubscribe, preferences, confirm, an
    # approval), a hosted form and the console's pages.
    assert {
        "/docs",
        "/api/reports/html",
        "/u/{token}",
        "/p/{token}",
        "/confirm/{token}",
        "/approvals/open/{token}",
        "/f/{workspace_key}/{form_key}",
        "/{path:path}",
    } <= set(html_routes)


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


@pytest.mark.parametrize(
    "path",
    [
        "/docs/static/index.html",  # Swagger UI's demo page: loads the petstore's API
        "/docs/static/oauth2-redirect.html",  # an inline script, no policy
        "/docs/static/index.j2",
        "/docs/static/swagger-initializer.js",
        "/docs/static/../static/index.html",
    ],
)
def test_the_swagger_bundles_other_files_are_not_served(
    client: tuple[TestClient, str], path: str
) -> None:
    http, _ = client
    response = http.get(path)
    assert response.status_code == 404
    assert not response.headers.get("content-type", "").startswith("text/html")


def test_the_cdn_pages_are_gone_and_the_document_stays(client: tuple[TestClient, str]) -> None:
    http, _ = client
    assert http.get("/redoc").status_code == 404
    assert http.get("/openapi.json").json()["info"]["title"] == "Tidings"
