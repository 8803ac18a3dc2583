"""Publishing a new version while people wait: journeys waiting in every kind of wait move
onto it (same step id, or mapped), each with a line on its timeline, and go on there through
the real scheduler, each message once; those whose wait cannot carry over stay and go on in
the old version."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, select, text

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, tick, track
from tidings.core.moves import MovePlan
from tidings.errors import SpecInvalid
from tidings.runtime import moves
from tidings.runtime.approvals import decide_approval
from tidings.runtime.ingest import Incoming, ingest
from tidings.storage import enrollments
from tidings.storage import moves as stored_moves
from tidings.storage.tables import approvals

V1 = """
id: waits
name: Every kind of wait
trigger: {event: signed_up}
templates:
  before: {subject: "Before", text: "x"}
  after: {subject: "After, version 1", text: "x"}
steps:
  - {id: hello, type: send, template: before}
  - id: route
    type: branch
    branches:
      - {when: 'event.kind == "timer"', next: pause}
      - {when: 'event.kind == "at"', next: before_start}
      - {when: 'event.kind == "local"', next: morning}
      - {when: 'event.kind == "event"', next: paid}
      - {when: 'event.kind == "events"', next: either}
      - {when: 'event.kind == "approval"', next: ask}
    else: legacy
  - {id: pause, type: wait, for: 2d, next: after}
  - {id: before_start, type: wait, at: "event.starts_at - 1h", next: after}
  - {id: morning, type: wait, until: {time: "09:00"}, next: after}
  - {id: paid, type: wait, event: paid, timeout: 3d, next: after}
  - id: either
    type: wait
    events: [{event: clicked}, {event: replied}]
    timeout: 3d
    next: after
  - {id: ask, type: approval, message: "Go on?", approvers: [lead@example.com], timeout: 2d, next: after}
  - {id: legacy, type: wait, for: 1d, next: after}
  - {id: after, type: send, template: after}
"""

# Version 2: `pause` is renamed `hold`, the payment gets five days, the reminder comes two
# hours before the start, the approval three days, `legacy` is gone, and the message after
# the waits is a new one.
V2 = (
    V1.replace('after: {subject: "After, version 1"', 'after: {subject: "After, version 2"')
    .replace("next: pause}", "next: hold}")
    .replace("{id: pause, type: wait", "{id: hold, type: wait")
    .replace("event: paid, timeout: 3d", "event: paid, timeout: 5d")
    .replace("event.starts_at - 1h", "event.starts_at - 2h")
    .replace(
        "approvers: [lead@example.com], timeout: 2d", "approvers: [lead@example.com], timeout: 3d"
    )
    .replace("  - {id: legacy, type: wait, for: 1d, next: after}\n", "")
    .replace("    else: legacy\n", "    else: after\n")
)

KINDS = ("timer", "at", "local", "event", "event_late", "events", "approval", "legacy")


def _start(store: Store) -> None:
    deploy(store, V1)
    starts_at = (store.clock.now() + timedelta(days=2)).isoformat()
    for user in KINDS:
        subscriber(store, user)
        kind = "event" if user == "event_late" else user
        track(store, user, "signed_up", kind=kind, starts_at=starts_at)
    deploy(store, V2)


def _subjects(store: Store, user: str) -> list[str]:
    """The emails the contact received (an approval's notices to its approvers are not)."""
    return [
        r[0]
        for r in rows(
            store,
            "SELECT m.subject FROM messages m JOIN contacts c ON c.id = m.contact_id"
            " WHERE c.external_id = :user AND m.channel = 'email' ORDER BY m.id",
            user=user,
        )
    ]


def _journey(store: Store, user: str) -> tuple[int, str | None, str]:
    [found] = rows(
        store,
        "SELECT e.version, e.step_id, e.status FROM enrollments e"
        " JOIN contacts c ON c.id = e.contact_id WHERE c.external_id = :user",
        user=user,
    )
    return found[0], found[1], found[2]


def test_the_dry_run_counts_moves_and_stays_and_changes_nothing(store: Store) -> None:
    _start(store)
    plan = moves.plan(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hold"}
    )
    table = {(line.from_step, line.to_step): (line.contacts, line.note) for line in plan.lines()}
    assert table == {
        ("pause", "hold"): (1, "deadline kept"),
        ("before_start", "before_start"): (
            1,
            "moment event.starts_at - 1h -> event.starts_at - 2h,"
            " worked out again for this contact",
        ),
        ("morning", "morning"): (1, "deadline kept"),
        ("paid", "paid"): (2, "timeout 3d -> 5d, counted from the wait's start"),
        ("either", "either"): (1, "deadline kept"),
        ("ask", "ask"): (1, "timeout 2d -> 3d, counted from the wait's start"),
        ("legacy", None): (
            1,
            "step legacy is not in the new version; map it with legacy=STEP",
        ),
    }
    assert plan.to_version == 2
    assert {_journey(store, user)[0] for user in KINDS} == {1}


def test_moved_journeys_go_on_in_the_new_version_and_the_stranded_in_the_old(
    store: Store,
) -> None:
    _start(store)
    done = moves.apply(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hold"}
    )
    assert (len(done.moves), len(done.stranded)) == (7, 1)
    assert _journey(store, "timer") == (2, "hold", "waiting")
    assert _journey(store, "legacy") == (1, "legacy", "waiting")
    lines = rows(
        store,
        "SELECT s.detail FROM step_log s JOIN contacts c ON c.id = s.contact_id"
        " WHERE c.external_id = 'timer' AND s.action = 'migrated'",
    )
    assert [r[0] for r in lines] == [
        "from version 1 step pause to version 2 step hold; deadline kept"
    ]
    # The pending approval follows its journey, with the new deadline.
    with store.engine.connect() as conn:
        expires_at = conn.execute(select(approvals.c.expires_at)).scalar_one()
        [reminder] = stored_moves.load_waiting(
            conn,
            [
                r[0]
                for r in rows(store, "SELECT id FROM enrollments WHERE step_id = 'before_start'")
            ],
        )
    assert expires_at == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    # The reminder's new moment, from the event's start: two hours before it, not one.
    assert reminder.state.wake_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    # The events and the decision reach the moved journeys on their new steps.
    track(store, "event", "paid")
    track(store, "events", "replied")
    [(approval_for,)] = rows(store, "SELECT enrollment_id FROM approvals")
    decide_approval(
        store.engine, store.clock, store.catalog, approval_for, approved=True, by="lead@example.com"
    )
    tick(store, timedelta(days=3, hours=1))
    for user in ("timer", "at", "local", "event", "events", "approval"):
        assert _subjects(store, user) == ["Before", "After, version 2"], user
    assert _subjects(store, "legacy") == ["Before", "After, version 1"]
    # The payment's wait now lasts five days from its start, not three.
    assert _journey(store, "event_late") == (2, "paid", "waiting")
    tick(store, timedelta(days=2))
    assert _subjects(store, "event_late") == ["Before", "After, version 2"]
    # Nothing more comes, however long the clock runs.
    tick(store, timedelta(days=30))
    assert sum(len(_subjects(store, user)) for user in KINDS) == 2 * len(KINDS)


def test_a_second_move_finds_nobody_left_but_the_stranded(store: Store) -> None:
    _start(store)
    moves.apply(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hold"}
    )
    again = moves.apply(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hold"}
    )
    assert (len(again.moves), len(again.stranded)) == (0, 1)
    assert len(rows(store, "SELECT id FROM step_log WHERE action = 'migrated'")) == 7


def test_a_journey_that_moved_on_before_the_move_is_left_alone(store: Store) -> None:
    _start(store)
    planned = moves.plan(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hold"}
    )
    assert any(m.from_step == "paid" for m in planned.moves)
    track(store, "event", "paid")  # between the dry run and the move
    moves.apply(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hold"}
    )
    assert _journey(store, "event")[0] == 1
    assert _subjects(store, "event") == ["Before", "After, version 1"]


def test_a_map_to_a_step_the_new_version_lacks_is_refused(store: Store) -> None:
    _start(store)
    with pytest.raises(SpecInvalid) as caught:
        moves.plan(
            store.engine, store.clock, store.catalog, store.workspace_id, "waits", {"pause": "hodl"}
        )
    [problem] = caught.value.problems
    assert problem.path == "map.pause"
    assert "no step 'hodl' in the new version" in problem.message


def _until_one_waits_on_a_lock(store: Store) -> None:
    """Return once a backend of this database waits for a row lock (or after a minute:
    then the move simply runs after the event, and the assertions still hold)."""
    deadline = time.monotonic() + 60
    with store.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            time.sleep(0.05)


@pytest.mark.postgres
def test_a_move_racing_an_event_waits_and_leaves_the_journey_the_event_moved_on(
    pg_store: Store,
) -> None:
    store = pg_store
    _start(store)
    done: list[MovePlan] = []
    mover = threading.Thread(
        target=lambda: done.append(
            moves.apply(
                store.engine, store.clock, store.catalog, store.workspace_id, "waits",
                {"pause": "hold"},
            )
        )
    )  # fmt: skip

    def while_the_event_holds_its_locks(_: Connection) -> None:
        # The move starts while the payment's transaction, not yet committed, has the
        # contact locked and the journey moved on: the move must wait, then see it.
        mover.start()
        _until_one_waits_on_a_lock(store)

    paid = Incoming("race-paid", "event", "paid", store.clock.now())
    ingest(
        store.engine, store.workspace_id, [paid], store.clock, store.catalog,
        then=while_the_event_holds_its_locks,
    )  # fmt: skip
    mover.join(120)
    [plan] = done
    assert sorted(m.from_step for m in plan.moves) == sorted(
        ["pause", "before_start", "morning", "paid", "either", "ask"]
    )  # the late payer moved; the one who paid did not
    assert _journey(store, "event") == (1, None, "completed")
    tick(store, timedelta(days=30))
    assert _subjects(store, "event") == ["Before", "After, version 1"]
    assert _subjects(store, "event_late") == ["Before", "After, version 2"]


@pytest.mark.postgres
def test_a_journey_a_worker_is_running_is_passed_by_and_reported_not_moved_under_it(
    pg_store: Store,
) -> None:
    store = pg_store
    _start(store)
    store.clock.advance(timedelta(days=1, minutes=1))  # `morning` and `legacy` are due
    busy = "a worker was running it during the move; run the move again"
    done: list[MovePlan] = []
    mover = threading.Thread(
        target=lambda: done.append(
            moves.apply(
                store.engine, store.clock, store.catalog, store.workspace_id, "waits",
                {"pause": "hold", "legacy": "hold"},
            )
        )
    )  # fmt: skip
    with store.engine.connect() as worker, worker.begin():
        claimed = enrollments.claim_due(worker, store.clock.now(), 10)  # a tick, mid-batch
        assert sorted(c.state.step_id or "" for c in claimed) == ["legacy", "morning"]
        mover.start()
        # The move passes the held journeys by, and waits only to write their timeline
        # lines (which name the journeys) until the worker is done.
        _until_one_waits_on_a_lock(store)
    mover.join(120)
    [plan] = done
    stayed = {(s.from_step, s.reason) for s in plan.stranded}
    assert stayed == {("legacy", busy), ("morning", busy)}
    assert len(plan.moves) == 6
    # Each journey that stays says so on its contact's timeline, the busy ones too.
    lines = rows(store, "SELECT step_id, detail FROM step_log WHERE action = 'not_migrated'")
    assert sorted(lines) == [
        ("legacy", f"stays on version 1 at legacy: {busy}"),
        ("morning", f"stays on version 1 at morning: {busy}"),
    ]
    assert _journey(store, "legacy") == (1, "legacy", "waiting")
    again = moves.apply(
        store.engine, store.clock, store.catalog, store.workspace_id, "waits",
        {"legacy": "hold"},
    )  # fmt: skip
    assert sorted((m.from_step, m.to_step) for m in again.moves) == [
        ("legacy", "hold"), ("morning", "morning"),
    ]  # fmt: skip
