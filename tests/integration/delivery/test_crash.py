"""A worker that stops mid-send: the message is sent again once its lease runs out, and
the possible duplicate is counted and keeps its Message-ID. A worker killed mid-round
repeats at most the sends it had in flight, never the whole round."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.integration.conftest import Store
from tests.integration.delivery.test_email import WELCOME
from tests.integration.journeys import deploy, rows, subscriber, track
from tests.servers import Received, SmtpSink, free_port
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.runtime.transactions import transact


def test_a_claim_never_recorded_is_sent_again_after_the_lease(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    deploy(store, WELCOME)
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    now = store.clock.now()
    # The claim commits, then the worker dies before sending or recording anything.
    ready, _ = transact(store.engine, lambda conn: dispatcher._claim(conn, now))
    assert len(ready) == 1
    [held] = rows(store, "SELECT status, provider_id FROM messages")
    assert held.status == "sending"

    assert dispatcher.run_once().claimed == 0  # the lease still holds it
    store.clock.advance(dispatcher.lease)
    assert dispatcher.run_once().sent == 1
    [row] = rows(store, "SELECT status, resends, attempts, provider_id FROM messages")
    assert (row.status, row.resends, row.attempts) == ("sent", 1, 2)
    assert row.provider_id == held.provider_id
    assert smtp[0].received[0].message["Message-ID"] == held.provider_id
    [line] = rows(store, "SELECT detail FROM step_log WHERE action = 'resent'")
    assert "may have reached the recipient" in line.detail
    # The message API and the workflow's figures show the resend.
    message, figures = _message_and_stats(store)
    assert (message["resends"], message["attempts"]) == (1, 2)
    assert figures["resends"] == 1
    assert [s["resends"] for s in figures["steps"]] == [1]


def test_a_claimed_message_never_handed_to_its_channel_is_not_counted_as_resent(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    deploy(store, WELCOME)
    for user in ("ann", "bob", "cid"):
        subscriber(store, user)
        track(store, user, "signed_up")
    dispatcher.concurrency = 1  # the round's first message goes out, the others wait their turn
    now = store.clock.now()
    # The claim commits, then the worker dies while its first message is with the server.
    ready, _ = transact(store.engine, lambda conn: dispatcher._claim(conn, now))
    assert len(ready) == 3

    store.clock.advance(dispatcher.lease)
    assert dispatcher.run_once().sent == 3
    found = rows(store, "SELECT status, resends, attempts FROM messages ORDER BY id")
    assert [(r.status, r.resends) for r in found] == [("sent", 1), ("sent", 0), ("sent", 0)]
    assert len(rows(store, "SELECT id FROM step_log WHERE action = 'resent'")) == 1


def _message_and_stats(store: Store) -> tuple[dict[str, Any], dict[str, Any]]:
    from fastapi.testclient import TestClient

    from tidings.api.app import create_app
    from tidings.storage.api_keys import KeyKind, create_key

    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(store.engine, clock=store.clock, catalog=store.catalog)) as client:
        [message] = client.get("/api/messages", headers=auth).json()
        figures = client.get("/api/workflows/welcome/stats", headers=auth).json()
    return message, figures


class StallingSink(SmtpSink):
    """Keeps the first message, then does not answer: the worker is killed while it waits,
    after the server already has the message."""

    def __init__(self) -> None:
        super().__init__()
        self.in_data = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        # Like a mail server that queued the message before its reply was lost.
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        if not self.in_data:
            self.in_data = True
            await asyncio.sleep(30)
        return "250 OK"


@pytest.mark.e2e
def test_worker_killed_while_the_server_holds_the_message(
    store: Store, dispatcher: Dispatcher
) -> None:
    from aiosmtpd.controller import Controller

    sink = StallingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    deploy(store, WELCOME)
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    url = store.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "TIDINGS_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "TIDINGS_SEND_LEASE": "5",
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tidings", "worker", "--database", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not sink.in_data:
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never sent"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    [held] = rows(store, "SELECT status, resends FROM messages")
    assert held.status == "sending"

    # Another worker takes over once the lease has run out, and counts the resend.
    dispatcher.transports.smtp = SmtpChannel(SmtpConfig("127.0.0.1", port, timeout=10))
    store.clock.set(store.clock.now() + timedelta(days=400))  # past the lease
    assert dispatcher.run_once().sent == 1
    controller.stop()
    [row] = rows(store, "SELECT status, resends, provider_id FROM messages")
    assert (row.status, row.resends) == ("sent", 1)
    # The one duplicate window: both copies arrived, with one Message-ID to drop it by.
    assert len(sink.received) == 2
    assert {m.message["Message-ID"] for m in sink.received} == {row.provider_id}


class SlowSink(SmtpSink):
    """Keeps each message, then takes a moment to answer, as a busy mail server does: a
    round of 100 takes long enough to kill the worker in the middle of it."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        await asyncio.sleep(0.05)
        return "250 OK"


def _subscribers_signed_up(store: Store, count: int) -> None:
    items = []
    for i in range(count):
        traits = {"email": f"u{i}@example.com", "consent": {"email": "subscribed"}}
        items.append(Incoming(f"i{i}", f"u{i}", IDENTIFY, store.clock.now(), traits=traits))
        items.append(Incoming(f"s{i}", f"u{i}", "signed_up", store.clock.now()))
    ingest(store.engine, store.workspace_id, items, store.clock, store.catalog)


@pytest.mark.e2e
def test_worker_killed_mid_round_repeats_only_the_sends_in_flight(
    store: Store, dispatcher: Dispatcher
) -> None:
    from aiosmtpd.controller import Controller

    # Given 150 welcome emails due, and a worker sending them (rounds of 100, 8 at once)
    sink = SlowSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    deploy(store, WELCOME)
    _subscribers_signed_up(store, 150)
    url = store.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "TIDINGS_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "TIDINGS_SEND_LEASE": "5",
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tidings", "worker", "--database", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        # When it is killed without warning in the middle of its first round
        deadline = time.monotonic() + 60
        while len(sink.received) < 30:
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never sent"
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    # and another worker takes over once the leases have run out
    dispatcher.transports.smtp = SmtpChannel(SmtpConfig("127.0.0.1", port, timeout=10))
    store.clock.set(store.clock.now() + timedelta(days=400))
    dispatcher.run_until_idle()
    controller.stop()

    # Then every email went out, and the only copies are of sends that were in flight
    sent = rows(store, "SELECT status, resends, provider_id FROM messages")
    assert [r.status for r in sent] == ["sent"] * 150
    copies = Counter(m.message["Message-ID"] for m in sink.received)
    assert set(copies) == {r.provider_id for r in sent}
    repeated = sum(n - 1 for n in copies.values())
    resends = sum(r.resends for r in sent)
    assert repeated <= resends <= dispatcher.concurrency
