"""Forged link tokens on the public routes: a 404, never a 500, and never a look-alike.

A token is canonical: the only text that opens a link is the one the message carried.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC
from tests.integration.delivery.test_links import _event_names, _sent_links
from tests.servers import SmtpSink
from tidings.api.app import create_app
from tidings.runtime.dispatch import Dispatcher

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC)
    with TestClient(app, follow_redirects=False) as found:
        yield found


def _same_signature_bytes(token: str) -> list[str]:
    """Tokens whose last base64 character differs but decodes to the same signature:
    base64's spare low bits, which the signature check never sees."""
    head, signature = token.rsplit(".", 1)

    def raw(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    return [
        f"{head}.{signature[:-1]}{char}"
        for char in URLSAFE
        if char != signature[-1] and raw(signature[:-1] + char) == raw(signature)
    ]


def _forged_ids(token: str) -> list[str]:
    workspace, signed = token.split(".", 1)
    return [
        f"0{workspace}.{signed}",  # a leading zero
        f"{chr(0xFF10 + int(workspace))}.{signed}",  # a full-width digit
        f"\u00b2.{signed}",  # a superscript two: a digit to str.isdigit, not to int
        f"{'9' * 60}.{signed}",  # past any 64-bit id
    ]


def test_forged_workspace_ids_answer_404_on_every_public_route(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    links = _sent_links(store, dispatcher, smtp[0])
    for route in ("clicks", "unsubscribe", "preferences"):
        real = links[route][0] if route == "clicks" else links[route]
        prefix, token = real.rsplit("/", 1)
        for forged in _forged_ids(token):
            response = client.get(f"{prefix}/{forged}")
            assert response.status_code == 404, (route, forged, response.status_code)
    for forged in _forged_ids("1.x"):
        assert client.get(f"/confirm/{forged}").status_code == 404, forged
        pixel = client.get(f"/t/o/{forged}")
        assert pixel.headers["content-type"] == "image/gif"
    assert "email_clicked" not in _event_names(store)
    assert "email_opened" not in _event_names(store)


def test_a_re_encoded_click_token_leads_nowhere(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    links = _sent_links(store, dispatcher, smtp[0])
    token = links["clicks"][0].removeprefix("/t/c/")
    look_alikes = _same_signature_bytes(token)
    assert look_alikes  # a 20-byte signature leaves two spare bits: three look-alikes
    for forged in look_alikes:
        response = client.get(f"/t/c/{forged}")
        assert response.status_code == 404, forged
        assert "location" not in response.headers
    assert "email_clicked" not in _event_names(store)
    # The real token still works.
    assert client.get(f"/t/c/{token}").status_code in (302, 303, 307)
