"""Test sends: rendered, marked "[Test]", sent through the real mail server, and counted in
no figure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integration.api.people import Browser, add_member
from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, tick, track
from tests.servers import SmtpSink, smtp_server
from tidings.api.app import create_app
from tidings.delivery.results import Result
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.delivery.transports import Recorder, Transports
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.contacts import find_contact
from tidings.storage.drafts import save_draft
from tidings.storage.erasure import erase_contact
from tidings.storage.people import Role

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi:
    subject: "Welcome, {{ contact.first_name | default: 'friend' }}"
    html: '<p>Hello {{ contact.first_name }}, see <a href="https://shop.example/">the shop</a></p>'
steps:
  - {id: pause, type: wait, for: 1h}
  - {id: hi, type: send, template: hi}
"""


class Sending:
    def __init__(self, client: TestClient, secret: str, sink: SmtpSink) -> None:
        self.client, self.secret, self.sink = client, secret, sink

    def test_send(self, step: str = "hi", key: str = "welcome", **body: object) -> object:
        return self.client.post(
            f"/api/workflows/{key}/steps/{step}/test-send",
            json=body,
            headers={"Authorization": f"Bearer {self.secret}"},
        )


@pytest.fixture
def sending(store: Store) -> Iterator[Sending]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    with smtp_server() as (sink, port):
        smtp = SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"))
        transports = Transports("http://tidings.test", Recorder(), smtp=smtp)
        app = create_app(
            store.engine,
            clock=store.clock,
            catalog=store.catalog,
            transports=transports,
            test_send_rate="4/minute",
        )
        with TestClient(app, follow_redirects=False) as client:
            yield Sending(client, secret, sink)
        smtp.close()


def test_a_test_send_arrives_marked_and_untracked(store: Store, sending: Sending) -> None:
    deploy(store, WELCOME)
    subscriber(store, "ann", first_name="Ann")
    sent = sending.test_send(to="editor@example.com", contact="ann")
    assert sent.status_code == 200, sent.text  # type: ignore[attr-defined]
    assert sent.json()["subject"] == "[Test] Welcome, Ann"  # type: ignore[attr-defined]
    (arrived,) = sending.sink.received
    assert arrived.rcpt_to == ["editor@example.com"]
    message = arrived.message
    assert message["Subject"] == "[Test] Welcome, Ann"
    html = message.get_body(("html",))
    assert html is not None
    body = html.get_content()
    # The link goes where it says, with no open pixel and no unsubscribe that would act on
    # a real contact.
    assert 'href="https://shop.example/"' in body and "/t/o/" not in body
    assert message["List-Unsubscribe"] is None
    recorded = rows(store, "SELECT step_id, recipient, status, sent_by FROM test_sends")
    assert [tuple(r) for r in recorded] == [
        ("hi", "editor@example.com", "sent", sending.secret[:10])
    ]


def test_a_test_send_is_left_out_of_every_figure(store: Store, sending: Sending) -> None:
    deploy(store, WELCOME)
    subscriber(store, "ann", first_name="Ann")
    # Ann herself gets a test copy first: it must not count as her message, nor stop the
    # real one as a duplicate or against a cap.
    assert sending.test_send(to="ann@example.com", contact="ann").status_code == 200  # type: ignore[attr-defined]
    assert rows(store, "SELECT count(*) FROM messages")[0][0] == 0
    track(store, "ann", "signed_up")
    tick(store, timedelta(hours=2))
    real = rows(store, "SELECT recipient, subject FROM messages")
    assert [tuple(r) for r in real] == [("ann@example.com", "Welcome, Ann")]
    stats = sending.client.get(
        "/api/workflows/welcome/stats", headers={"Authorization": f"Bearer {sending.secret}"}
    ).json()
    hi = next(s for s in stats["steps"] if s["step_id"] == "hi")
    assert hi["entered"] == 1


def test_the_draft_and_the_edited_text_are_what_is_sent(store: Store, sending: Sending) -> None:
    deploy(store, WELCOME)
    with store.engine.begin() as conn:
        edited = WELCOME.replace("Welcome, ", "Hello again, ")
        save_draft(conn, store.workspace_id, "welcome", edited, store.clock.now(), "ed@example.com")
    assert sending.test_send(to="ed@example.com").status_code == 200  # type: ignore[attr-defined]
    typed = {"subject": "Typed {{ 1 | plus: 1 }}", "text": "Plain {{ contact.first_name }}"}
    assert sending.test_send(to="ed@example.com", source=typed).status_code == 200  # type: ignore[attr-defined]
    subjects = [r.message["Subject"] for r in sending.sink.received]
    assert subjects == ["[Test] Hello again, friend", "[Test] Typed 2"]


def test_bad_requests_are_refused_with_the_reason(store: Store, sending: Sending) -> None:
    deploy(store, WELCOME)
    wait = sending.test_send(step="pause", to="ed@example.com")
    assert wait.status_code == 400 and "not a send" in wait.json()["detail"]  # type: ignore[attr-defined]
    missing = sending.test_send(step="hello", to="ed@example.com")
    assert missing.status_code == 400 and "its send steps are hi" in missing.json()["detail"]  # type: ignore[attr-defined]
    bad_to = sending.test_send(to="not an address")
    assert bad_to.status_code == 400 and bad_to.json()["detail"].startswith("to:")  # type: ignore[attr-defined]
    nobody = sending.test_send(to="ed@example.com", contact="nobody")
    assert nobody.status_code == 404  # type: ignore[attr-defined]
    # The refusals were counted by the rate limit: the fifth call in the minute is refused.
    sending.sink.received.clear()
    limited = sending.test_send(to="ed@example.com")
    assert limited.status_code == 429 and "Retry-After" in limited.headers  # type: ignore[attr-defined]
    assert sending.sink.received == []
    assert rows(store, "SELECT count(*) FROM test_sends")[0][0] == 0


def test_only_editors_send_tests_and_each_is_audited(store: Store, sending: Sending) -> None:
    deploy(store, WELCOME)
    add_member(store, "vi@example.com", Role.VIEWER)
    add_member(store, "ed@example.com", Role.EDITOR)
    viewer = Browser(TestClient(sending.client.app))
    viewer.login("vi@example.com")
    path = "/api/workflows/welcome/steps/hi/test-send"
    assert viewer.call("POST", path, json={"to": "vi@example.com"}).status_code == 403
    editor = Browser(TestClient(sending.client.app))
    editor.login("ed@example.com")
    sent = editor.call("POST", path, json={"to": "ed@example.com"})
    assert sent.status_code == 200
    entries = editor.call("GET", "/api/audit").json()["entries"]
    (entry,) = [e for e in entries if e["action"] == "workflows.test_send"]
    assert entry["actor"] == "ed@example.com"
    # The recipient is on the test send's row (erasure deletes it), not in the trail.
    assert entry["details"]["step"] == "hi" and entry["details"]["test_send"] == sent.json()["id"]
    assert "ed@example.com" not in str(entry["details"])


def test_no_transport_no_test(store: Store) -> None:
    deploy(store, WELCOME)
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app) as client:
        refused = client.post(
            "/api/workflows/welcome/steps/hi/test-send",
            json={"to": "ed@example.com"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert refused.status_code == 409
    assert "sends nothing" in refused.json()["detail"]


def test_the_editor_previews_the_text_it_has_not_saved(store: Store, sending: Sending) -> None:
    with store.engine.begin() as conn:  # a workflow never published: only its draft
        save_draft(conn, store.workspace_id, "welcome", WELCOME, store.clock.now(), "ed")
    subscriber(store, "ann", first_name="<b>Ann</b>")
    typed = {"subject": "Hi {{ contact.first_name }}", "html": "<p>{{ contact.first_name }}</p>"}
    shown = sending.client.post(
        "/api/workflows/welcome/preview",
        json={"template": "hi", "contact": "ann", "draft": True, "source": typed},
        headers={"Authorization": f"Bearer {sending.secret}"},
    )
    assert shown.status_code == 200, shown.text
    # The subject is text; the HTML escapes the contact's markup.
    assert shown.json()["subject"] == "Hi <b>Ann</b>"
    assert shown.json()["html"] == "<p>&lt;b&gt;Ann&lt;/b&gt;</p>"
    broken = sending.client.post(
        "/api/workflows/welcome/preview",
        json={"template": "hi", "draft": True, "source": {"subject": "{% if %}"}},
        headers={"Authorization": f"Bearer {sending.secret}"},
    )
    assert broken.status_code == 400 and broken.json()["errors"][0]["path"] == "template"
    assert sending.sink.received == []


def test_a_workflow_still_being_drawn_previews_the_text_typed(
    store: Store, sending: Sending
) -> None:
    with store.engine.begin() as conn:  # a draft that does not validate yet, never published
        save_draft(
            conn, store.workspace_id, "drawing", "id: drawing\nsteps: []\n", store.clock.now(), "ed"
        )
    ask = {"template": "hi", "draft": True}
    headers = {"Authorization": f"Bearer {sending.secret}"}
    path = "/api/workflows/drawing/preview"
    typed = sending.client.post(
        path, json={**ask, "source": {"subject": "Hi {{ workflow.id }}"}}, headers=headers
    )
    assert typed.status_code == 200, typed.text
    assert typed.json()["subject"] == "Hi drawing"
    # Without the text there is nothing to render: the workflow is not found.
    assert sending.client.post(path, json=ask, headers=headers).status_code == 404


class ErasingWhileSending(SmtpChannel):
    """Erases the contact the message was rendered for while the message is on its way."""

    def __init__(self, config: SmtpConfig, store: Store, contact: str) -> None:
        super().__init__(config)
        self.store, self.contact = store, contact

    def send(self, sender: str, recipient: str, raw: bytes) -> Result:
        with self.store.engine.begin() as conn:
            found = find_contact(conn, self.store.workspace_id, self.contact)
            (row,) = conn.execute(text("SELECT * FROM contacts WHERE id = :id"), {"id": found})
            erase_contact(conn, self.store.workspace_id, row, self.store.clock.now())
        return super().send(sender, recipient, raw)


def test_a_contact_erased_while_the_test_is_sent_leaves_the_test_recorded(store: Store) -> None:
    deploy(store, WELCOME)
    subscriber(store, "ann", first_name="Ann")
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    with smtp_server() as (sink, port):
        smtp = ErasingWhileSending(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"), store, "ann")
        transports = Transports("http://tidings.test", Recorder(), smtp=smtp)
        app = create_app(
            store.engine, clock=store.clock, catalog=store.catalog, transports=transports
        )
        with TestClient(app) as client:
            sent = Sending(client, secret, sink).test_send(to="editor@example.com", contact="ann")
        smtp.close()
    assert sent.status_code == 200, sent.text  # type: ignore[attr-defined]
    assert len(sink.received) == 1
    assert rows(store, "SELECT count(*) FROM contacts") == [(0,)]
    # Recorded, so the daily limit counts it, and tied to no contact any more.
    recorded = rows(store, "SELECT recipient, status, contact_id FROM test_sends")
    assert [tuple(r) for r in recorded] == [("editor@example.com", "sent", None)]
