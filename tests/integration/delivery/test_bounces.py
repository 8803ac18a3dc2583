"""Bounces and complaints: through the API as JSON, and as delivery status (RFC 3464) and
abuse (ARF) messages parsed from their raw bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.delivery.test_email import WELCOME
from tests.integration.journeys import consent_of, deploy, rows, stored_json, subscriber, track
from tests.servers import SmtpSink
from tidings.api.app import create_app
from tidings.runtime.dispatch import Dispatcher
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.suppressions import suppressed


@pytest.fixture
def admin(store: Store) -> Iterator[TestClient]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield client


def dsn(recipient: str, status: str, action: str, message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example\r\n"
        "To: news@shop.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n"
        "Arrival-Date: Mon, 2 Mar 2026 12:00:05 +0000\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} mailbox problem\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: news@shop.example\r\nTo: {recipient}\r\nMessage-ID: {message_id}\r\n"
        "Subject: Welcome\r\n\r\n--B--\r\n"
    ).encode()


def arf(recipient: str, message_id: str) -> bytes:
    return (
        "From: fbl@isp.example\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        "--F\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n"
        "--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        "Feedback-Type: abuse\r\nUser-Agent: isp-fbl/1.0\r\nVersion: 1\r\n"
        f"Original-Rcpt-To: {recipient}\r\n\r\n"
        "--F\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: news@shop.example\r\nTo: {recipient}\r\nMessage-ID: {message_id}\r\n"
        "Subject: Welcome\r\n\r\nhello\r\n--F--\r\n"
    ).encode()


def _sent(store: Store, dispatcher: Dispatcher) -> str:
    deploy(store, WELCOME)
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().sent == 1
    [row] = rows(store, "SELECT provider_id FROM messages")
    return str(row.provider_id)


def _consent(store: Store) -> dict[str, str]:
    return consent_of(store)


def _is_suppressed(store: Store, address: str) -> bool:
    with store.engine.connect() as conn:
        return bool(suppressed(conn, store.workspace_id, [("email", address)]))


def test_hard_bounce_report_suppresses_and_names_the_message(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], admin: TestClient
) -> None:
    message_id = _sent(store, dispatcher)
    response = admin.post(
        "/api/bounces/dsn", content=dsn("ann@example.com", "5.1.1", "failed", message_id)
    )
    assert response.status_code == 200, response.text
    [result] = response.json()
    assert result["type"] == "hard" and result["suppressed"] is True
    assert _consent(store)["email"] == "bounced"
    assert _is_suppressed(store, "ann@example.com")
    [event] = rows(store, "SELECT properties FROM events WHERE name = 'message_bounced'")
    properties = stored_json(event.properties)
    assert properties["type"] == "hard" and properties["step"] == "hello"
    assert "5.1.1" in properties["reason"]


def test_soft_bounce_is_recorded_but_suppresses_nothing(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], admin: TestClient
) -> None:
    message_id = _sent(store, dispatcher)
    response = admin.post(
        "/api/bounces/dsn", content=dsn("ann@example.com", "4.2.2", "delayed", message_id)
    )
    assert response.json()[0]["type"] == "soft"
    assert _consent(store)["email"] == "subscribed"
    assert not _is_suppressed(store, "ann@example.com")
    assert rows(store, "SELECT count(*) AS n FROM events WHERE name = 'message_bounced'")[0].n == 1


def test_complaint_report_suppresses_and_marks_consent(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], admin: TestClient
) -> None:
    message_id = _sent(store, dispatcher)
    response = admin.post("/api/bounces/dsn", content=arf("ann@example.com", message_id))
    assert response.json()[0]["type"] == "complaint"
    assert _consent(store)["email"] == "complained"
    assert _is_suppressed(store, "ann@example.com")
    assert (
        rows(store, "SELECT count(*) AS n FROM events WHERE name = 'message_complained'")[0].n == 1
    )


def test_bounce_as_json_for_an_unknown_address_still_suppresses(
    store: Store, admin: TestClient
) -> None:
    response = admin.post("/api/bounces", json={"address": "ghost@example.com", "type": "hard"})
    assert response.status_code == 200
    assert response.json()["contacts"] == []
    assert _is_suppressed(store, "ghost@example.com")
    removed = admin.delete("/api/suppressions", params={"address": "ghost@example.com"})
    assert removed.status_code == 204
    assert not _is_suppressed(store, "ghost@example.com")


def test_a_message_that_is_not_a_report_is_refused(store: Store, admin: TestClient) -> None:
    response = admin.post("/api/bounces/dsn", content=b"Subject: hi\r\n\r\nhello\r\n")
    assert response.status_code == 422
    assert "multipart/report" in response.json()["detail"]
    bad_type = admin.post("/api/bounces", json={"address": "a@example.com", "type": "bouncy"})
    assert bad_type.status_code == 400
    assert bad_type.json()["errors"][0]["path"] == "body.type"


def test_suppression_list_by_hand(store: Store, admin: TestClient) -> None:
    added = admin.post(
        "/api/suppressions", json={"address": "Ann@Example.com", "reason": "asked by phone"}
    )
    assert added.status_code == 201
    check = admin.get("/api/suppressions/check", params={"address": "ann@example.com"}).json()
    # The note is not kept: it could name the person; the list keeps a code.
    assert check == {"address": "ann@example.com", "suppressed": True, "reason": "manual"}
    other = admin.get("/api/suppressions/check", params={"address": "bob@example.com"}).json()
    assert other["suppressed"] is False
    assert (
        admin.delete("/api/suppressions", params={"address": "bob@example.com"}).status_code == 404
    )
