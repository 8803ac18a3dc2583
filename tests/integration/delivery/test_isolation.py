"""One message that cannot be decided or composed fails alone; the round goes on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Row, text, update

from tests.integration.conftest import Store
from tests.integration.delivery.test_http_channels import crm_hook
from tests.integration.journeys import deploy, identify, rows, track
from tests.servers import HttpSink
from tidings.delivery.transports import Transports
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.dispatching import decisions
from tidings.runtime.supervision import LoopHealth
from tidings.storage import tables


def test_a_message_that_raises_while_composing_fails_alone(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    # Given two queued webhooks, one of them stored with headers that are not a mapping
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    for user in ("ann", "bob"):
        identify(store, user, email=f"{user}@example.com")
        track(store, user, "signed_up", plan="pro")
    [broken_id, good_id] = [r.id for r in rows(store, "SELECT id FROM messages ORDER BY id")]
    with store.engine.begin() as conn:
        conn.execute(
            update(tables.messages)
            .where(tables.messages.c.id == broken_id)
            .values(payload={"url": f"{receiver.url}/crm", "headers": ["not", "a", "mapping"]})
        )

    # When the dispatcher runs a round
    done = dispatcher.run_once()

    # Then the good one is sent, and the broken one is failed with its reason
    assert done.sent == 1
    assert [r.path for r in receiver.requests] == ["/crm"]
    status = {
        r.id: (r.status, r.last_error)
        for r in rows(store, "SELECT id, status, last_error FROM messages")
    }
    assert status[good_id] == ("sent", None)
    assert status[broken_id][0] == "failed"
    assert "AttributeError" in status[broken_id][1]
    # and the contact's timeline says so
    [line] = rows(
        store,
        "SELECT detail FROM step_log WHERE action = 'failed' AND contact_id = "
        "(SELECT contact_id FROM messages WHERE id = :id)",
        id=broken_id,
    )
    assert line.detail.startswith("internal error while deciding or composing: AttributeError")
    # and nothing is left to claim
    assert dispatcher.run_once().claimed == 0


class _Ticker:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _breaking_on(broken: int) -> Any:
    """`_decide_all`, where deciding a group that holds `broken`'s message runs a statement
    the database refuses."""
    real = decisions._decide_all

    def decide_all(how: decisions.Deciding, rows: list[Row[Any]], written: Any) -> Any:
        if any(row.id == broken for row in rows):
            how.conn.execute(text("SELECT 1 / 0"))  # a real SQL error, not an outage
        return real(how, rows, written)

    return decide_all


def test_a_message_whose_deciding_fails_in_sql_fails_alone_on_postgresql(
    pg_store: Store, channels: Transports, receiver: HttpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two queued webhooks on PostgreSQL, where a failed statement aborts the
    # transaction it runs in
    store = pg_store
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    for user in ("ann", "bob"):
        identify(store, user, email=f"{user}@example.com")
        track(store, user, "signed_up", plan="pro")
    [broken_id, good_id] = [r.id for r in rows(store, "SELECT id FROM messages ORDER BY id")]
    monkeypatch.setattr(decisions, "_decide_all", _breaking_on(broken_id))
    dispatcher = Dispatcher(store.engine, store.clock, channels, store.catalog)

    # When a round decides them, and deciding the first makes a statement fail
    done = dispatcher.run_once()

    # Then the other one is sent, and the first alone is failed with its reason
    assert (done.sent, done.failed) == (1, 1)
    assert [r.path for r in receiver.requests] == ["/crm"]
    status = {r.id: r.status for r in rows(store, "SELECT id, status FROM messages")}
    assert status == {broken_id: "failed", good_id: "sent"}
    [line] = rows(store, "SELECT detail FROM step_log WHERE action = 'failed'")
    assert line.detail.startswith("internal error while deciding or composing: DataError")
    # in one line: the statement and its values stay in the server's log
    assert "\n" not in line.detail and "[SQL:" not in line.detail
    # and the next round finds nothing left to claim: no stall on the same rows
    assert dispatcher.run_once().claimed == 0


def test_a_round_against_a_slow_relay_is_busy_not_stuck(
    store: Store, channels: Transports, receiver: HttpSink
) -> None:
    # Given three queued webhooks, and a relay that takes 20 s per call (on the health's
    # own clock, which moves only when the relay answers)
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    for user in ("ann", "bob", "cat"):
        identify(store, user, email=f"{user}@example.com")
        track(store, user, "signed_up", plan="pro")
    tick = _Ticker()
    dispatcher = Dispatcher(store.engine, store.clock, channels, store.catalog, concurrency=1)
    dispatcher.health = LoopHealth("dispatcher", monotonic=tick)
    dispatcher.health.began()
    seen: list[str | None] = []

    def slow(_request: Any) -> tuple[int, dict[str, str], bytes]:
        seen.append(dispatcher.health.problem())
        tick.now += 20
        return 200, {}, b"{}"

    receiver.respond = slow

    # When one round sends the three, a minute in all
    assert dispatcher.run_once().sent == 3

    # Then at no point was the dispatcher reported stuck: each send recorded is progress
    assert seen == [None, None, None]
