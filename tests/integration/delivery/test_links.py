"""The links in a sent email, followed over HTTP: open pixel, clicks, unsubscribe,
preferences and double opt-in; forged and tampered tokens refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC, configure
from tests.integration.delivery.test_email import WELCOME
from tests.integration.journeys import (
    consent_of,
    deploy,
    identify,
    rows,
    stored_json,
    subscriber,
    track,
)
from tests.servers import SmtpSink
from tidings.api.app import create_app
from tidings.delivery.tokens import Purpose, make_token
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.segments import define_segment
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.tables import events


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC)
    with TestClient(app, follow_redirects=False) as found:
        yield found


def _sent_links(store: Store, dispatcher: Dispatcher, sink: SmtpSink) -> dict[str, Any]:
    deploy(store, WELCOME)
    subscriber(store, "ann", first_name="Ann", phone="+14155550100")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().sent == 1
    message = sink.received[-1].message
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()

    def path(url: str) -> str:
        return url.removeprefix(PUBLIC)

    return {
        "clicks": [
            path(u) for u in re.findall(rf"""href=["']({re.escape(PUBLIC)}/t/c/[^"']+)""", html)
        ],
        "open": path(re.findall(rf'src="({re.escape(PUBLIC)}/t/o/[^"]+)"', html)[0]),
        "unsubscribe": path(message["List-Unsubscribe"].strip("<>")),
        "preferences": path(re.findall(rf'href="({re.escape(PUBLIC)}/p/[^"]+)"', html)[0]),
    }


def _swap(token: str, at: int) -> str:
    """The token with the character at `at` replaced by another."""
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def _event_names(store: Store) -> list[str]:
    return [r.name for r in rows(store, "SELECT name FROM events ORDER BY id")]


def _consent(store: Store) -> dict[str, str]:
    return consent_of(store)


def test_open_pixel_records_one_open_event(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    links = _sent_links(store, dispatcher, smtp[0])
    for _ in range(3):
        response = client.get(links["open"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert "set-cookie" not in response.headers
    assert _event_names(store).count("email_opened") == 1
    [message] = rows(store, "SELECT opened_at FROM messages")
    assert message.opened_at is not None


def test_engagement_events_name_the_workflow_by_key_and_by_number(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    # Segments and scoring rules written against `workflow_id` keep matching new events.
    links = _sent_links(store, dispatcher, smtp[0])
    client.get(links["open"])
    client.get(links["clicks"][0])
    [welcome] = rows(store, "SELECT id, key FROM workflows")
    with store.engine.connect() as conn:
        found = conn.execute(
            select(events.c.name, events.c.properties).where(
                events.c.name.in_(["email_opened", "email_clicked"])
            )
        ).all()
    assert sorted(name for name, _ in found) == ["email_clicked", "email_opened"]
    for _, properties in found:
        assert (properties["workflow"], properties["workflow_id"]) == (welcome.key, welcome.id)
    # A segment written against the number, before the key was there, still finds Ann.
    by_number = f"performed email_clicked where event.workflow_id == {welcome.id} within 90d"
    by_key = f'performed email_clicked where event.workflow == "{welcome.key}" within 90d'
    for key, condition in (("by_number", by_number), ("by_key", by_key)):
        made = define_segment(
            store.engine, store.workspace_id, key, key, condition, store.clock.now()
        )
        assert made.size == 1, condition


def test_click_redirects_only_to_the_stored_url_and_counts(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    links = _sent_links(store, dispatcher, smtp[0])
    first, second = links["clicks"]
    response = client.get(first)
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example/new?utm=a&b=2"
    assert client.get(second).headers["location"] == "https://shop.example/sale"
    names = _event_names(store)
    assert names.count("email_clicked") == 2
    assert names.count("email_opened") == 1  # a click is an open too
    [event] = rows(
        store, "SELECT properties FROM events WHERE name = 'email_clicked' ORDER BY id LIMIT 1"
    )
    properties = stored_json(event.properties)
    assert properties["url"] == "https://shop.example/new?utm=a&b=2"
    assert properties["step"] == "hello"


def test_forged_and_tampered_tokens_lead_nowhere(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    links = _sent_links(store, dispatcher, smtp[0])
    token = links["clicks"][0].removeprefix("/t/c/")
    workspace, signed = token.split(".", 1)
    [message] = rows(store, "SELECT id FROM messages")
    forged = [
        # A link index the message does not have, signed with a guessed secret.
        make_token(int(workspace), "guessed-secret", Purpose.CLICK, message.id, 7),
        # The right payload for another purpose: an unsubscribe token is no click token.
        links["unsubscribe"].removeprefix("/u/"),
        # One character changed in the signature (not its last, whose low bits are padding
        # that base64 ignores), and one in the payload.
        _swap(token, token.rindex(".") + 1),
        f"{workspace}.{signed[1:]}",
        # Another workspace's number on this workspace's token.
        f"{int(workspace) + 1}.{signed}",
        "not-a-token",
        f"{workspace}.https%3A%2F%2Fevil.example",
    ]
    for bad in forged:
        response = client.get(f"/t/c/{bad}")
        assert response.status_code == 404, bad
        assert "location" not in response.headers
    # Even a validly signed token can only name a stored link, never a URL.
    with store.engine.connect() as conn:
        from tidings.storage.workspaces import load_workspace

        record = load_workspace(conn, store.workspace_id)
    assert record is not None
    beyond = make_token(store.workspace_id, record.secret, Purpose.CLICK, message.id, 5)
    assert client.get(f"/t/c/{beyond}").status_code == 404
    assert "email_clicked" not in _event_names(store)
    # The pixel stays a pixel for a bad token, and records nothing.
    assert client.get("/t/o/1.forged").headers["content-type"] == "image/gif"
    assert "email_opened" not in _event_names(store)


def test_unsubscribe_get_only_asks_post_unsubscribes(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    links = _sent_links(store, dispatcher, smtp[0])
    page = client.get(links["unsubscribe"])
    assert page.status_code == 200 and '<form method="post">' in page.text
    assert _consent(store)["email"] == "subscribed"  # a link scanner changed nothing

    # What a mailbox provider sends for RFC 8058 one-click: a POST with no cookie.
    done = client.post(links["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "location" not in done.headers and "set-cookie" not in done.headers
    assert "no longer receive marketing email" in done.text
    assert _consent(store)["email"] == "unsubscribed"
    assert _event_names(store).count("unsubscribed") == 1
    # A second POST is harmless.
    assert client.post(links["unsubscribe"]).status_code == 200
    assert _event_names(store).count("unsubscribed") == 1
    # Nothing more goes out to the address, from any workflow.
    deploy(
        store,
        """
        id: tips
        name: Tips
        trigger: {event: browsed}
        templates:
          t: {subject: "Tips", html: "<p>tips</p>"}
        steps:
          - {id: t, type: send, template: t}
        """,
    )
    track(store, "ann", "browsed")
    dispatcher.run_once()
    assert len(smtp[0].received) == 1
    held = rows(store, "SELECT detail FROM step_log WHERE action = 'held'")
    assert [h.detail for h in held] == ["no email marketing consent (status: unsubscribed)"]
    assert client.post("/u/1.forged").status_code == 404


def test_unsubscribe_from_a_topic_keeps_the_rest(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    deploy(
        store,
        """
        id: offers
        name: Offers
        trigger: {event: browsed}
        templates:
          o: {subject: "Deal", html: "<p>deal</p>"}
        steps:
          - {id: o, type: send, template: o, topic: offers}
        """,
    )
    subscriber(store, "ann")
    track(store, "ann", "browsed")
    dispatcher.run_once()
    url = smtp[0].received[0].message["List-Unsubscribe"].strip("<>").removeprefix(PUBLIC)
    assert "the topic offers" in client.post(url).text
    consent = _consent(store)
    assert consent["topic:offers"] == "unsubscribed" and consent["email"] == "subscribed"


def test_preference_center_switches_channels_and_topics(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    configure(
        store,
        topics=[
            {"key": "news", "name": "Product news"},
            {"key": "offers", "name": "Offers & deals"},
        ],
    )
    links = _sent_links(store, dispatcher, smtp[0])
    page = client.get(links["preferences"])
    assert page.status_code == 200
    assert "Offers &amp; deals" in page.text  # escaped
    assert 'name="email" value=on checked' in page.text
    assert 'name="sms" value=on>' in page.text  # phone known, no SMS consent yet
    saved = client.post(links["preferences"], data={"sms": "on", "topic:news": "on"})
    assert saved.status_code == 200 and "Saved." in saved.text
    consent = _consent(store)
    assert consent["email"] == "unsubscribed"
    # A link in an email does not prove the phone is theirs: texts start with START.
    assert "sms" not in consent and "text START" in saved.text
    # news was on and stays on (nothing to record); offers was switched off.
    assert "topic:news" not in consent and consent["topic:offers"] == "unsubscribed"
    names = _event_names(store)
    assert names.count("subscribed") == 0 and names.count("unsubscribed") == 2
    assert client.get("/p/1.forged").status_code == 404


def test_double_opt_in_sends_a_link_that_confirms_on_post(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    identify(store, "cy", email="cy@example.com")
    [contact] = rows(store, "SELECT id FROM contacts")
    asked = client.post(
        f"/api/contacts/{contact.id}/confirmation",
        json={"channel": "email"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    assert _consent(store)["email"] == "pending"
    assert dispatcher.run_once().sent == 1  # transactional: no marketing consent needed
    message = smtp[0].received[0].message
    assert message["List-Unsubscribe"] is None
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    [link] = re.findall(rf'href="{re.escape(PUBLIC)}(/confirm/[^"]+)"', html_part.get_content())
    assert client.get(link).status_code == 200
    assert _consent(store)["email"] == "pending"
    assert client.post(link).status_code == 200
    assert _consent(store)["email"] == "subscribed"
    assert "subscribed" in _event_names(store)
    assert client.post(link[:-2] + "xx").status_code == 404


def test_a_workflow_branches_on_the_open(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    deploy(
        store,
        """
        id: nudge
        name: Nudge
        trigger: {event: signed_up}
        templates:
          hi: {subject: "Hi", html: "<p>hi</p>"}
          thanks: {subject: "Glad you read it", text: "thanks"}
          again: {subject: "Did you see?", text: "again"}
        steps:
          - {id: hi, type: send, template: hi}
          - id: seen
            type: wait
            event: email_opened
            # The workflow is named by its key, as people know it.
            where: event.workflow == "nudge" and event.step == "hi"
            timeout: 2d
            on_event: thanks
            on_timeout: again
          - {id: thanks, type: send, template: thanks, next: done}
          - {id: again, type: send, template: again}
          - {id: done, type: exit}
        """,
    )
    subscriber(store, "ann")
    subscriber(store, "bob")
    track(store, "ann", "signed_up")
    track(store, "bob", "signed_up")
    assert dispatcher.run_once().sent == 2
    ann = next(m for m in smtp[0].received if m.rcpt_to == ["ann@example.com"]).message
    html_part = ann.get_body(preferencelist=("html",))
    assert html_part is not None
    [pixel] = re.findall(rf'src="{re.escape(PUBLIC)}(/t/o/[^"]+)"', html_part.get_content())
    client.get(pixel)  # Ann opens; Bob does not
    from datetime import timedelta

    from tests.integration.journeys import tick

    tick(store, timedelta(days=2))
    subjects = [
        r.subject
        for r in rows(
            store,
            "SELECT m.subject FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE c.external_id = 'ann' ORDER BY m.id",
        )
    ]
    assert subjects == ["Hi", "Glad you read it"]
    subjects = [
        r.subject
        for r in rows(
            store,
            "SELECT m.subject FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE c.external_id = 'bob' ORDER BY m.id",
        )
    ]
    assert subjects == ["Hi", "Did you see?"]


def test_settings_round_trip_and_bad_settings_name_the_field(
    store: Store, client: TestClient
) -> None:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    auth = {"Authorization": f"Bearer {secret}"}
    current = client.get("/api/settings", headers=auth).json()
    assert "webhook_secret" not in current  # see test_settings_round_trip_unchanged
    assert current["policies"]["caps"] == []
    wanted = {
        "sender": {"from_email": "news@shop.example", "postal_address": "1 Main St"},
        "policies": {
            "caps": [{"limit": 2, "per": "1w"}],
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
        "topics": [{"key": "offers", "name": "Offers"}],
    }
    saved = client.put("/api/settings", json=wanted, headers=auth)
    assert saved.status_code == 200, saved.text
    assert saved.json()["policies"]["quiet_hours"] == {
        "start": "22:00",
        "end": "07:00",
        "channels": ["email", "sms"],
    }
    bad = client.put(
        "/api/settings",
        json={
            "sender": {"from_email": "not an address"},
            "policies": {"caps": [{"limit": 0, "per": "soon"}]},
        },
        headers=auth,
    )
    assert bad.status_code == 400
    paths = {e["path"] for e in bad.json()["errors"]}
    assert {
        "body.sender.from_email",
        "body.policies.caps.0.limit",
        "body.policies.caps.0.per",
    } <= paths
    assert (
        client.get("/api/settings", headers=auth).json()["sender"]["from_email"]
        == "news@shop.example"
    )


def test_past_the_link_rate_a_click_still_leads_to_its_page_and_a_pixel_still_loads(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    # Given: one address (a shared proxy, a mail provider's image proxy) past its link rate
    app = create_app(
        store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC, link_rate="1/day"
    )
    links = _sent_links(store, dispatcher, smtp[0])
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/t/o/forged").status_code == 200  # the one hit of the day
        # When: a person opens the message and clicks its link
        pixel = client.get(links["open"])
        clicked = client.get(links["clicks"][0])
        # Then: the image and the landing page, not a 429; nothing recorded
        assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
        assert clicked.status_code == 302
        assert clicked.headers["location"] == "https://shop.example/new?utm=a&b=2"
        assert _event_names(store).count("email_opened") == 0
        assert _event_names(store).count("email_clicked") == 0
        [message] = rows(store, "SELECT opened_at, clicked_at FROM messages")
        assert (message.opened_at, message.clicked_at) == (None, None)
        # while a change of consent is refused until later
        refused = client.post(links["unsubscribe"])
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert _consent(store)["email"] == "subscribed"
