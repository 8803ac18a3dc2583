"""`/healthz` says the process lives; `/readyz` says the database answers and the loops run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.delivery.netguard import NetGuard
from tidings.delivery.transports import Transports
from tidings.delivery.webhooks import HttpChannel
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.loop import SchedulerLoop
from tidings.runtime.supervision import LoopHealth
from tidings.storage.engine import create_engine


class _Ticker:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


def _dispatcher(store: Store, engine: Engine | None = None) -> Dispatcher:
    return Dispatcher(
        store.engine if engine is None else engine,
        store.clock,
        Transports("https://t.example", HttpChannel(NetGuard())),
    )


def test_healthz_and_readyz_answer_200_when_all_is_well(store: Store) -> None:
    scheduler = SchedulerLoop(store.engine, store.clock, store.catalog)
    dispatcher = _dispatcher(store)
    app = create_app(store.engine, clock=store.clock, scheduler=scheduler, dispatcher=dispatcher)
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        _wait_until(
            lambda: (
                scheduler.health.last_good_at is not None
                and dispatcher.health.last_good_at is not None
            ),
            "a good round of each loop",
        )
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ok",
            "checks": ["database", "scheduler", "sweeps", "dispatcher"],
            "problems": [],
        }


def test_readyz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # A database file in a directory that does not exist cannot be opened.
    gone = create_engine(f"sqlite:///{tmp_path}/missing/tidings.db")
    with TestClient(create_app(gone)) as client:
        # The process itself is fine...
        assert client.get("/healthz").status_code == 200
        # ...but it cannot do its work, and says why without the driver's message.
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["problems"] == ["database: unreachable"]
        assert "missing" not in ready.text
    gone.dispose()


def test_readyz_answers_503_naming_a_loop_that_has_no_good_round(
    store: Store, tmp_path: Path
) -> None:
    # Given a dispatcher whose every round fails (its database is not there), while the
    # API's own database is fine
    gone = create_engine(f"sqlite:///{tmp_path}/missing/tidings.db")
    tick = _Ticker()
    dispatcher = _dispatcher(store, gone)
    dispatcher.health = LoopHealth("dispatcher", monotonic=tick)
    app = create_app(store.engine, clock=store.clock, dispatcher=dispatcher)
    with TestClient(app) as client:
        _wait_until(lambda: dispatcher.health.failures >= 1, "a failed round")
        # Within its first 30 s the loop is given the benefit of the doubt
        assert client.get("/readyz").status_code == 200
        # When 31 s pass without a good round
        tick.now += 31
        ready = client.get("/readyz")
        # Then readiness fails and names the loop, not the error's text
        assert ready.status_code == 503
        [problem] = ready.json()["problems"]
        assert problem.startswith("dispatcher: no good round yet 31 s ago (limit 30 s)")
        assert "OperationalError" not in ready.text
        # and the process still lives
        assert client.get("/healthz").status_code == 200
    gone.dispose()


def test_readyz_answers_503_naming_the_sweeps_when_they_keep_failing(store: Store) -> None:
    # Given a scheduler whose sweeps fail (the segments table is gone), while its rounds
    # still advance journeys and go well
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE segments RENAME TO segments_gone"))
    tick = _Ticker()
    scheduler = SchedulerLoop(store.engine, store.clock, store.catalog)
    scheduler.sweeps_health = LoopHealth("sweeps", monotonic=tick)
    app = create_app(store.engine, clock=store.clock, scheduler=scheduler)
    with TestClient(app) as client:
        _wait_until(
            lambda: (
                scheduler.sweeps_health.failures >= 1 and scheduler.health.last_good_at is not None
            ),
            "a failed sweep in a good round",
        )
        # Within three sweep periods the sweeps are given the benefit of the doubt
        assert client.get("/readyz").status_code == 200
        # When three periods (3 min) pass without a sweep that went well
        tick.now += 181
        ready = client.get("/readyz")
        # Then readiness fails and names the sweeps, though the scheduler's rounds are good
        assert ready.status_code == 503
        [problem] = ready.json()["problems"]
        assert problem.startswith("sweeps: no good round yet 181 s ago (limit 180 s), 1 failed")
