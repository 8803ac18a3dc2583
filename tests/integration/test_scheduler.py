"""The scheduler: due journeys advance on time, a crash loses nothing and sends nothing twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, outbox, subscriber, tick, track
from tidings.runtime.ingest import Incoming, ingest, ingest_in
from tidings.runtime.scheduler import run_due
from tidings.storage import enrollments, messages, tables
from tidings.storage.workflows import Catalog

SERIES = """
id: series
name: Series
trigger: {event: signed_up}
exit:
  - {event: order_completed}
templates:
  a: {subject: "A", text: "a"}
  b: {subject: "B", text: "b"}
steps:
  - {id: first, type: send, template: a}
  - {id: pause, type: wait, for: 2d}
  - {id: second, type: send, template: b}
"""


def test_timers_fire_at_their_time_not_before(store: Store) -> None:
    deploy(store, SERIES)
    subscriber(store, "u1")
    track(store, "u1", "signed_up")
    assert tick(store, timedelta(days=2) - timedelta(seconds=1)) == 0
    assert tick(store, timedelta(seconds=1)) == 1
    assert outbox(store) == [("1:first:1", "A"), ("1:second:1", "B")]
    assert enrollment_states(store) == [("completed", None, "reached the end")]


def test_a_purchase_mid_wait_leaves_before_the_next_message(store: Store) -> None:
    deploy(store, SERIES)
    subscriber(store, "u1")
    track(store, "u1", "signed_up")
    store.clock.advance(timedelta(days=1))
    track(store, "u1", "order_completed")
    assert tick(store, timedelta(days=5)) == 0
    assert outbox(store) == [("1:first:1", "A")]
    assert enrollment_states(store) == [("exited", "pause", "exit event: order_completed")]


class _Killed(BaseException):
    """Stands in for a kill: nothing in the scheduler catches it."""


def test_a_crash_between_steps_loses_nothing_and_sends_nothing_twice(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(store, SERIES)
    for user in ("u1", "u2", "u3"):
        subscriber(store, user)
        track(store, user, "signed_up")
    store.clock.advance(timedelta(days=2))

    # Given a scheduler that dies after advancing the batch but before writing its messages
    # (a BaseException, as a kill is: an Exception would fail those journeys instead)
    def die(*args: object, **kwargs: object) -> int:
        raise _Killed("worker killed")

    monkeypatch.setattr(messages, "enqueue_messages", die)
    with pytest.raises(_Killed, match="worker killed"):
        run_due(store.engine, store.clock, store.catalog)
    # Then nothing of that batch was kept: all three are still due, no second message exists
    assert [s for s, *_ in enrollment_states(store)] == ["waiting"] * 3
    assert len(outbox(store)) == 3

    # When a healthy scheduler runs
    monkeypatch.undo()
    assert run_due(store.engine, store.clock, store.catalog) == 3
    # Then every journey finished exactly once
    assert sorted(key for key, _ in outbox(store)) == sorted(
        f"{i}:{step}:1" for i in (1, 2, 3) for step in ("first", "second")
    )
    assert run_due(store.engine, store.clock, store.catalog) == 0


def test_the_outbox_refuses_a_second_copy_of_a_step(store: Store) -> None:
    deploy(store, SERIES)
    subscriber(store, "u1")
    track(store, "u1", "signed_up")
    with store.engine.begin() as conn:
        (row,) = conn.execute(tables.messages.select()).mappings().all()
        copy = {k: v for k, v in row.items() if k != "id"}
        messages.enqueue_messages(conn, [copy])
    assert len(outbox(store)) == 1


@pytest.mark.postgres
def test_two_workers_claim_disjoint_batches(pg_store: Store) -> None:
    # SKIP LOCKED exists on PostgreSQL; SQLite's single writer needs no such claim.
    store, engine = pg_store, pg_store.engine
    deploy(store, SERIES)
    for user in range(10):
        subscriber(store, f"u{user}")
        track(store, f"u{user}", "signed_up")
    later = store.clock.now() + timedelta(days=3)
    with engine.connect() as one, engine.connect() as two:
        one.begin()
        two.begin()
        first = {s.state.id for s in enrollments.claim_due(one, later, 6)}
        second = {s.state.id for s in enrollments.claim_due(two, later, 6)}
        assert len(first) == 6 and len(second) == 4
        assert first.isdisjoint(second)
        one.rollback()
        two.rollback()


@pytest.mark.postgres
def test_two_writers_racing_to_enroll_one_contact_enroll_it_once(pg_store: Store) -> None:
    store = pg_store
    deploy(store, SERIES)
    subscriber(store, "u1")
    now = store.clock.now()
    with store.engine.connect() as first:
        # Given one transaction that has enrolled u1 but not committed
        first.begin()
        ingest_in(
            first, store.workspace_id, [Incoming("a", "u1", "signed_up", now)], now, Catalog()
        )
        # When a second writer enrolls u1 too (it waits on the first's uncommitted row)
        racer = ThreadPoolExecutor(1).submit(
            ingest,
            store.engine,
            store.workspace_id,
            [Incoming("b", "u1", "signed_up", now)],
            store.clock,
            Catalog(),
        )
        time.sleep(0.5)
        assert not racer.done()  # blocked by the unique index, not failed
        first.commit()
        second = racer.result(timeout=10)
    # Then the second retried, saw the committed journey, and refused
    assert second.enrolled == 0
    assert enrollment_states(store) == [("waiting", "pause", None)]
    assert len(outbox(store)) == 1
