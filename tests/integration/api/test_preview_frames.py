"""The template preview's frame: the rendered email at a URL of its own, under a policy of
its own that keeps inline styles and runs no script, opened by its id alone, for a while."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import rows
from tidings.api import preview_frames
from tidings.api.preview_frames import FRAME_TTL
from tidings.storage.drafts import save_draft
from tidings.storage.people import Role

WELCOME = """\
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi: {subject: "Hi", html: "<p>hi</p>"}
steps:
  - {id: hi, type: send, template: hi}
"""
STYLED = '<style>p{color:red}</style><p style="margin:3px">Hi {{ contact.email }}</p>'


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "ed@example.com", Role.EDITOR)
    with store.engine.begin() as conn:
        save_draft(conn, store.workspace_id, "welcome", WELCOME, store.clock.now(), "ed")
    yield from served(store)


def _frame(client: TestClient, html: str = STYLED) -> str:
    ed = Browser(client)
    assert ed.login("ed@example.com").status_code == 200
    shown = ed.call(
        "POST",
        "/api/workflows/welcome/preview",
        json={"template": "hi", "draft": True, "source": {"subject": "Hi", "html": html}},
    )
    assert shown.status_code == 200, shown.text
    frame: str = shown.json()["frame"]
    assert frame.startswith("/preview-frames/")
    client.cookies.clear()  # the sandboxed frame has no origin to send cookies from
    return frame


def test_the_frame_shows_the_message_with_its_styles_and_no_script(
    store: Store, client: TestClient
) -> None:
    page = client.get(_frame(client))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert STYLED.replace("{{ contact.email }}", "") in page.text
    policy = page.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy and "sandbox" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert page.headers["cache-control"] == "no-store"


def test_a_frame_expires_and_an_unknown_one_is_not_found(store: Store, client: TestClient) -> None:
    frame = _frame(client)
    assert client.get(frame[:-4] + "abcd").status_code == 404
    store.clock.advance(FRAME_TTL + timedelta(seconds=1))
    gone = client.get(frame)
    assert gone.status_code == 404 and "expired" in gone.text
    assert gone.headers["cache-control"] == "no-store"


def test_only_editors_get_a_frame(store: Store, client: TestClient) -> None:
    add_member(store, "vi@example.com", Role.VIEWER)
    vi = Browser(client)
    assert vi.login("vi@example.com").status_code == 200
    refused = vi.call("POST", "/api/workflows/welcome/preview", json={"template": "hi"})
    assert refused.status_code == 403 and "frame" not in refused.text


def test_another_server_on_the_same_database_shows_the_frame(
    store: Store, client: TestClient
) -> None:
    frame = _frame(client)
    # Behind a load balancer the iframe's request may reach any server.
    for other in served(store):
        page = other.get(frame)
        assert page.status_code == 200, page.text
        assert "color:red" in page.text


def test_the_database_keeps_the_ids_hash_never_the_id(store: Store, client: TestClient) -> None:
    frame = _frame(client)
    frame_id = frame.removeprefix("/preview-frames/")
    kept = rows(store, "SELECT id_hash, workspace_id FROM preview_frames")
    assert [tuple(r) for r in kept] == [
        (hashlib.sha256(frame_id.encode()).hexdigest(), store.workspace_id)
    ]


def test_the_limit_on_kept_frames_counts_bytes(
    store: Store, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two frames of 1,000 characters, 2,000 bytes each in UTF-8: both fit a limit of
    # 3,000 characters, not one of 3,000 bytes.
    monkeypatch.setattr(preview_frames, "MAX_FRAME_BYTES", 3000)
    first = _frame(client, "é" * 1000)
    second = _frame(client, "ü" * 1000)
    assert client.get(second).status_code == 200
    assert client.get(first).status_code == 404


def test_expired_frames_are_deleted_when_a_new_one_is_kept(
    store: Store, client: TestClient
) -> None:
    _frame(client)
    store.clock.advance(FRAME_TTL + timedelta(seconds=1))
    _frame(client)
    assert rows(store, "SELECT count(*) FROM preview_frames") == [(1,)]
