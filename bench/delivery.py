"""Delivery benchmarks: messages per second through the dispatcher to a loopback SMTP
server and to a loopback webhook receiver (each in its own process), and what the
send-time policies cost per message."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from bench.server import _port
from bench.setup import database, deployed
from tidings.core.policies import Circumstances, Outgoing, Policies, decide
from tidings.delivery.netguard import NetGuard
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.delivery.transports import Recorder, Transports
from tidings.delivery.webhooks import HttpChannel
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import save_settings

#: The policies a careful shop sets, so the decision phase does its full work.
POLICIES = {
    "caps": [{"limit": 3, "per": "7d", "channel": "email"}],
    "quiet_hours": {"start": "21:00", "end": "08:00"},
    "after_purchase": {"event": "order_completed", "for": "3d"},
}

_RECEIVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
DELAY = float(sys.argv[2])
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(DELAY)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@contextmanager
def _process(args: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import socket

        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"{args[0]} did not start"
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(10)


def _queue(engine: Engine, messages: int, channel_sql: str) -> tuple[int, Catalog, datetime]:
    """`messages` subscribed contacts, each with one message queued (ingest does it)."""
    workspace_id, catalog, clock = deployed(engine)
    with engine.begin() as conn:
        save_settings(
            conn,
            workspace_id,
            {"sender": {"from_email": "news@shop.example"}, "policies": POLICIES},
        )
    items = []
    for i in range(messages):
        traits = {
            "email": f"user{i}@example.com",
            "first_name": "Ann",
            "timezone": "UTC",
            "consent": {"email": "subscribed"},
        }
        items.append(Incoming(f"id-{i}", f"user-{i}", IDENTIFY, clock.now(), traits=traits))
        items.append(Incoming(f"su-{i}", f"user-{i}", "signed_up", clock.now()))
    for start in range(0, len(items), 2000):
        ingest(engine, workspace_id, items[start : start + 2000], clock, catalog)
    if channel_sql:
        with engine.begin() as conn:
            conn.execute(text(channel_sql))
    return workspace_id, catalog, clock.now()


def _drain(engine: Engine, channels: Transports, at: datetime, batch: int) -> dict[str, float]:
    from tidings.clock import VirtualClock

    dispatcher = Dispatcher(engine, VirtualClock(at), channels, batch=batch)
    started = time.perf_counter()
    sent = len(dispatcher.run_until_idle())
    elapsed = time.perf_counter() - started
    dispatcher.close()
    assert dispatcher.totals.failed == 0 and dispatcher.totals.retried == 0, dispatcher.totals
    return {"events": sent, "seconds": elapsed, "per_second": sent / elapsed}


def bench_dispatch_smtp(kind: str, messages: int, batch: int = 100) -> dict[str, float]:
    """Queued marketing emails -> policies -> MIME with tracked links -> a loopback SMTP
    server (aiosmtpd in another process) -> recorded as sent."""
    port = _port()
    server = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    with database(kind) as engine, _process([*server, "-c", "aiosmtpd.handlers.Sink"], port):
        _, _, now = _queue(engine, messages, "")
        channels = Transports(
            "https://mail.shop.example",
            http=Recorder(),
            smtp=SmtpChannel(SmtpConfig("127.0.0.1", port)),
        )
        return _drain(engine, channels, now, batch)


def bench_dispatch_webhook(
    kind: str, messages: int, batch: int = 100, delay: float = 0.0
) -> dict[str, float]:
    """Queued webhook calls -> signed -> a loopback HTTP receiver in another process that
    answers after `delay` seconds (a real CRM takes tens of milliseconds)."""
    port = _port()
    receiver = [sys.executable, "-c", _RECEIVER, str(port), str(delay)]
    with database(kind) as engine, _process(receiver, port):
        # The same queued rows, turned into webhook calls: only the channel differs.
        _, _, now = _queue(
            engine,
            messages,
            "UPDATE messages SET channel = 'webhook', kind = 'transactional',"
            f" recipient = 'http://127.0.0.1:{port}/hook', body_text = '{{\"ok\": true}}'",
        )
        channels = Transports(
            "https://mail.shop.example", http=HttpChannel(NetGuard.from_list(["127.0.0.1"]))
        )
        return _drain(engine, channels, now, batch)


def bench_dispatch_decisions(kind: str, messages: int, batch: int = 500) -> dict[str, float]:
    """The dispatcher with nothing on the wire: claim, policies, compose, record."""
    with database(kind) as engine:
        _, _, now = _queue(engine, messages, "")
        stand_in = Recorder()
        channels = Transports("https://mail.shop.example", http=stand_in, smtp=stand_in)
        return _drain(engine, channels, now, batch)


def bench_policy_cost(decisions: int = 100_000) -> dict[str, float]:
    """Microseconds for `decide` with a cap, quiet hours and a purchase window in play."""
    policies = Policies.model_validate(POLICIES)
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    message = Outgoing(1, "email", "marketing", now - timedelta(minutes=1))
    facts = Circumstances(
        consent={"email": "subscribed"},
        timezone="America/New_York",
        sent=((now - timedelta(days=2), "email"), (now - timedelta(days=5), "email")),
        last_purchase_at=now - timedelta(days=9),
    )
    started = time.perf_counter()
    for _ in range(decisions):
        decide(message, facts, policies, now)
    elapsed = time.perf_counter() - started
    return {"events": decisions, "seconds": elapsed, "per_second": decisions / elapsed}
