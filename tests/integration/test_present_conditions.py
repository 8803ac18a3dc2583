"""Conditions on the present: the segments a contact is in (`contact.segments`) and the
workflows they have a journey running in (`contact.journeys`)."""

from __future__ import annotations

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, track
from tidings.runtime.segments import define_segment

CART = """
id: cart
name: Cart
trigger: {event: cart_abandoned}
steps:
  - {id: wait, type: wait, for: 1d}
"""

BROWSE = """
id: browse
name: Browse abandonment
trigger: {event: product_viewed}
entry: {when: 'not (contact.journeys contains "cart")'}
steps:
  - {id: wait, type: wait, for: 1d}
"""


def journeys(store: Store, user: str) -> list[str]:
    return [
        r[0]
        for r in rows(
            store,
            "SELECT w.key FROM enrollments e JOIN workflows w ON w.id = e.workflow_id"
            " JOIN contacts c ON c.id = e.contact_id WHERE c.external_id = :u ORDER BY e.id",
            u=user,
        )
    ]


def test_no_browse_journey_while_a_cart_journey_runs(store: Store) -> None:
    deploy(store, CART)
    deploy(store, BROWSE)
    track(store, "ann", "cart_abandoned")
    track(store, "ann", "product_viewed")
    track(store, "bob", "product_viewed")
    assert journeys(store, "ann") == ["cart"]
    assert journeys(store, "bob") == ["browse"]
    [why] = rows(store, "SELECT detail FROM step_log WHERE action = 'not_enrolled'")
    assert 'contact.journeys contains "cart"' in why[0]


def test_a_branch_on_segment_membership(store: Store) -> None:
    deploy(
        store,
        """
        id: offer
        name: Offer
        trigger: {event: signed_in}
        templates:
          vip: {subject: "For our VIPs", text: "x"}
          all: {subject: "For you", text: "x"}
        steps:
          - id: which
            type: branch
            branches:
              - {when: 'contact.segments contains "vip"', next: vip}
            else: all
          - {id: vip, type: send, template: vip, next: done}
          - {id: all, type: send, template: all}
          - {id: done, type: exit}
        """,
    )
    subscriber(store, "ann", plan="pro")
    subscriber(store, "bob", plan="free")
    vip = 'contact.plan == "pro"'
    define_segment(store.engine, store.workspace_id, "vip", "VIP", vip, store.clock.now())
    track(store, "ann", "signed_in")
    track(store, "bob", "signed_in")
    subjects = dict(
        rows(
            store,
            "SELECT c.external_id, m.subject FROM messages m JOIN contacts c"
            " ON c.id = m.contact_id",
        )
    )
    assert subjects == {"ann": "For our VIPs", "bob": "For you"}
