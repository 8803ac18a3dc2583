"""Worker processes on PostgreSQL: one killed mid-run, every journey completes exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.integration.conftest import Store
from tests.integration.journeys import deploy
from tidings.clock import SystemClock, VirtualClock
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.storage.workflows import Catalog

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

SERIES = """
id: series
name: Series
trigger: {event: signed_up}
templates:
  a: {subject: "A", text: "a"}
  b: {subject: "B", text: "b"}
steps:
  - {id: first, type: send, template: a}
  - {id: pause, type: wait, for: 1d}
  - {id: second, type: send, template: b}
  - {id: third, type: update, add_tags: [done], score: 1}
"""
JOURNEYS = 4000


def _seed_due_journeys(store: Store) -> None:
    """JOURNEYS contacts who signed up two days ago: their one-day wait is over now."""
    deploy(store, SERIES)
    clock = VirtualClock(SystemClock().now() - timedelta(days=2))
    items = []
    for i in range(JOURNEYS):
        traits = {"email": f"u{i}@example.com", "consent": {"email": "subscribed"}}
        items.append(Incoming(f"i{i}", f"u{i}", IDENTIFY, clock.now(), traits=traits))
        items.append(Incoming(f"s{i}", f"u{i}", "signed_up", clock.now()))
    for start in range(0, len(items), 2000):
        ingest(store.engine, store.workspace_id, items[start : start + 2000], clock, Catalog())


def _count(store: Store, sql: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _worker(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tidings", "worker", "--database", url, "--batch", "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_nothing(pg_store: Store) -> None:
    store = pg_store
    _seed_due_journeys(store)
    url = store.engine.url.render_as_string(hide_password=False)
    workers = [_worker(url) for _ in range(3)]
    try:
        # When the first worker has done some of the work, it is killed without warning
        deadline = time.monotonic() + 60
        while _count(store, "SELECT count(*) FROM enrollments WHERE status = 'completed'") < 300:
            assert time.monotonic() < deadline, "the workers made no progress"
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
        while _count(store, "SELECT count(*) FROM enrollments WHERE status <> 'completed'") > 0:
            assert time.monotonic() < deadline, "journeys were left behind"
            time.sleep(0.1)
    finally:
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=30)[0] for w in workers]

    assert workers[0].returncode == -signal.SIGKILL
    for worker, output in zip(workers[1:], outputs[1:], strict=True):
        assert worker.returncode == 0, output
        assert "stopped after" in output  # SIGTERM: the batch in hand finished, then exit
    # Then every journey ran exactly once: one message per step, one update per contact
    assert _count(store, "SELECT count(*) FROM enrollments WHERE status = 'completed'") == JOURNEYS
    assert _count(store, "SELECT count(*) FROM messages") == 2 * JOURNEYS
    assert _count(store, "SELECT count(DISTINCT idempotency_key) FROM messages") == 2 * JOURNEYS
    assert (
        _count(
            store, "SELECT count(*) FROM step_log WHERE step_id = 'second' AND action = 'queued'"
        )
        == JOURNEYS
    )
    assert _count(store, "SELECT count(*) FROM contacts WHERE score = 1") == JOURNEYS
