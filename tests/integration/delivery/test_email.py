"""Email end to end: a workflow's message through the dispatcher to a real SMTP server."""

from __future__ import annotations

import re
import ssl
from email.message import EmailMessage

import pytest
import trustme

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC, configure
from tests.integration.journeys import consent_of, deploy, rows, stored_json, subscriber, track
from tests.servers import SmtpSink
from tidings.delivery.results import Result
from tidings.runtime.dispatch import Dispatcher

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hello:
    subject: "Welcome, {{ contact.first_name | default: 'friend' }}"
    html: |
      <html><body><h1>Hi {{ contact.first_name }}</h1>
      <p>See <a href="https://shop.example/new?utm=a&amp;b=2">what is new</a>
      or <a href='https://shop.example/sale'>the sale</a>.</p></body></html>
steps:
  - {id: hello, type: send, template: hello}
"""


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_marketing_email_arrives_with_headers_parts_and_tracking(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    sink, _ = smtp
    configure(
        store,
        sender={
            "from_email": "news@shop.example",
            "from_name": "The Shop",
            "postal_address": "1 Market St, Springfield",
        },
    )
    deploy(store, WELCOME)
    subscriber(store, "ann", first_name="Ann")
    track(store, "ann", "signed_up")

    done = dispatcher.run_once()
    assert done.sent == 1

    [mail] = sink.received
    assert mail.mail_from == "news@shop.example"
    assert mail.rcpt_to == ["ann@example.com"]
    message = mail.message
    assert message["From"] == "The Shop <news@shop.example>"
    assert message["Subject"] == "Welcome, Ann"
    assert message.get_content_type() == "multipart/alternative"
    # RFC 8058 one-click unsubscribe: an HTTPS URL and the POST header.
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(rf"<{re.escape(PUBLIC)}/u/[\w.\-]+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    text, html = _parts(message)
    # Both links go through the click redirect; the originals are not in the HTML.
    assert "https://shop.example/new" not in html
    assert len(re.findall(rf'href="{re.escape(PUBLIC)}/t/c/', html)) == 1
    assert len(re.findall(rf"href='{re.escape(PUBLIC)}/t/c/", html)) == 1
    assert f'<img src="{PUBLIC}/t/o/' in html
    assert "1 Market St, Springfield" in html and "Unsubscribe" in html
    # The text part, derived from the HTML, reads as text and carries the footer.
    assert "Hi Ann" in text and "<h1>" not in text
    assert f"Unsubscribe: {PUBLIC}/u/" in text
    assert "1 Market St, Springfield" in text

    [stored] = rows(store, "SELECT status, provider_id, payload FROM messages")
    assert stored.status == "sent"
    assert stored.provider_id == message["Message-ID"]
    payload = stored_json(stored.payload)
    # The URLs the redirects may lead to, stored at send time, unescaped.
    assert payload["links"] == ["https://shop.example/new?utm=a&b=2", "https://shop.example/sale"]
    actions = [r.action for r in rows(store, "SELECT action FROM step_log ORDER BY id")]
    assert actions[-1] == "sent"


def test_transactional_email_has_no_unsubscribe_headers(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    sink, _ = smtp
    deploy(
        store,
        """
        id: receipt
        name: Receipt
        trigger: {event: order_completed}
        templates:
          r: {subject: "Your receipt", text: "Thanks for order {{ event.order_id }}."}
        steps:
          - {id: r, type: send, template: r, kind: transactional}
        """,
    )
    # No marketing consent at all: a receipt still goes.
    from tests.integration.journeys import identify

    identify(store, "bob", email="bob@example.com")
    track(store, "bob", "order_completed", order_id="A-17")
    assert dispatcher.run_once().sent == 1
    message = sink.received[0].message
    assert message["List-Unsubscribe"] is None
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Thanks for order A-17."


def _welcome_ready(store: Store, user: str = "ann") -> None:
    deploy(store, WELCOME)
    subscriber(store, user, first_name="Ann")
    track(store, user, "signed_up")


def test_dkim_signature_covers_the_unsubscribe_headers_and_verifies(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    import base64

    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    dispatcher.transports.dkim = ("mail2026", pem)
    configure(store, sender={"from_email": "news@shop.example"})
    _welcome_ready(store)
    dispatcher.run_once()

    raw = smtp[0].received[0].data
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    assert asked == [b"mail2026._domainkey.shop.example."]
    signature = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    signed = next(line for line in signature.split(b"\r\n") if line.startswith(b"DKIM-Signature"))
    headers = signed.split(b" h=", 1)[1].split(b";", 1)[0].replace(b" ", b"").lower().split(b":")
    assert b"list-unsubscribe" in headers and b"list-unsubscribe-post" in headers
    # A changed header breaks the signature.
    tampered = raw.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: nope"
    )
    assert not dkim.verify(tampered, dnsfunc=dns)


def _tls_pair() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    return server_tls, client_tls


def test_starttls_and_login_to_the_smtp_server(store: Store) -> None:
    from tests.servers import smtp_server
    from tidings.delivery.netguard import NetGuard
    from tidings.delivery.smtp import SmtpChannel, SmtpConfig
    from tidings.delivery.transports import Transports
    from tidings.delivery.webhooks import HttpChannel

    server_tls, client_tls = _tls_pair()
    with smtp_server(tls=server_tls, credentials=("shop", "s3cret")) as (sink, port):
        config = SmtpConfig.from_url(f"smtp://shop:s3cret@127.0.0.1:{port}?starttls=1")
        assert config.security == "starttls" and config.username == "shop"
        channels = Transports(PUBLIC, HttpChannel(NetGuard()), smtp=SmtpChannel(config, client_tls))
        dispatcher = Dispatcher(store.engine, store.clock, channels, store.catalog)
        _welcome_ready(store)
        assert dispatcher.run_once().sent == 1
        assert sink.received[0].rcpt_to == ["ann@example.com"]

        # The wrong password is a failure to retry (the settings may be fixed), not a bounce.
        wrong = SmtpChannel(
            SmtpConfig.from_url(f"smtp://shop:nope@127.0.0.1:{port}?starttls=1"), client_tls
        )
        result = wrong.send("news@shop.example", "x@example.com", b"Subject: x\r\n\r\nx\r\n")
        assert not getattr(result, "permanent", True) and "refused the login" in getattr(
            result, "error", ""
        )
        channels.close()


def test_rejected_recipient_is_a_hard_bounce_that_suppresses_the_address(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    sink, _ = smtp
    sink.reject["ann@example.com"] = "550 5.1.1 <ann@example.com>: no such user"
    _welcome_ready(store)
    done = dispatcher.run_once()
    assert done.failed == 1 and done.sent == 0
    [message] = rows(store, "SELECT status, last_error FROM messages")
    assert message.status == "failed" and "550" in message.last_error
    assert consent_of(store)["email"] == "bounced"
    names = [r.name for r in rows(store, "SELECT name FROM events ORDER BY id")]
    assert "message_bounced" in names
    from tidings.storage.suppressions import suppressed

    with store.engine.connect() as conn:
        assert suppressed(conn, store.workspace_id, [("email", "ANN@example.com ")])


def test_temporary_failure_retries_with_backoff_then_dead_letters(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    from datetime import timedelta

    sink, _ = smtp
    sink.reject["ann@example.com"] = "451 4.7.1 try again later"
    dispatcher.max_attempts = 3
    _welcome_ready(store)
    assert dispatcher.run_once().retried == 1
    [first] = rows(store, "SELECT status, send_after, attempts, last_error FROM messages")
    assert first.status == "queued" and first.attempts == 1 and "451" in first.last_error
    # jitter=1.0 in the fixture: the first retry waits the whole base delay.
    assert dispatcher.run_once().claimed == 0  # not due yet
    store.clock.advance(timedelta(seconds=30))
    assert dispatcher.run_once().retried == 1
    store.clock.advance(timedelta(seconds=59))
    assert dispatcher.run_once().claimed == 0  # the second wait is twice as long
    store.clock.advance(timedelta(seconds=1))
    assert dispatcher.run_once().failed == 1
    [last] = rows(store, "SELECT status, attempts, last_error FROM messages")
    assert last.status == "failed" and last.attempts == 3
    assert last.last_error.startswith("gave up after 3 attempts")
    actions = [
        r.action
        for r in rows(
            store, "SELECT action FROM step_log WHERE action IN ('retrying', 'failed') ORDER BY id"
        )
    ]
    assert actions == ["retrying", "retrying", "failed"]
    assert not sink.received


def test_a_channel_that_raises_is_a_failure_to_retry_not_a_lost_round(
    store: Store, dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    class Broken:
        def send(self, sender: str, recipient: str, raw: bytes) -> Result:
            raise RuntimeError("boom")

        def close(self) -> None:
            pass

    caplog.set_level(logging.DEBUG, logger="tidings")
    dispatcher.transports.smtp = Broken()
    _welcome_ready(store)
    assert dispatcher.run_once().retried == 1
    [message] = rows(store, "SELECT status, last_error FROM messages")
    assert message.status == "queued"
    assert message.last_error == "internal error while sending: RuntimeError('boom')"
    assert "channel failed" in caplog.text


def test_implicit_tls_smtps(store: Store) -> None:
    from aiosmtpd.controller import Controller

    from tests.servers import SmtpSink, free_port
    from tidings.delivery.netguard import NetGuard
    from tidings.delivery.smtp import SmtpChannel, SmtpConfig
    from tidings.delivery.transports import Transports
    from tidings.delivery.webhooks import HttpChannel

    server_tls, client_tls = _tls_pair()
    sink, port = SmtpSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    controller.start()
    try:
        config = SmtpConfig.from_url(f"smtps://127.0.0.1:{port}")
        assert config.security == "tls"
        channels = Transports(PUBLIC, HttpChannel(NetGuard()), smtp=SmtpChannel(config, client_tls))
        dispatcher = Dispatcher(store.engine, store.clock, channels, store.catalog)
        _welcome_ready(store)
        assert dispatcher.run_once().sent == 1
        assert sink.received[0].rcpt_to == ["ann@example.com"]
        dispatcher.close()
    finally:
        controller.stop()


def test_internal_alert_by_email_is_plain_and_untracked(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    deploy(
        store,
        """
        id: hot
        name: Hot lead
        trigger: {event: demo_requested}
        steps:
          - {id: tell, type: notify, channel: email, to: rep@shop.example, message: "Call {{ contact.email }} today"}
        """,
    )
    subscriber(store, "ann")
    track(store, "ann", "demo_requested")
    assert dispatcher.run_once().sent == 1
    [mail] = smtp[0].received
    assert mail.rcpt_to == ["rep@shop.example"]
    message = mail.message
    assert message["Subject"] == "Tidings alert: Call ann@example.com today"
    assert message["List-Unsubscribe"] is None
    assert message.get_content().strip() == "Call ann@example.com today"


def test_an_address_that_would_add_recipients_is_dropped(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    from tests.integration.journeys import identify

    deploy(store, WELCOME)
    identify(
        store, "eve", email="eve@example.com>, victim@example.com", consent={"email": "subscribed"}
    )
    track(store, "eve", "signed_up")
    assert dispatcher.run_once().dropped == 1
    [message] = rows(store, "SELECT status, last_error FROM messages")
    assert message.status == "dropped" and "is not a valid email address" in message.last_error
    assert smtp[0].received == []
