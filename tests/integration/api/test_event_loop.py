"""Slow work never runs on the event loop: while one request's work is held, others answer.

Each case holds the slow part of one route (an import, a bounce report, a workflow's
validation, a key look-up, a large body's parsing, a batch's cleaning, an inbound text's
number) until a cheap request to the same real server has been answered. Were that work on the event loop, the cheap
request could not be answered while it is held, and the hold would end by its timeout.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF
from tests.servers import free_port
from tidings.api.app import create_app
from tidings.delivery.sms import twilio_signature
from tidings.storage.api_keys import KeyKind, create_key

SMS_TOKEN = "test-token"


@dataclass
class Server:
    url: str
    write: str
    secret: str


@pytest.fixture
def server(store: Store) -> Iterator[Server]:
    with store.engine.begin() as conn:
        write = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        store.engine, clock=store.clock, catalog=store.catalog, public_url=url, sms_token=SMS_TOKEN
    )
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield Server(url, write, secret)
    instance.should_exit = True
    thread.join(timeout=10)


class Hold:
    """Wraps a function: a call signals it has begun, then waits to be released."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.entered = threading.Event()
        self.released = threading.Event()
        self.waited_out = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        # The timeout only ends the wait when the cheap request cannot be answered meanwhile,
        # which is the failure this test exists to show.
        self.waited_out = not self.released.wait(timeout=10)
        return self.real(*args, **kwargs)


def _sms(server: Server) -> dict[str, Any]:
    fields = {"From": "+12125550199", "Body": "STOP"}
    url = f"{server.url}/v1/sms/inbound/test"
    signature = twilio_signature(SMS_TOKEN, url, fields)
    return {"data": fields, "headers": {"X-Twilio-Signature": signature}}


def _large_batch() -> dict[str, Any]:
    # Some hundreds of kilobytes, under the batch limit: parsing it is real work.
    calls = [
        {"userId": f"u{i}", "event": "viewed", "properties": {"note": "x" * 1500}}
        for i in range(200)
    ]
    return {"batch": calls}


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


#: A request: method, path and httpx's keyword arguments.
MakeRequest = Callable[[Server], tuple[str, str, dict[str, Any]]]
#: (what is held, the request whose work calls it)
CASES: dict[str, tuple[str, MakeRequest]] = {
    "csv import": (
        "tidings.api.admin.contact_data.import_contacts",
        lambda s: ("POST", "/api/contacts/import", {"content": "email\na@example.com\n"}),
    ),
    "bounce report": (
        "tidings.api.admin.delivery.parse_report",
        lambda s: ("POST", "/api/bounces/dsn", {"content": "not a report"}),
    ),
    "workflow deploy": (
        "tidings.api.admin.knowledge.validate_workflow",
        lambda s: ("POST", "/api/workflows", {"content": HANDOFF}),
    ),
    "key look-up": (
        "tidings.api.keys.owner_of",
        lambda s: ("POST", "/v1/track", {"json": {"userId": "u1", "event": "x"}}),
    ),
    "batch cleaning": (
        "tidings.api.browser.read_call",
        lambda s: ("POST", "/v1/batch", {"json": {"batch": [{"userId": "u1", "event": "x"}]}}),
    ),
    "large JSON body": (
        "tidings.api.body.parse_body",
        lambda s: ("POST", "/v1/batch", {"json": _large_batch()}),
    ),
    "inbound text": (
        "tidings.api.inbound.to_e164",
        lambda s: ("POST", "/v1/sms/inbound/test", _sms(s)),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_cheap_request_is_answered_while_slow_work_is_in_progress(
    server: Server, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    target, make = CASES[case]
    module, name = target.rsplit(".", 1)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        # The cheap request's document is built once, before anything is held.
        assert http.get("/openapi.json").status_code == 200
        hold = Hold(getattr(__import__(module, fromlist=[name]), name))
        monkeypatch.setattr(target, hold)
        method, path, kwargs = make(server)
        auth = _basic(server.write) if path.startswith("/v1/") else {}
        if path.startswith("/api/"):
            auth = {"Authorization": f"Bearer {server.secret}"}
        kwargs["headers"] = {**auth, **kwargs.get("headers", {})}
        statuses: list[int] = []

        def slow() -> None:
            statuses.append(http.request(method, path, **kwargs).status_code)

        thread = threading.Thread(target=slow)
        thread.start()
        # Given the slow request's work has begun...
        assert hold.entered.wait(timeout=30), "the held function was never called"
        # ...a cheap request is answered while that work is still held...
        assert http.get("/openapi.json").status_code == 200
        hold.released.set()
        thread.join(timeout=60)
    # ...so the answer, not the hold's timeout, released it.
    assert not hold.waited_out
    assert statuses[0] < 500
