"""Benchmarks against real processes: `tidings serve` over HTTP, and `tidings worker`s."""

from __future__ import annotations

import base64
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, select, text, update

from bench.setup import database, deployed, seed_sleeping
from tidings.clock import SystemClock
from tidings.runtime.loop import SchedulerLoop
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.tables import enrollments


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`tidings serve` on a free loopback port, until the block ends (then SIGTERM)."""
    # The log goes to a file, not a pipe: nobody reads a pipe while the benchmark runs, and
    # the access log of a few thousand requests fills it, which stops the server.
    with tempfile.TemporaryFile() as log:
        port = _port()
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--database", url],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None:
                    log.seek(0)
                    error = log.read().decode()
                    raise RuntimeError(f"tidings serve exited: {error[-2000:]}") from None
                if time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError("tidings serve did not start") from None
                time.sleep(0.02)
        try:
            yield port, process
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def _write_key(engine: Engine, workspace_id: int) -> str:
    with engine.begin() as conn:
        return create_key(conn, workspace_id, KeyKind.WRITE, SystemClock().now())


def _post(conn: HTTPConnection, auth: str, path: str, body: dict[str, Any]) -> float:
    payload = json.dumps(body)
    started = time.perf_counter()
    conn.request("POST", path, payload, {"Authorization": auth, "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    return time.perf_counter() - started


def bench_http_batches(kind: str, batch: int, events: int, clients: int = 4) -> dict[str, float]:
    """Events per second through POST /v1/batch (ingest, enrollment, outbox committed)."""
    with database(kind) as engine:
        workspace_id, _, _ = deployed(engine)
        auth = "Basic " + base64.b64encode(f"{_write_key(engine, workspace_id)}:".encode()).decode()
        url = engine.url.render_as_string(hide_password=False)
        calls = [
            {
                "type": "track",
                "userId": f"user-{i}",
                "event": "signed_up",
                "messageId": f"m{i}",
                "context": {
                    "traits": {"email": f"user{i}@example.com", "consent": {"email": "subscribed"}}
                },
            }
            for i in range(events)
        ]
        chunks = [calls[i : i + batch] for i in range(0, events, batch)]
        with serving(url) as (port, _):

            def send(part: list[list[dict[str, Any]]]) -> None:
                conn = HTTPConnection("127.0.0.1", port, timeout=60)
                for chunk in part:
                    if batch == 1:
                        _post(conn, auth, "/v1/track", chunk[0])
                    else:
                        _post(conn, auth, "/v1/batch", {"batch": chunk})
                conn.close()

            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(send, [chunks[i::clients] for i in range(clients)]))
            elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            queued = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
        assert queued == events, (queued, events)
        return {"events": events, "seconds": elapsed, "per_second": events / elapsed}


def bench_track_latency(kind: str, rate: float, seconds: float) -> dict[str, float]:
    """Latency of POST /v1/track at a steady rate; a 2xx means the outbox row is committed."""
    with database(kind) as engine:
        workspace_id, _, _ = deployed(engine)
        auth = "Basic " + base64.b64encode(f"{_write_key(engine, workspace_id)}:".encode()).decode()
        url = engine.url.render_as_string(hide_password=False)
        total = int(rate * seconds)
        with serving(url) as (port, _):
            latencies: list[float] = []

            def one(i: int) -> None:
                time.sleep(max(0.0, start + i / rate - time.perf_counter()))
                conn = connections[i % len(connections)]
                body = {
                    "userId": f"user-{i}",
                    "event": "signed_up",
                    "messageId": f"t{i}",
                    "context": {
                        "traits": {"email": f"u{i}@example.com", "consent": {"email": "subscribed"}}
                    },
                }
                latencies.append(_post(conn, auth, "/v1/track", body))

            workers = 16
            connections = [HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(workers)]
            start = time.perf_counter()

            def lane(first: int) -> None:
                for i in range(first, total, workers):
                    one(i)

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lane, range(workers)))
        latencies.sort()
        return {
            "calls": total,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "seconds": seconds,
        }


def bench_workers(processes: int, due: int) -> dict[str, float]:
    """Due steps per second with `processes` worker processes on PostgreSQL."""
    with database("postgresql") as engine:
        workspace_id, _, _ = deployed(engine)
        # Due by the real clock the workers read.
        seed_sleeping(engine, workspace_id, due, due, SystemClock().now() - timedelta(seconds=1))
        url = engine.url.render_as_string(hide_password=False)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "tidings", "worker", "--database", url, "--batch", "500"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(processes)
        ]
        try:
            while True:
                with engine.connect() as conn:
                    left = conn.execute(
                        text("SELECT count(*) FROM enrollments WHERE status <> 'completed'")
                    ).scalar_one()
                if left == 0:
                    break
                time.sleep(0.05)
            with engine.connect() as conn:
                first, last = conn.execute(
                    text("SELECT min(ended_at), max(ended_at) FROM enrollments")
                ).one()
            # From the first journey finished to the last: process start-up is not the
            # scheduler's throughput.
            elapsed = (last - first).total_seconds()
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
        return {"steps": due, "seconds": elapsed, "per_second": due / elapsed}


def bench_serve_memory(contacts: int) -> dict[str, float]:
    """Start time and idle memory (RSS) of `tidings serve` with `contacts` stored (SQLite)."""
    with database("sqlite") as engine:
        workspace_id, _, clock = deployed(engine)
        seed_sleeping(engine, workspace_id, contacts, 0, clock.now())
        url = engine.url.render_as_string(hide_password=False)
        started = time.perf_counter()
        with serving(url) as (port, process):
            start_seconds = time.perf_counter() - started
            urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json").read()
            time.sleep(3)  # idle: the scheduler finds nothing due
            with Path(f"/proc/{process.pid}/status").open() as status:
                rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return {"start_seconds": start_seconds, "rss_mb": rss_kb / 1024, "seconds": start_seconds}


def bench_timer_lateness(
    kind: str, sleeping: int, due: int, spread_seconds: float
) -> dict[str, float]:
    """How late timers fire on the real clock: `due` journeys wake spread over a few seconds,
    among `sleeping` asleep, while one scheduler loop runs."""
    with database(kind) as engine:
        workspace_id, catalog, _ = deployed(engine)
        seed_sleeping(engine, workspace_id, sleeping, 0, SystemClock().now())
        # The head start must cover setting the wake times and starting the loop: a setup
        # that ran past the first wake time was once counted as the scheduler's lateness.
        start = SystemClock().now() + timedelta(seconds=5)
        wakes = {
            i: start + timedelta(seconds=spread_seconds * (i - 1) / due) for i in range(1, due + 1)
        }
        with engine.begin() as conn:
            conn.execute(
                update(enrollments)
                .where(enrollments.c.id == bindparam("b_id"))
                .values(wake_at=bindparam("b_wake")),
                [{"b_id": i, "b_wake": wake} for i, wake in wakes.items()],
            )
        loop = SchedulerLoop(engine, SystemClock(), catalog, batch=500)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        assert SystemClock().now() < start, "the setup ran past the first wake time"
        deadline = time.monotonic() + spread_seconds + 60
        while loop.steps < due and time.monotonic() < deadline:
            time.sleep(0.1)
        loop.stop.set()
        thread.join(timeout=30)
        with engine.connect() as conn:
            ended = dict(
                conn.execute(
                    select(enrollments.c.id, enrollments.c.ended_at).where(enrollments.c.id <= due)
                ).all()
            )
        late = sorted(
            (ended[i] - wakes[i]).total_seconds() for i in wakes if ended.get(i) is not None
        )
        assert len(late) == due, (len(late), due)
        return {
            "p50_s": statistics.median(late),
            "p99_s": late[int(len(late) * 0.99) - 1],
            "seconds": spread_seconds,
        }
