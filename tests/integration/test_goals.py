"""One order is one conversion: with a journey per cart, buying one cart converts that
cart's journey only, and the report counts its revenue once."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, subscriber, tick, track
from tidings.storage.reports import workflow_figures

CART = """
id: cart
name: Cart recovery
trigger: {event: cart_abandoned}
entry: {reentry: per_key, key: event.cart_id}
goal: {event: order_completed, within: 3d, revenue: revenue}
steps:
  - {id: wait, type: wait, for: 1d}
  - {id: done, type: exit}
"""


def test_buying_one_cart_converts_its_journey_only_and_counts_once(store: Store) -> None:
    deploy(store, CART)
    subscriber(store, "ann")
    track(store, "ann", "cart_abandoned", cart_id="a")
    tick(store, timedelta(minutes=10))
    track(store, "ann", "cart_abandoned", cart_id="b")

    track(store, "ann", "order_completed", cart_id="b", revenue=80)

    assert enrollment_states(store) == [
        ("waiting", "wait", None),  # cart a goes on: it was not bought
        ("exited", "wait", "goal: order_completed"),
    ]
    with store.engine.connect() as conn:
        (figures,) = workflow_figures(conn, store.workspace_id, store.catalog)
    assert (figures.entered, figures.converted, figures.revenue) == (2, 1, 80.0)
