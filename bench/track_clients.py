"""POST /v1/track, one event per request, from many clients at once: events/s and latency.

    python -m bench.track_clients [--kind sqlite] [--clients 10 50] [--events 2000]

Each client is a thread with its own keep-alive connection, posting its share of the
events one after another as fast as the answers come; a 2xx means the event and its
outbox row are committed (group commit, `api/committer.py`). Latency is each request's
round trip as the client sees it. The server is a real `tidings serve` on loopback,
started from the `tidings` on PYTHONPATH, on the same cores as the clients.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from typing import Any

from sqlalchemy import text

from bench.server import _post, _write_key, serving
from bench.setup import database, deployed


def bench_track_clients(kind: str, clients: int, events: int) -> dict[str, float]:
    """Throughput and latency of /v1/track with `clients` concurrent senders."""
    with database(kind) as engine:
        workspace_id, _, _ = deployed(engine)
        auth = "Basic " + base64.b64encode(f"{_write_key(engine, workspace_id)}:".encode()).decode()
        url = engine.url.render_as_string(hide_password=False)
        bodies = [
            {
                "userId": f"user-{i}",
                "event": "signed_up",
                "messageId": f"c{i}",
                "context": {
                    "traits": {"email": f"u{i}@example.com", "consent": {"email": "subscribed"}}
                },
            }
            for i in range(events)
        ]
        latencies: list[float] = []
        with serving(url) as (port, _):

            def client(first: int) -> None:
                conn = HTTPConnection("127.0.0.1", port, timeout=60)
                mine = [_post(conn, auth, "/v1/track", b) for b in bodies[first::clients]]
                latencies.extend(mine)
                conn.close()

            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(client, range(clients)))
            elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            queued = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
        assert queued == events, (queued, events)
    latencies.sort()
    return {
        "per_second": events / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", action="append", default=None)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    for kind in args.kind or ["sqlite", "postgresql"]:
        for clients in args.clients:
            found: dict[str, Any] = bench_track_clients(kind, clients, args.events)
            print(
                f"{kind} {clients} clients: {found['per_second']:,.0f} events/s, "
                f"p50 {found['p50_ms']:.1f} ms, p99 {found['p99_ms']:.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
