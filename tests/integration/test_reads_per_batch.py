"""A scheduler batch reads its contacts' journeys in one query, and each due step still sees
the workflows its own contact is in (`contact.journeys`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, track
from tidings.runtime.scheduler import run_due

CART = """
id: cart
name: Cart
trigger: {event: cart_abandoned}
steps:
  - {id: wait, type: wait, for: 10d}
"""

FOLLOW_UP = """
id: follow
name: Follow-up
trigger: {event: signed_up}
templates:
  cart: {subject: "Your cart", text: "x"}
  hello: {subject: "Hello", text: "x"}
steps:
  - {id: pause, type: wait, for: 1d}
  - id: which
    type: branch
    branches:
      - {when: 'contact.journeys contains "cart"', next: cart}
    else: hello
  - {id: cart, type: send, template: cart, next: done}
  - {id: hello, type: send, template: hello}
  - {id: done, type: exit}
"""


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The statements the engine sends inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_a_batch_reads_journeys_once_and_each_contact_sees_its_own(store: Store) -> None:
    deploy(store, CART)
    deploy(store, FOLLOW_UP)
    users = [f"u{i}" for i in range(6)]
    for user in users:
        subscriber(store, user)
        track(store, user, "signed_up")
    for user in users[::2]:  # u0, u2, u4 have a cart journey running
        track(store, user, "cart_abandoned")
    store.clock.advance(timedelta(days=1))

    with statements(store) as sent:
        assert run_due(store.engine, store.clock, store.catalog) == 6

    # The claim (on PostgreSQL its locked ids, then their rows; on SQLite, which locks no
    # rows, one statement), then one read for the batch's six contacts' journeys
    reads = [s for s in sent if s.startswith("SELECT") and " FROM enrollments" in s]
    claim = 2 if store.engine.dialect.name == "postgresql" else 1
    assert len(reads) == claim + 1, [r[-60:] for r in reads]
    subjects = dict(
        rows(
            store,
            "SELECT c.external_id, m.subject FROM messages m"
            " JOIN contacts c ON c.id = m.contact_id WHERE m.step_id IN ('cart', 'hello')",
        )
    )
    assert subjects == {u: ("Your cart" if u in users[::2] else "Hello") for u in users}


def test_a_round_with_nothing_due_only_claims(store: Store) -> None:
    deploy(store, FOLLOW_UP)
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    with statements(store) as sent:
        assert run_due(store.engine, store.clock, store.catalog) == 0
    # Most rounds find nothing due: they open no savepoint for the journeys they do not run
    assert not [s for s in sent if s.startswith("SAVEPOINT")], sent
