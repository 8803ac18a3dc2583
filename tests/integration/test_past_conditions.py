"""Conditions on the past: the behaviour rules segments have, in a workflow's entry and
branch conditions, counted from the contact's stored events when the step runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, tick, track
from tidings.storage import events as event_store

NUDGE = """
id: nudge
name: Cart nudge
trigger: {event: cart_abandoned}
entry: {when: 'not performed order_completed within 1d'}
templates:
  keen: {subject: "Still thinking about it?", text: "x"}
  big: {subject: "For our best customers", text: "x"}
  plain: {subject: "Your cart", text: "x"}
steps:
  - {id: wait, type: wait, for: 1h}
  - id: which
    type: branch
    branches:
      - when: 'performed product_viewed where event.product_id == trigger.product_id at least 2 times within 3d'
        next: keen
      - {when: 'total event.revenue of order_completed within 90d > 200', next: big}
    else: plain
  - {id: keen, type: send, template: keen, next: done}
  - {id: big, type: send, template: big, next: done}
  - {id: plain, type: send, template: plain}
  - {id: done, type: exit}
"""


def test_a_branch_and_an_entry_condition_read_the_contacts_past(store: Store) -> None:
    deploy(store, NUDGE)
    for user in ("ann", "bob", "cy", "dee"):
        subscriber(store, user)
    track(store, "ann", "product_viewed", product_id="p1")
    track(store, "bob", "order_completed", revenue=250)
    track(store, "bob", "product_viewed", product_id="p2")
    track(store, "bob", "product_viewed", product_id="p2")
    track(store, "cy", "product_viewed", product_id="p1")
    store.clock.advance(timedelta(days=2))
    track(store, "ann", "product_viewed", product_id="p1")
    track(store, "bob", "product_viewed", product_id="p1")
    track(store, "dee", "order_completed", revenue=10)
    for user in ("ann", "bob", "cy", "dee"):
        track(store, user, "cart_abandoned", product_id="p1")
    tick(store, timedelta(hours=1))
    subjects = dict(
        rows(
            store,
            "SELECT c.external_id, m.subject FROM messages m JOIN contacts c"
            " ON c.id = m.contact_id",
        )
    )
    # Ann viewed this product twice in three days; Bob viewed it once (p2 does not count)
    # but spent 250; Cy neither; Dee ordered today, so never entered.
    assert subjects == {
        "ann": "Still thinking about it?",
        "bob": "For our best customers",
        "cy": "Your cart",
    }
    [why] = rows(store, "SELECT detail FROM step_log WHERE action = 'not_enrolled'")
    assert "performed order_completed within 1d" in why[0]


def test_a_window_counts_back_from_when_the_step_runs(store: Store) -> None:
    deploy(
        store,
        """
        id: recent
        name: Recent
        trigger: {event: signed_in}
        templates:
          fresh: {subject: "Welcome back, reader", text: "x"}
        steps:
          - {id: wait, type: wait, for: 2d}
          - id: which
            type: branch
            branches: [{when: 'performed article_read within 1d', next: fresh}]
            else: done
          - {id: fresh, type: send, template: fresh}
          - {id: done, type: exit}
        """,
    )
    subscriber(store, "ann")
    track(store, "ann", "article_read")
    track(store, "ann", "signed_in")
    # Read at sign-in, but two days before the branch runs: outside its one-day window.
    tick(store, timedelta(days=2))
    assert rows(store, "SELECT subject FROM messages") == []


def test_the_event_at_hand_counts_in_its_own_history(store: Store) -> None:
    deploy(
        store,
        """
        id: third
        name: Third view
        trigger: {event: product_viewed}
        entry: {when: 'performed product_viewed at least 3 times within 1d'}
        steps:
          - {id: wait, type: wait, for: 1d}
        """,
    )
    track(store, "ann", "product_viewed")
    track(store, "ann", "product_viewed")
    assert rows(store, "SELECT id FROM enrollments") == []
    track(store, "ann", "product_viewed")
    assert len(rows(store, "SELECT id FROM enrollments")) == 1


def test_deploying_a_rule_on_an_event_never_received_warns_with_did_you_mean(
    store: Store,
) -> None:
    from tests.integration.api.people import secret_key, served

    track(store, "ann", "product_viewed")
    key = secret_key(store)
    for client in served(store):
        deployed = client.post(
            "/api/workflows",
            headers={"Authorization": f"Bearer {key}"},
            content=NUDGE.replace("performed product_viewed", "performed product_veiwed"),
        )
        assert deployed.status_code == 201, deployed.text
        [warning] = [w for w in deployed.json()["warnings"] if "product_veiwed" in w["message"]]
        assert warning["message"] == "no 'product_veiwed' event has been received lately"
        assert warning["hint"] == "did you mean product_viewed?"


KEEN = """
id: keen
name: Keen reader
trigger: {event: signed_in}
entry: {when: 'performed page_viewed where event.path contains "/pricing" more than 3 times'}
steps:
  - {id: wait, type: wait, for: 1d}
"""


def test_a_rule_without_a_window_is_added_up_by_the_database_not_read_row_by_row(
    store: Store,
) -> None:
    # Every ingest runs the rule for the contact; its events are summed in SQL, so a
    # contact's hundred thousand page views are never read into memory.
    deploy(store, KEEN)
    for path in ("/pricing", "/pricing/teams", "/blog", "/pricing", "/pricing"):
        track(store, "ann", "page_viewed", path=path)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sqlalchemy.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        track(store, "ann", "signed_in")
    finally:
        sqlalchemy.event.remove(store.engine, "before_cursor_execute", seen)
    assert len(rows(store, "SELECT id FROM enrollments")) == 1  # four pricing views
    assert not [s for s in statements if "SELECT" in s and "events.properties" in s]


def test_a_rule_the_database_cannot_add_up_counts_among_the_newest_events(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A `where` on the trigger is evaluated in memory, over at most HISTORY_ROWS events.
    monkeypatch.setattr(event_store, "HISTORY_ROWS", 3)
    deploy(
        store,
        """
        id: again
        name: Again
        trigger: {event: product_viewed}
        entry: {when: 'performed product_viewed where event.sku == trigger.sku at least 4 times'}
        steps:
          - {id: wait, type: wait, for: 1d}
        """,
    )
    for _ in range(5):
        track(store, "ann", "product_viewed", sku="a")
    assert rows(store, "SELECT id FROM enrollments") == []
