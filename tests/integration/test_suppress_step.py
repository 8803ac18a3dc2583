"""Suppression as a state: a workflow's `suppress` step holds the contact back from
marketing in every workflow, lets transactional messages through, and fresh consent
lifts it."""

from __future__ import annotations

from tests.integration.conftest import Store
from tests.integration.journeys import consent_of, deploy, identify, rows, subscriber, track

SUNSET = """
id: sunset
name: Sunset
trigger: {event: gone_quiet}
steps:
  - {id: stop, type: suppress, channel: email, reason: sunset}
"""

NEWS = """
id: news
name: News
trigger: {event: news}
entry: {reentry: always}
templates:
  n: {subject: "News", text: "news"}
  r: {subject: "Receipt", text: "receipt"}
steps:
  - {id: n, type: send, template: n}
  - {id: r, type: send, template: r, kind: transactional}
"""


def subjects(store: Store) -> list[str]:
    return [r[0] for r in rows(store, "SELECT subject FROM messages ORDER BY id")]


def test_a_suppressed_contact_gets_no_marketing_until_they_consent_again(store: Store) -> None:
    deploy(store, SUNSET)
    deploy(store, NEWS)
    subscriber(store, "ann")
    track(store, "ann", "gone_quiet")
    assert consent_of(store, "ann")["email"] == "suppressed"
    [line] = rows(store, "SELECT detail FROM step_log WHERE action = 'suppressed'")
    assert line[0] == "suppressed from email marketing: sunset"

    # Another workflow needs no tag to check: its marketing is held, the receipt goes.
    track(store, "ann", "news")
    assert subjects(store) == ["Receipt"]
    held = rows(store, "SELECT detail FROM step_log WHERE action = 'held'")
    assert any("status: suppressed" in h[0] for h in held)

    # Subscribing again is fresh consent: marketing flows again.
    subscriber(store, "ann")
    track(store, "ann", "news")
    assert subjects(store) == ["Receipt", "News", "Receipt"]


def test_suppress_never_overwrites_a_withdrawal(store: Store) -> None:
    deploy(store, SUNSET)
    subscriber(store, "bob")
    identify(store, "bob", consent={"email": "unsubscribed"})
    track(store, "bob", "gone_quiet")
    assert consent_of(store, "bob")["email"] == "unsubscribed"
