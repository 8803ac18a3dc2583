"""The preference center records only what the person changed: no withdrawal of consent
nobody gave, no subscription without the double opt-in; and a confirmation says on the
timeline which held messages it does not bring back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC
from tests.integration.delivery.test_email import WELCOME
from tests.integration.journeys import consent_of, deploy, identify, rows, stored_json, track
from tidings.api.app import create_app
from tidings.api.links import confirmation_token
from tidings.delivery.tokens import Purpose, make_token
from tidings.runtime.engagement import set_consent
from tidings.storage import step_log
from tidings.storage.suppressions import SuppressionReason, suppress, suppressed
from tidings.storage.workspaces import load_workspace, save_settings


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC)
    with TestClient(app, follow_redirects=False) as found:
        yield found


def contact_id(store: Store, user: str) -> int:
    [row] = rows(store, "SELECT id FROM contacts WHERE external_id = :u", u=user)
    return int(row.id)


def secret(store: Store) -> str:
    with store.engine.connect() as conn:
        record = load_workspace(conn, store.workspace_id)
    assert record is not None
    return str(record.secret)


def preferences(store: Store, user: str) -> str:
    token = make_token(
        store.workspace_id, secret(store), Purpose.PREFERENCES, contact_id(store, user)
    )
    return f"/p/{token}"


def pending(store: Store, user: str) -> None:
    identify(store, user, email=f"{user}@example.com")
    found = contact_id(store, user)
    with store.engine.begin() as conn:
        set_consent(conn, found, {"email": "pending"}, store.clock.now())


def consent_events(store: Store) -> list[str]:
    found = rows(
        store, "SELECT name FROM events WHERE name IN ('subscribed', 'unsubscribed') ORDER BY id"
    )
    return [r.name for r in found]


def test_saving_without_ticking_withdraws_no_consent_never_given(
    store: Store, client: TestClient
) -> None:
    identify(store, "cy", email="cy@example.com")  # never opted in

    saved = client.post(preferences(store, "cy"), data={})

    assert saved.status_code == 200 and "Saved." in saved.text
    assert consent_of(store, "cy") == {}  # no withdrawal on file to block transactional mail
    assert consent_events(store) == []


def test_unticking_a_given_consent_still_withdraws_it(store: Store, client: TestClient) -> None:
    identify(store, "ann", email="ann@example.com", consent={"email": "subscribed"})

    client.post(preferences(store, "ann"), data={})

    assert consent_of(store, "ann") == {"email": "unsubscribed"}
    assert consent_events(store) == ["unsubscribed"]


def test_ticking_while_pending_double_opt_in_keeps_it_pending(
    store: Store, client: TestClient
) -> None:
    pending(store, "dee")

    saved = client.post(preferences(store, "dee"), data={"email": "on"})

    assert consent_of(store, "dee") == {"email": "pending"}
    assert consent_events(store) == []
    assert "waiting for you to confirm" in saved.text


def test_a_confirmation_says_which_held_messages_stay_unsent(
    store: Store, client: TestClient
) -> None:
    deploy(store, WELCOME)
    pending(store, "eve")
    track(store, "eve", "signed_up")  # the welcome is held: no consent yet
    token = confirmation_token(store.workspace_id, secret(store), contact_id(store, "eve"), "email")

    assert client.post(f"/confirm/{token}").status_code == 200

    assert consent_of(store, "eve") == {"email": "subscribed"}
    [line] = rows(store, "SELECT detail FROM step_log WHERE action = 'held_unsent'")
    assert line.detail == (
        "email consent given (double opt-in); 1 marketing message(s) held before it for want"
        " of consent stay unsent (welcome/hello): a held send is never sent later"
    )


def test_held_for_consent_is_found_by_the_lines_data_not_their_wording(store: Store) -> None:
    # Given a held send recorded by a journey, and two held lines written by hand: one whose
    # reason is worded differently but whose data says consent, one with the old wording
    # for another rule.
    deploy(store, WELCOME)
    pending(store, "fay")
    track(store, "fay", "signed_up")
    fay = contact_id(store, "fay")
    [journey] = rows(store, "SELECT data FROM step_log WHERE action = 'held'")
    data = json.loads(journey.data) if isinstance(journey.data, str) else journey.data
    assert data == {"rule": "consent", "channel": "email"}
    now = store.clock.now()
    reworded = step_log.line(
        store.workspace_id,
        fay,
        "held",
        "waiting for an opt-in",
        now,
        data={"rule": "consent", "channel": "email"},
        step_id="reworded",
    )
    other = step_log.line(
        store.workspace_id,
        fay,
        "held",
        "no email marketing consent (status: pending)",
        now,
        data={"rule": "topic", "channel": "email"},
        step_id="other",
    )
    texts = step_log.line(
        store.workspace_id,
        fay,
        "held",
        "no sms marketing consent",
        now,
        data={"rule": "consent", "channel": "sms"},
        step_id="texts",
    )
    with store.engine.begin() as conn:
        step_log.append_lines(conn, [reworded, other, texts])

    # When the email consent is looked for, then the data decides.
    with store.engine.connect() as conn:
        held = step_log.held_for_consent(conn, fay, "email")

    assert held == [("welcome", "hello"), ("?", "reworded")]


def _double_opt_in(store: Store) -> None:
    with store.engine.begin() as conn:
        save_settings(conn, store.workspace_id, {"double_opt_in": True})


def test_ticking_email_under_double_opt_in_asks_for_a_confirmation(
    store: Store, client: TestClient
) -> None:
    _double_opt_in(store)
    identify(store, "gus", email="gus@example.com")  # never opted in

    saved = client.post(preferences(store, "gus"), data={"email": "on"})

    assert consent_of(store, "gus") == {"email": "pending"}
    assert consent_events(store) == []
    assert "waiting for you to confirm" in saved.text
    [sent] = rows(store, "SELECT recipient, kind, body_html FROM messages")
    assert (sent.recipient, sent.kind) == ("gus@example.com", "transactional")
    assert f"{PUBLIC}/confirm/" in sent.body_html


def test_ticking_email_after_a_bounce_keeps_it_bounced(store: Store, client: TestClient) -> None:
    identify(store, "hal", email="hal@example.com", consent={"email": "bounced"})

    client.post(preferences(store, "hal"), data={"email": "on"})

    assert consent_of(store, "hal") == {"email": "bounced"}
    assert consent_events(store) == []


def test_ticking_email_after_a_complaint_is_fresh_consent_and_lifts_the_complaint(
    store: Store, client: TestClient
) -> None:
    identify(store, "ida", email="ida@example.com", consent={"email": "complained"})
    with store.engine.begin() as conn:
        suppress(
            conn,
            store.workspace_id,
            [("email", "ida@example.com")],
            SuppressionReason.COMPLAINT,
            store.clock.now(),
        )

    client.post(preferences(store, "ida"), data={"email": "on"})

    assert consent_of(store, "ida") == {"email": "subscribed"}
    [event] = rows(store, "SELECT properties FROM events WHERE name = 'subscribed'")
    properties = stored_json(event.properties)
    assert properties["source"] == "preference center, after a complaint"
    with store.engine.connect() as conn:
        assert suppressed(conn, store.workspace_id, [("email", "ida@example.com")]) == {}


def test_ticking_sms_from_an_email_link_does_not_subscribe_the_phone(
    store: Store, client: TestClient
) -> None:
    identify(store, "jo", email="jo@example.com", phone="+14155550111")

    saved = client.post(preferences(store, "jo"), data={"sms": "on"})

    assert consent_of(store, "jo") == {}
    assert "text START" in saved.text
