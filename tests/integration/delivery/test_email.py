"""Email end to end: a workflow's message through the dispatcher to a real SMTP server."""

from __future__ import annotations

import re
from email.message import EmailMessage

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC, configure
from tests.integration.journeys import deploy, rows, subscriber, track
from tests.servers import SmtpSink
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
    payload = (
        stored.payload
        if isinstance(stored.payload, dict)
        else __import__("json").loads(stored.payload)
    )
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
