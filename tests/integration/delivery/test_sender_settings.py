"""Sender settings and recipients: a bad address is refused where it comes in, with the
field named, and an address SMTP cannot carry is dropped with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC
from tests.integration.delivery.test_email import WELCOME
from tests.integration.journeys import deploy, identify, rows, track
from tests.servers import SmtpSink
from tidings.api.app import create_app
from tidings.runtime.dispatch import Dispatcher
from tidings.storage.api_keys import KeyKind, create_key


@pytest.fixture
def admin(store: Store) -> Iterator[TestClient]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC)
    with TestClient(app, follow_redirects=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


@pytest.mark.parametrize(
    ("sender", "path"),
    [
        ({"from_email": "news@shop.example", "reply_to": "help@shop.example\n"}, "reply_to"),
        ({"from_email": "news@shop.example\r\nBcc: eve@example.com"}, "from_email"),
        ({"from_email": "news@shop.example", "from_name": "Shop\nBcc: x"}, "from_name"),
    ],
)
def test_a_sender_address_with_a_line_break_is_refused_naming_the_field(
    admin: TestClient, sender: dict[str, str], path: str
) -> None:
    answer = admin.put("/api/settings", json={"sender": sender})
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [e["path"] for e in errors] == [f"body.sender.{path}"]
    assert "line break" in errors[0]["message"]
    assert admin.get("/api/settings").json()["sender"]["from_email"] == "hello@example.com"


def test_an_internationalised_domain_is_sent_in_ascii_and_a_local_part_is_refused(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    sink, _ = smtp
    deploy(store, WELCOME)
    for user, address in (("ann", "ann@bücher.example"), ("zoe", "zoë@bücher.example")):
        identify(store, user, email=address, consent={"email": "subscribed"})
    track(store, "ann", "signed_up")
    track(store, "zoe", "signed_up")

    done = dispatcher.run_once()

    assert (done.sent, done.dropped) == (1, 1)
    [mail] = sink.received
    assert mail.rcpt_to == ["ann@xn--bcher-kva.example"]
    assert mail.message["To"] == "ann@xn--bcher-kva.example"
    [dropped] = rows(store, "SELECT last_error FROM messages WHERE status = 'dropped'")
    assert "non-ASCII characters before the @" in dropped.last_error


def test_settings_that_cannot_be_stored_are_refused_with_the_gates_reason_and_path(
    admin: TestClient,
) -> None:
    # A lone surrogate is no NUL: the answer says what is wrong, and where.
    body = '{"topics": [{"key": "news", "name": "News \\ud800"}]}'
    answer = admin.put("/api/settings", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["path"] == "body.topics[0].name"
    assert "surrogate" in error["message"] and "NUL" not in error["message"]
    assert admin.get("/api/settings").json()["topics"] == []


def test_a_request_body_that_cannot_be_stored_names_the_value_and_the_reason(
    store: Store, admin: TestClient
) -> None:
    identify(store, "ann", email="ann@example.com")
    [ann] = rows(store, "SELECT id FROM contacts")
    body = '{"channel": "email", "subject": "Confirm \\ud800"}'
    answer = admin.post(
        f"/api/contacts/{ann.id}/confirmation",
        content=body,
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    text = str(answer.json()["errors"])
    assert "subject" in text and "surrogate" in text and "NUL" not in text


@pytest.mark.parametrize("timezone", ["Nowhere/Place", "", "  "])
def test_a_workspace_timezone_that_is_not_a_zone_is_refused_naming_the_fix(
    admin: TestClient, timezone: str
) -> None:
    answer = admin.put("/api/settings", json={"policies": {"timezone": timezone}})
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert error["path"] == "body.policies.timezone"
    assert "Europe/Paris" in error["hint"]
    assert admin.get("/api/settings").json()["policies"]["timezone"] == "UTC"


def test_a_workspace_timezone_is_kept_in_its_proper_case(admin: TestClient) -> None:
    answer = admin.put("/api/settings", json={"policies": {"timezone": "europe/paris"}})
    assert answer.status_code == 200, answer.text
    assert admin.get("/api/settings").json()["policies"]["timezone"] == "Europe/Paris"
