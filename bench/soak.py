"""The soak: `tidings serve` on PostgreSQL under steady load, through two PostgreSQL
restarts and one poison event, then a check that nothing was lost or left undone.

Run alone with `python -m bench soak` (about two and a half minutes). It stops and starts
the local PostgreSQL cluster twice (`pg_ctlcluster`): anything else using that server
fails meanwhile. Everything stays on loopback.

What it checks:
- every event acknowledged with a 2xx is stored;
- every journey those events started ran its steps: the webhook reached the receiver and
  the step after the wait is in the outbox;
- the poison event (a receipt whose template sums a price list holding "N/A") was stored
  and its journey failed alone, with its reason on the timeline;
- `/readyz` told the truth: 503 while the database was down and 200 while it was up,
  allowing `LAG` seconds around each change.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import yaml
from sqlalchemy import Engine, text

from bench.server import _port
from tidings.clock import SystemClock
from tidings.core import validate_workflow
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.engine import create_engine
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import deploy_workflow
from tidings.storage.workspaces import ensure_workspace

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "tidings_soak"
#: Seconds of load, when the database goes down (and for how long), when the poison goes.
LOAD_SECONDS = 90.0
OUTAGES = ((25.0, 4.0), (60.0, 4.0))
POISON_AT = 12.0
#: Seconds `/readyz` may lag behind the database going down or coming back.
LAG = 3.0
#: Seconds to wait after the load for the last waits to come due and run.
SETTLE_SECONDS = 45.0

SERIES = """
id: soak
name: Soak series
trigger: {event: signed_up}
entry: {reentry: always}
templates:
  hi: {subject: "Welcome", text: "hello"}
  later: {subject: "Ten seconds later", text: "still here"}
steps:
  - {id: hi, type: send, template: hi}
  - {id: crm, type: webhook, url: "RECEIVER/crm", body: '{"email": "{{ contact.email }}"}'}
  - {id: nap, type: wait, for: 10s}
  - {id: later, type: send, template: later}
"""

#: The poison's carrier: a receipt that sums the order's prices after a short wait.
RECEIPT = """
id: receipt
name: Receipt
trigger: {event: order_placed}
entry: {reentry: always}
templates:
  receipt: {subject: "Your order", text: "Total: {{ event.prices | sum }}"}
steps:
  - {id: settle, type: wait, for: 5s}
  - {id: receipt, type: send, template: receipt}
"""


@dataclass
class _Receiver:
    """A loopback CRM: counts webhook calls by their `webhook-id`."""

    ids: set[str] = field(default_factory=set)
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def _receiver() -> Iterator[tuple[_Receiver, int]]:
    found = _Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            with found.lock:
                found.calls += 1
                found.ids.add(self.headers.get("webhook-id") or "")
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _cluster(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
    )


def _outage(seconds: float) -> tuple[float, float]:
    """Stop PostgreSQL for `seconds`; return when it went down and when it was back."""
    # The database refuses new work from the moment it is asked to stop (a fast stop
    # ends every session first), so the outage starts before the command returns.
    down_at = time.monotonic()
    _cluster("stop")
    try:
        time.sleep(seconds)
    finally:
        # Whatever happens, the shared server comes back.
        for attempt in range(5):
            try:
                _cluster("start")
                break
            except subprocess.CalledProcessError:
                if attempt == 4:
                    raise
                time.sleep(1)
    return down_at, time.monotonic()


def _database_answers() -> bool:
    probe = subprocess.run(
        ["pg_isready", "-h", "127.0.0.1", "-d", DATABASE, "-U", "postgres", "-t", "1"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@contextmanager
def _fresh_database() -> Iterator[Engine]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine = create_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{DATABASE}")
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        admin.dispose()


def _setup(engine: Engine, receiver_port: int) -> str:
    """Deploy both workflows; return the write key's Basic authorization header."""
    now = SystemClock().now()
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, "soak", "Soak", now)
        for source in (SERIES.replace("RECEIVER", f"http://127.0.0.1:{receiver_port}"), RECEIPT):
            spec, problems = validate_workflow(yaml.safe_load(textwrap.dedent(source)))
            assert spec is not None, [str(p) for p in problems]
            deploy_workflow(conn, workspace_id, spec, source, now)
        key = create_key(conn, workspace_id, KeyKind.WRITE, now)
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@contextmanager
def _serve(url: str, folder: Path) -> Iterator[tuple[int, Path]]:
    port = _port()
    log = folder / "serve.log"
    env = {**os.environ, "TIDINGS_WEBHOOK_ALLOW": "127.0.0.1"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--database", url],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=folder,  # no stray .env
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while _get(port, "/healthz") != 200:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"tidings serve did not start: {log.read_text()[-2000:]}")
                time.sleep(0.05)
            yield port, log
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=90)


def _get(port: int, path: str) -> int | None:
    try:
        conn = HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


@dataclass
class _Load:
    """What the clients sent, and which of it was acknowledged."""

    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(port: int, auth: str, path: str, body: dict[str, Any]) -> bool:
    try:
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            path,
            json.dumps(body),
            {"Authorization": auth, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        conn.close()
        return 200 <= response.status < 300
    except OSError:
        return False


def _signup(n: int) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": f"user-{n}",
        "event": "signed_up",
        "messageId": f"su-{n}",
        "context": {
            "traits": {"email": f"user{n}@example.com", "consent": {"email": "subscribed"}}
        },
    }


def _order(n: int, prices: list[Any]) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": f"buyer-{n}",
        "event": "order_placed",
        "messageId": f"or-{n}",
        "properties": {"prices": prices},
        "context": {
            "traits": {"email": f"buyer{n}@example.com", "consent": {"email": "subscribed"}}
        },
    }


def _clients(port: int, auth: str, load: _Load, until: float) -> list[threading.Thread]:
    numbers = itertools.count()

    def record(calls: list[dict[str, Any]], ok: bool) -> None:
        with load.lock:
            if ok:
                load.acked.update((c["messageId"], c) for c in calls)
            else:
                load.refused += len(calls)

    def track_client() -> None:
        while time.monotonic() < until:
            call = _signup(next(numbers))
            record([call], _post(port, auth, "/v1/track", call))
            time.sleep(0.1)

    def batch_client() -> None:
        while time.monotonic() < until:
            calls = [_signup(next(numbers)) for _ in range(8)]
            n = next(numbers)
            calls.append(_order(n, [12.5, 3]))
            record(calls, _post(port, auth, "/v1/batch", {"batch": calls}))
            time.sleep(0.5)

    return [
        threading.Thread(target=track_client, daemon=True),
        threading.Thread(target=track_client, daemon=True),
        threading.Thread(target=batch_client, daemon=True),
    ]


def _poll_readiness(port: int, until: float, samples: list[tuple[float, int | None, bool]]) -> None:
    """Every quarter second: what `/readyz` said, and whether the database answered."""
    while time.monotonic() < until:
        truth = _database_answers()
        samples.append((time.monotonic(), _get(port, "/readyz"), truth))
        time.sleep(0.25)


def _readiness_lies(
    samples: list[tuple[float, int | None, bool]], outages: list[tuple[float, float]]
) -> list[str]:
    """Samples where `/readyz` disagreed with the database, away from any change."""
    changes = [t for outage in outages for t in outage]
    lies = []
    for at, status, _ in samples:
        if any(abs(at - c) <= LAG for c in changes):
            continue
        down = any(start <= at <= end for start, end in outages)
        expected = 503 if down else 200
        if status != expected:
            lies.append(f"{at - samples[0][0]:.1f} s: /readyz {status}, expected {expected}")
    return lies


def bench_soak() -> dict[str, Any]:
    """Run the soak; return its figures and whether each check was met."""
    with TemporaryDirectory() as tmp, _receiver() as (receiver, receiver_port):
        folder = Path(tmp)
        with _fresh_database() as engine:
            auth = _setup(engine, receiver_port)
            url = engine.url.render_as_string(hide_password=False)
            with _serve(url, folder) as (port, log):
                started = time.monotonic()
                until = started + LOAD_SECONDS
                load = _Load()
                samples: list[tuple[float, int | None, bool]] = []
                threads = _clients(port, auth, load, until)
                poller = threading.Thread(
                    target=_poll_readiness, args=(port, until + 15, samples), daemon=True
                )
                for thread in [*threads, poller]:
                    thread.start()
                time.sleep(max(started + POISON_AT - time.monotonic(), 0))
                poisoned = _post(port, auth, "/v1/track", _order(999_999, [12.5, "N/A"]))
                outages: list[tuple[float, float]] = []
                for at, seconds in OUTAGES:
                    time.sleep(max(started + at - time.monotonic(), 0))
                    outages.append(_outage(seconds))
                for thread in threads:
                    thread.join()
                poller.join()
                # Let the last waits come due, and the dispatcher catch up.
                settled = _settle(engine, load, receiver, time.monotonic() + SETTLE_SECONDS)
                final_ready = _get(port, "/readyz")
                failed_rounds = log.read_text().count("round failed")
        return _verdict(load, settled, samples, outages, poisoned, final_ready, failed_rounds)


@dataclass
class _Settled:
    stored: set[str]
    journeys: int
    finished: int
    webhooks: int
    poison: list[tuple[str, str | None]]
    receipts: int
    orders: int


def _settle(engine: Engine, load: _Load, receiver: _Receiver, deadline: float) -> _Settled:
    signups = sum(1 for m in load.acked if m.startswith("su-"))
    while True:
        found = _observe(engine, receiver)
        done = found.finished >= signups and len(receiver.ids) >= signups
        if done or time.monotonic() > deadline:
            return found
        time.sleep(1)


def _observe(engine: Engine, receiver: _Receiver) -> _Settled:
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT message_id FROM events"))}
        journeys = conn.execute(
            text(
                "SELECT count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow_id"
                " WHERE w.key = 'soak'"
            )
        ).scalar_one()
        finished = conn.execute(
            text("SELECT count(*) FROM messages WHERE step_id = 'later'")
        ).scalar_one()
        poison = [
            (r[0], r[1])
            for r in conn.execute(
                text(
                    "SELECT e.status, e.exit_reason FROM enrollments e"
                    " JOIN contacts c ON c.id = e.contact_id WHERE c.external_id = 'buyer-999999'"
                )
            )
        ]
        receipts = conn.execute(
            text("SELECT count(*) FROM messages WHERE step_id = 'receipt'")
        ).scalar_one()
        orders = conn.execute(
            text("SELECT count(*) FROM events WHERE name = 'order_placed'")
        ).scalar_one()
    return _Settled(stored, journeys, finished, len(receiver.ids), poison, receipts, orders)


def _changes(
    samples: list[tuple[float, int | None, bool]], outages: list[tuple[float, float]]
) -> list[str]:
    """When `/readyz` changed its answer, and when the outages began and ended, in seconds
    from the first sample: the timeline to judge the readiness check by."""
    if not samples:
        return []
    zero = samples[0][0]
    found = [f"{s - zero:.1f} s: database stopping" for s, _ in outages]
    found += [f"{e - zero:.1f} s: database back" for _, e in outages]
    previous: int | None = -1
    for at, status, _ in samples:
        if status != previous:
            found.append(f"{at - zero:.1f} s: /readyz {status}")
            previous = status
    return sorted(found, key=lambda line: float(line.split(" s:")[0]))


def _verdict(
    load: _Load,
    settled: _Settled,
    samples: list[tuple[float, int | None, bool]],
    outages: list[tuple[float, float]],
    poisoned: bool,
    final_ready: int | None,
    failed_rounds: int,
) -> dict[str, Any]:
    acked = set(load.acked)
    signups = sum(1 for m in acked if m.startswith("su-"))
    lost = sorted(acked - settled.stored)
    lies = _readiness_lies(samples, outages)
    down_503 = sum(
        1 for at, status, _ in samples if status == 503 and any(s <= at <= e for s, e in outages)
    )
    # The poison's journey must be over (failed, or held by a template error) without a
    # receipt, while every other order got its receipt.
    poison_over = [s for s, _ in settled.poison if s not in ("active", "waiting")]
    checks = {
        "every acknowledged event stored": not lost,
        "every journey's due steps ran": settled.finished >= signups,
        "every webhook delivered": settled.webhooks >= signups,
        "the poison failed alone": poisoned
        and len(poison_over) == len(settled.poison) == 1
        and settled.receipts == settled.orders - 1,
        "/readyz told the truth": not lies and down_503 > 0,
        "ready at the end": final_ready == 200,
    }
    return {
        "acknowledged": len(acked),
        "refused": load.refused,
        "lost": lost[:10],
        "signups": signups,
        "finished": settled.finished,
        "webhooks": settled.webhooks,
        "poison": settled.poison,
        "receipts": settled.receipts,
        "orders": settled.orders,
        "readyz_samples": len(samples),
        "readyz_503_while_down": down_503,
        "readyz_lies": lies[:10],
        "readyz_changes": _changes(samples, outages),
        "outage_seconds": [round(e - s, 1) for s, e in outages],
        "failed_rounds_logged": failed_rounds,
        "checks": checks,
        "met": all(checks.values()),
    }


def main() -> None:
    """Run the soak alone and print what it found."""
    result = bench_soak()
    print(json.dumps(result, indent=2, default=str))
    if not result["met"]:
        raise SystemExit(1)
