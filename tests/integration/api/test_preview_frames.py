"""The template preview's frame: the rendered email at a URL of its own, under a policy of
its own that keeps inline styles and runs no script, opened by its id alone, for a while."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
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


def _frame(client: TestClient) -> str:
    ed = Browser(client)
    assert ed.login("ed@example.com").status_code == 200
    shown = ed.call(
        "POST",
        "/api/workflows/welcome/preview",
        json={"template": "hi", "draft": True, "source": {"subject": "Hi", "html": STYLED}},
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
