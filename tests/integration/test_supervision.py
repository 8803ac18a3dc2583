"""The scheduler and the dispatcher outlive what goes wrong: a journey that raises fails
alone, a database that goes away pauses the loops, and reads never take SQLite's write lock."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update

from tests.integration.conftest import PG_ADMIN_URL, Store
from tests.integration.journeys import deploy, outbox, rows, subscriber, track
from tidings.delivery.netguard import NetGuard
from tidings.delivery.transports import Transports
from tidings.delivery.webhooks import HttpChannel
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.loop import SchedulerLoop
from tidings.runtime.scheduler import run_due
from tidings.storage import tables
from tidings.storage.engine import create_engine
from tidings.storage.workflows import Catalog

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

NURTURE = """
id: nurture
name: Nurture
trigger: {event: signed_up}
templates:
  n: {subject: "N", text: "n"}
steps:
  - {id: later, type: wait, for: 1h}
  - {id: nudge, type: send, template: n}
"""


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll until `condition` holds; fail naming `what` if it never does."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


def test_a_journey_that_raises_fails_alone_with_its_reason(store: Store) -> None:
    # Given two workflows on one trigger, and two contacts in both
    deploy(store, SERIES)
    broken = deploy(store, NURTURE)
    for user in ("u1", "u2"):
        subscriber(store, user)
        track(store, user, "signed_up")
    # and one workflow's stored version that no longer loads (a bug, a bad value)
    with store.engine.begin() as conn:
        conn.execute(
            update(tables.workflow_versions)
            .where(tables.workflow_versions.c.workflow_id == broken)
            .values(spec={"id": "nurture", "steps": "not a list"})
        )
    store.clock.advance(timedelta(hours=2))

    # When the scheduler runs the four due journeys in one batch
    assert run_due(store.engine, store.clock, Catalog()) == 4

    # Then the healthy ones went on
    assert sorted(subject for _, subject in outbox(store)) == ["A", "A", "B", "B"]
    # and the broken ones failed, with the reason on each contact's timeline
    failed = rows(
        store,
        "SELECT status, exit_reason, ended_at FROM enrollments WHERE workflow_id = :w",
        w=broken,
    )
    assert [r.status for r in failed] == ["failed", "failed"]
    assert all(r.exit_reason.startswith("failed at step later: ValidationError") for r in failed)
    assert all(r.ended_at is not None for r in failed)
    lines = rows(
        store,
        "SELECT detail FROM step_log WHERE action = 'failed' AND workflow_id = :w",
        w=broken,
    )
    assert len(lines) == 2
    assert all("ValidationError" in line.detail for line in lines)
    # and a failed journey is not due again
    store.clock.advance(timedelta(hours=2))
    assert run_due(store.engine, store.clock, Catalog()) == 0


def test_a_read_held_open_does_not_block_ingest(store: Store) -> None:
    deploy(store, SERIES)
    subscriber(store, "u1")
    # Given a long read (a report, an export) with its transaction open
    with store.engine.connect() as reading:
        reading.execute(text("SELECT count(*) FROM events")).scalar_one()
        # When an event is ingested meanwhile
        report = track(store, "u1", "signed_up")
        # Then it is stored at once (on SQLite it would otherwise wait for the lock and fail)
        assert (report.stored, report.enrolled) == (1, 1)
    assert len(outbox(store)) == 1


@contextmanager
def _loops(store: Store) -> Iterator[tuple[SchedulerLoop, Dispatcher]]:
    """The scheduler and the dispatcher running in threads, as `tidings serve` runs them."""
    scheduler = SchedulerLoop(store.engine, store.clock, store.catalog)
    dispatcher = Dispatcher(
        store.engine, store.clock, Transports("https://t.example", HttpChannel(NetGuard()))
    )
    threads = [
        threading.Thread(target=scheduler.run, name="scheduler", daemon=True),
        threading.Thread(target=dispatcher.run, name="dispatcher", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield scheduler, dispatcher
    finally:
        scheduler.stop.set()
        dispatcher.stop.set()
        for thread in threads:
            thread.join(60)
        dispatcher.close()


@contextmanager
def _database_down(engine: Engine) -> Iterator[None]:
    """Refuse new connections to `engine`'s database and cut the open ones, as a
    PostgreSQL restart does, without restarting the server other tests share."""
    name = engine.url.database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        admin.dispose()


def test_the_loops_pause_while_postgresql_is_down_and_resume_after(pg_store: Store) -> None:
    store = pg_store
    deploy(store, SERIES)
    subscriber(store, "u1")
    track(store, "u1", "signed_up")
    with _loops(store) as (scheduler, dispatcher):
        _wait_until(
            lambda: (
                scheduler.health.last_good_at is not None
                and dispatcher.health.last_good_at is not None
            ),
            "a first good round of each loop",
        )
        # When the database goes away for a while
        with _database_down(store.engine):
            _wait_until(
                lambda: scheduler.health.failures >= 2 and dispatcher.health.failures >= 2,
                "both loops to notice the outage",
            )
        # Then both loops come back by themselves and do their work
        store.clock.advance(timedelta(minutes=2))
        _wait_until(lambda: len(outbox(store)) == 2, "the second step after the outage")
        _wait_until(
            lambda: scheduler.health.failures == 0 and dispatcher.health.failures == 0,
            "both loops to report a good round",
        )
        assert "OperationalError" in (scheduler.health.last_error or "")
        assert "OperationalError" in (dispatcher.health.last_error or "")
    assert [subject for _, subject in outbox(store)] == ["A", "B"]


def test_sqlite_writers_of_one_process_queue_instead_of_failing(
    sqlite_template: Path, tmp_path: Path
) -> None:
    # Given a SQLite database whose busy timeout is shorter than a writer's transaction
    path = tmp_path / "tidings.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}", busy_seconds=0.1)
    holding, done = threading.Event(), threading.Event()

    def long_writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE workspaces SET name = name"))
            holding.set()
            done.wait(30)

    first = threading.Thread(target=long_writer)
    first.start()
    holding.wait(30)
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE workspaces SET name = name"))
        except BaseException as exc:
            errors.append(exc)

    # When another thread writes while the first still holds the lock, past the timeout
    second = threading.Thread(target=second_writer)
    second.start()
    second.join(0.5)
    assert second.is_alive(), errors  # waiting its turn, not failed with "database is locked"
    done.set()
    first.join(30)
    second.join(30)
    # Then it wrote once the first was done
    assert errors == []
    # and a write that fails hands the turn on as well
    with pytest.raises(ZeroDivisionError), engine.begin() as conn:
        conn.execute(text("UPDATE workspaces SET name = name"))
        raise ZeroDivisionError
    third = threading.Thread(target=second_writer)
    third.start()
    third.join(30)
    assert errors == []
    engine.dispose()


def test_a_failing_sweep_does_not_hold_up_due_journeys(store: Store) -> None:
    # Given a due journey, and a live workflow whose stored version no longer loads, which
    # makes the time-trigger sweep raise
    deploy(store, SERIES)
    broken = deploy(store, NURTURE)
    subscriber(store, "u1")
    track(store, "u1", "signed_up")
    with store.engine.begin() as conn:
        conn.execute(
            update(tables.workflow_versions)
            .where(tables.workflow_versions.c.workflow_id == broken)
            .values(spec={"id": "nurture", "steps": "not a list"})
        )
    store.clock.advance(timedelta(minutes=2))
    loop = SchedulerLoop(store.engine, store.clock, Catalog())

    # When the loop runs a round
    loop.run_once()

    # Then the sweep's failure is recorded, and the due step ran all the same
    # on the sweeps' own health, which /readyz reports (the round itself went well)
    assert "ValidationError" in (loop.sweeps_health.last_error or "")
    assert [subject for _, subject in outbox(store)] == ["A", "B"]
