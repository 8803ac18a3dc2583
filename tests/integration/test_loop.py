"""The scheduler loop sleeps until the next wake time, and stops between batches."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, outbox, subscriber, track
from tidings.runtime.loop import SchedulerLoop

SERIES = """
id: series
name: Series
trigger: {event: signed_up}
templates:
  a: {subject: "A", text: "a"}
  b: {subject: "B", text: "b"}
steps:
  - {id: first, type: send, template: a}
  - {id: pause, type: wait, for: 90s}
  - {id: second, type: send, template: b}
"""


def test_the_loop_sleeps_until_the_next_wake_and_sends_on_time(store: Store) -> None:
    deploy(store, SERIES)
    subscriber(store, "u1")
    track(store, "u1", "signed_up")
    naps: list[float] = []
    loop = SchedulerLoop(store.engine, store.clock, store.catalog, max_idle=timedelta(minutes=5))

    def sleep(seconds: float) -> None:
        # The virtual clock stands in for the wall clock: sleeping moves it.
        naps.append(seconds)
        store.clock.advance(timedelta(seconds=seconds))
        if len(outbox(store)) == 2:
            loop.stop.set()

    loop.sleep = sleep
    assert loop.run() == 1
    # 60 s: capped by the next sweep; 30 s: exactly to the wake time; 30 s: idle until the
    # next sweep, after the second message went out
    assert naps == [60.0, 30.0, 30.0]
    assert [subject for _, subject in outbox(store)] == ["A", "B"]


def test_an_idle_loop_naps_at_most_max_idle(store: Store) -> None:
    loop = SchedulerLoop(store.engine, store.clock, store.catalog, max_idle=timedelta(seconds=1))
    assert loop.run_once() == 1.0
