"""A supervised loop outlives the exceptions of its rounds, backs off, and says how it is."""

from __future__ import annotations

import threading

import pytest

from tidings.core.retry import BACKOFF_CAP, backoff
from tidings.runtime.supervision import LoopHealth, Supervisor


class _Ticker:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [
        (1, 0.5),  # the first failure waits the base
        (2, 1.0),  # then doubles
        (4, 4.0),
        (7, 30.0),  # 32 s is over the cap
        (100, BACKOFF_CAP),  # no overflow however long the outage
    ],
)
def test_backoff_doubles_up_to_the_cap(failures: int, seconds: float) -> None:
    assert backoff(failures) == seconds


def test_a_round_that_raises_is_retried_with_backoff_and_the_loop_goes_on() -> None:
    stop = threading.Event()
    health = LoopHealth("scheduler")
    outcomes: list[Exception | float] = [
        RuntimeError("boom"),
        ConnectionError("database went away"),
        0.25,  # a good round resets the backoff
        ValueError("again"),
        0.0,
    ]
    waits: list[float] = []

    def work() -> float:
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    Supervisor(health, stop, wait=waits.append).run(work)

    assert waits == [0.5, 1.0, 0.25, 0.5]
    assert outcomes == []
    assert health.failures == 0
    assert health.last_error == "ValueError: again"


def test_only_the_stop_event_ends_the_loop() -> None:
    stop = threading.Event()
    rounds = 0

    def work() -> float:
        nonlocal rounds
        rounds += 1
        if rounds == 50:
            stop.set()
        raise RuntimeError("always broken")

    Supervisor(LoopHealth("dispatcher"), stop, wait=lambda _: None).run(work)
    assert rounds == 50


def test_health_reports_a_loop_whose_last_good_round_is_old() -> None:
    tick = _Ticker()
    health = LoopHealth("dispatcher", idle_seconds=1.0, monotonic=tick)
    # A loop that never started is not judged
    assert health.problem() is None
    health.began()
    tick.now += 29
    assert health.problem() is None  # within its first 30 s
    tick.now += 2
    assert health.problem() == "dispatcher: no good round yet 31 s ago (limit 30 s)"
    health.succeeded()
    assert health.problem() is None
    health.failed(RuntimeError("database is locked"))
    tick.now += 45
    assert health.problem() == "dispatcher: last good round 45 s ago (limit 30 s), 1 failed since"
    assert health.last_error == "RuntimeError: database is locked"


def test_a_long_round_that_keeps_making_progress_is_not_stuck() -> None:
    tick = _Ticker()
    health = LoopHealth("dispatcher", idle_seconds=1.0, monotonic=tick)
    health.began()
    health.succeeded()
    # Given a round that runs for minutes (a slow relay), with a heartbeat every 20 s
    for _ in range(6):
        tick.now += 20
        health.progressed()
        # Then the loop is never reported stuck while it moves
        assert health.problem() is None
    # and once the heartbeats stop, it is, counted from the last one
    tick.now += 31
    assert health.problem() == "dispatcher: last progress 31 s ago (limit 30 s)"


def test_a_slow_idle_loop_gets_three_idle_intervals() -> None:
    tick = _Ticker()
    health = LoopHealth("scheduler", idle_seconds=60.0, monotonic=tick)
    health.began()
    health.succeeded()
    tick.now += 179
    assert health.problem() is None
    tick.now += 2
    assert health.problem() is not None
