"""Webhooks, SMS and inbound texts against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC
from tests.integration.journeys import consent_of, deploy, identify, rows, track
from tests.servers import HttpSink, Request
from tidings.api.app import create_app
from tidings.delivery.netguard import NetGuard
from tidings.delivery.sms import twilio_signature
from tidings.delivery.webhooks import HttpChannel, webhook_secret
from tidings.runtime.dispatch import Dispatcher
from tidings.storage.workspaces import load_workspace


def crm_hook(url: str) -> str:
    return f"""
    id: crm
    name: CRM sync
    trigger: {{event: signed_up}}
    entry: {{reentry: always}}
    steps:
      - id: push
        type: webhook
        url: "{url}"
        headers: {{x-source: tidings}}
        body: '{{"email": "{{{{ contact.email }}}}", "plan": "{{{{ event.plan }}}}"}}'
    """


def _secret(store: Store) -> str:
    with store.engine.connect() as conn:
        record = load_workspace(conn, store.workspace_id)
    assert record is not None
    return webhook_secret(record.secret)


def _message(store: Store) -> tuple[str, str | None, int]:
    [row] = rows(store, "SELECT status, last_error, attempts FROM messages")
    return row.status, row.last_error, row.attempts


def test_webhook_is_signed_per_standard_webhooks(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    # Receivers refuse timestamps more than five minutes from their own clock.
    store.clock.set(datetime.now(UTC))
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up", plan="pro")
    assert dispatcher.run_once().sent == 1
    [call] = receiver.requests
    assert call.method == "POST" and call.path == "/crm"
    assert call.json() == {"email": "ann@example.com", "plan": "pro"}
    assert call.headers["x-source"] == "tidings"
    assert call.headers["content-type"] == "application/json"
    # The reference implementation accepts the signature...
    payload = Webhook(_secret(store)).verify(call.body, call.headers)
    assert payload == {"email": "ann@example.com", "plan": "pro"}
    # ...and refuses it for a changed body.
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(_secret(store)).verify(call.body.replace(b"pro", b"max"), call.headers)


def test_a_content_type_set_by_the_step_is_sent_once(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    hook = crm_hook(f"{receiver.url}/crm").replace(
        "headers: {x-source: tidings}", 'headers: {Content-Type: "application/vnd.crm+json"}'
    )
    deploy(store, hook)
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up", plan="pro")
    assert dispatcher.run_once().sent == 1
    [call] = receiver.requests
    # The step's own spelling of a header replaces the default, whatever its case.
    assert [v for k, v in call.lines if k == "content-type"] == ["application/vnd.crm+json"]


def test_retries_keep_the_same_webhook_id(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    answers: Iterator[tuple[int, dict[str, str], bytes]] = iter(
        [(503, {}, b"busy"), (200, {}, b"ok")]
    )
    receiver.respond = lambda _r: next(answers)
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up", plan="pro")
    assert dispatcher.run_once().retried == 1
    assert _message(store)[:2] == ("queued", "HTTP 503: busy")
    store.clock.advance(timedelta(minutes=1))
    assert dispatcher.run_once().sent == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]


def test_410_disables_the_endpoint_until_enabled_again(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    receiver.respond = lambda _r: (410, {}, b"gone")
    url = f"{receiver.url}/old"
    deploy(store, crm_hook(url))
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().failed == 1
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().dropped == 1
    assert len(receiver.requests) == 1  # nothing more was sent to it
    [dropped] = rows(store, "SELECT last_error FROM messages WHERE status = 'dropped'")
    assert "endpoint is disabled (410 Gone" in dropped.last_error


def test_redirects_are_not_followed(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    def bounce_to_metadata(request: Request) -> tuple[int, dict[str, str], bytes]:
        return 307, {"location": "http://169.254.169.254/latest/meta-data/"}, b""

    receiver.respond = bounce_to_metadata
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().failed == 1
    status, error, _ = _message(store)
    assert status == "failed" and error is not None and "redirects are not followed" in error
    assert len(receiver.requests) == 1


def test_private_addresses_are_refused_unless_allowed(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    dispatcher.transports.http = HttpChannel(NetGuard())  # no allow-list
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().failed == 1
    _status, error, _ = _message(store)
    assert error is not None and "127.0.0.1, a private, loopback or reserved address" in error
    assert receiver.requests == []


def test_a_slow_receiver_times_out_and_is_retried(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    def slow(_request: Request) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {}, b""

    receiver.respond = slow
    dispatcher.transports.http = HttpChannel(NetGuard.from_list(["127.0.0.1"]), timeout=0.5)
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    identify(store, "ann", email="ann@example.com")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().retried == 1
    assert "no answer" in (_message(store)[1] or "")
    dispatcher.transports.http.close()


# ---------------------------------------------------------------- SMS

TEXT = """
id: sms
name: SMS
trigger: {event: shipped}
templates:
  t: {text: "Your order {{ event.order }} is on its way"}
steps:
  - {id: t, type: send, channel: sms, template: t}
"""


def test_sms_goes_to_the_provider_in_e164(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    receiver.respond = lambda _r: (201, {"content-type": "application/json"}, b'{"sid": "SM42"}')
    deploy(store, TEXT)
    identify(store, "ann", phone="(415) 555-0100", consent={"sms": "subscribed"})
    track(store, "ann", "shipped", order="A1")
    assert dispatcher.run_once().sent == 1
    [call] = receiver.requests
    assert call.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert call.headers["authorization"].startswith("Basic ")
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(call.body.decode()).items()}
    assert form == {
        "To": "+14155550100",
        "From": "+15005550006",
        "Body": "Your order A1 is on its way",
    }
    [row] = rows(store, "SELECT provider_id FROM messages")
    assert row.provider_id == "SM42"


def test_sms_to_an_invalid_number_is_dropped_and_unreachable_bounces(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    deploy(store, TEXT)
    identify(store, "ann", phone="555", consent={"sms": "subscribed"})
    track(store, "ann", "shipped", order="A1")
    assert dispatcher.run_once().dropped == 1
    assert receiver.requests == []

    body = json.dumps({"code": 21614, "message": "not a mobile number"}).encode()
    receiver.respond = lambda _r: (400, {"content-type": "application/json"}, body)
    identify(store, "bob", phone="+1 212 555 0199", consent={"sms": "subscribed"})
    track(store, "bob", "shipped", order="B2")
    assert dispatcher.run_once().failed == 1
    assert consent_of(store, "bob")["sms"] == "bounced"


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(
        store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC, sms_token="tok"
    )
    with TestClient(app, follow_redirects=False) as found:
        yield found


def _sms_consent(store: Store) -> str | None:
    return consent_of(store).get("sms")


def test_inbound_stop_and_start_change_sms_consent(store: Store, client: TestClient) -> None:
    identify(store, "ann", phone="+14155550100", consent={"sms": "subscribed"})
    path = "/v1/sms/inbound/test"

    def text(body: str, signature: str | None = None) -> int:
        form = {"From": "+14155550100", "To": "+15005550006", "Body": body}
        signed = signature or twilio_signature("tok", PUBLIC + path, form)
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signed})
        return response.status_code

    assert text("stop ", signature="forged") == 403
    assert _sms_consent(store) == "subscribed"
    assert text("stop ") == 200
    assert _sms_consent(store) == "unsubscribed"
    assert text("hello") == 200  # not a keyword: nothing changes
    assert _sms_consent(store) == "unsubscribed"
    assert text("START") == 200
    assert _sms_consent(store) == "subscribed"
    names = [r.name for r in rows(store, "SELECT name FROM events ORDER BY id")]
    assert names.count("unsubscribed") == 1 and names.count("subscribed") == 1


def _signed_per_twilio(token: str, url: str, form: dict[str, str]) -> str:
    # Twilio's documented algorithm, written out here rather than calling the code under
    # test: the full URL it called, then each parameter's name and value in name order,
    # HMAC-SHA1 with the auth token, base64.
    payload = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), "sha1").digest()).decode()


def test_an_inbound_text_to_a_url_with_a_query_string_is_checked_over_the_whole_url(
    store: Store, client: TestClient
) -> None:
    # A messaging webhook set as .../inbound/test?source=twilio&n=%2B1 is signed by the
    # provider over that whole URL, the query string exactly as sent.
    identify(store, "ann", phone="+14155550100", consent={"sms": "subscribed"})
    path, query = "/v1/sms/inbound/test", "source=twilio&n=%2B1"
    form = {"From": "+14155550100", "To": "+15005550006", "Body": "STOP"}

    def text(signed_url: str) -> int:
        signature = _signed_per_twilio("tok", signed_url, form)
        response = client.post(
            f"{path}?{query}", data=form, headers={"X-Twilio-Signature": signature}
        )
        return response.status_code

    # Signed without the query string, or over a re-encoded one: not what was called.
    assert text(PUBLIC + path) == 403
    assert text(f"{PUBLIC}{path}?source=twilio&n=+1") == 403
    assert _sms_consent(store) == "subscribed"
    assert text(f"{PUBLIC}{path}?{query}") == 200
    assert _sms_consent(store) == "unsubscribed"


def test_inbound_texts_are_refused_without_a_token_to_check_them(store: Store) -> None:
    identify(store, "ann", phone="+14155550100", consent={"sms": "unsubscribed"})
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, public_url=PUBLIC)
    with TestClient(app) as client:
        response = client.post(
            "/v1/sms/inbound/test", data={"From": "+14155550100", "Body": "START"}
        )
    assert response.status_code == 403
    assert "TIDINGS_SMS_TOKEN" in response.json()["detail"]
    assert _sms_consent(store) == "unsubscribed"
