"""`tidings serve` serves the console at `/`: its page under a strict CSP, its assets cached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tidings.api import console
from tidings.api.app import create_app

INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/app-1a2b.js">'


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A console build as Vite lays it out."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('tidings')")
    (tmp_path / "assets" / "app-1a2b.css").write_text("body{margin:0}")
    return tmp_path


@pytest.fixture
def client(store: Store, build: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(console, "console_files", lambda: build)
    with TestClient(create_app(store.engine, clock=store.clock, catalog=store.catalog)) as c:
        yield c


def test_the_page_and_every_client_route_answer_index_html_under_the_csp(
    client: TestClient,
) -> None:
    for path in ("/", "/workflows", "/workflows/cart_recovery", "/settings/people"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.text == INDEX
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == console.CSP
        assert "script-src 'self';" in console.CSP and "unsafe-inline" not in console.CSP
        assert page.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_and_unknown_ones_are_404(client: TestClient) -> None:
    script = client.get("/assets/app-1a2b.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/assets/app-1a2b.css").headers["content-type"].startswith("text/css")
    # A missing asset must not come back as index.html (the browser would run HTML as script).
    for missing in ("/assets/gone-0000.js", "/assets/sub/app-1a2b.js", "/assets/.hidden.js"):
        assert client.get(missing).status_code == 404, missing


def test_api_paths_keep_their_own_answers(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    unknown = client.get("/api/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert client.get("/api/workflows").status_code == 401
    # A GET on a POST-only ingest route stays a 405, not the console's page.
    assert client.get("/v1/track").status_code == 405
    assert client.get("/openapi.json").json()["info"]["title"] == "Tidings"
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p == "/{path}" or p.startswith("/assets") for p in paths)


def test_a_missing_build_says_how_to_build_it(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "console_files", lambda: tmp_path / "nothing")
    with TestClient(create_app(store.engine, clock=store.clock, catalog=store.catalog)) as client:
        page = client.get("/workflows")
    assert page.status_code == 503
    assert "make console" in page.text
    assert page.headers["content-security-policy"] == console.CSP
