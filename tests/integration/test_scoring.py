"""Lead scoring: points with caps, fit, decay over virtual months, thresholds that start the
sales hand-off, and every change explained on the contact's timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, identify, rows, stored_json, subscriber, track
from tidings.errors import SpecInvalid
from tidings.runtime.scoring import set_scoring
from tidings.runtime.segments import define_segment
from tidings.runtime.sweeps import sweep_scores

MODEL = """
scores:
  engagement:
    half_life: 30d
    rules:
      - {id: opens, event: email_opened, points: 2, cap: 6, per: 7d}
      - {id: pricing, event: page_viewed, where: 'event.url contains "/pricing"', points: 10}
      - {id: unsubscribed, event: unsubscribed, points: -20}
  fit:
    fit:
      - {id: big-company, when: 'contact.company_size >= 100', points: 15}
      - {id: saas, when: 'contact.industry == "saas"', points: 10}
thresholds:
  mql: {score: engagement, at: 20}
"""

HANDOFF = """
id: sales-handoff
name: Sales hand-off
trigger: {type: score, threshold: mql}
templates:
  hot: {subject: "Hot lead", text: "call them"}
steps:
  - {id: hot, type: send, template: hot, kind: transactional}
"""


def scores(store: Store, user: str) -> dict[str, Any]:
    [row] = rows(store, "SELECT scores FROM contacts WHERE external_id = :u", u=user)
    found: dict[str, Any] = stored_json(row[0])
    return found


def timeline(store: Store) -> list[str]:
    return [
        r[0] for r in rows(store, "SELECT detail FROM step_log WHERE action = 'scored' ORDER BY id")
    ]


def test_points_caps_thresholds_and_decay_over_months(store: Store) -> None:
    set_scoring(store.engine, store.workspace_id, yaml.safe_load(MODEL))
    deploy(store, HANDOFF)
    subscriber(store, "ann")
    for _ in range(5):
        track(store, "ann", "email_opened")
    assert scores(store, "ann")["engagement"] == 6  # five opens, capped at 6 a week
    assert timeline(store) == [
        "engagement +2 by rule opens: email_opened; now 2",
        "engagement +2 by rule opens: email_opened; now 4",
        "engagement +2 by rule opens: email_opened; now 6",
    ]
    track(store, "ann", "page_viewed", url="/blog")  # no rule matches: no points
    track(store, "ann", "page_viewed", url="/pricing")
    assert rows(store, "SELECT count(*) FROM messages")[0][0] == 0  # 16 < 20
    track(store, "ann", "page_viewed", url="/pricing/teams")
    assert scores(store, "ann")["engagement"] == 26
    crossed = rows(store, "SELECT properties FROM events WHERE name = 'score_crossed'")
    assert [stored_json(r[0])["direction"] for r in crossed] == ["up"]
    assert [r[0] for r in rows(store, "SELECT subject FROM messages")] == ["Hot lead"]

    store.clock.advance(timedelta(days=8))
    track(store, "ann", "email_opened")  # a new week: the cap has room again
    assert timeline(store)[-1].startswith("engagement +2 by rule opens")

    store.clock.advance(timedelta(days=22))  # 30 days after the first points
    assert sweep_scores(store.engine, store.clock, store.catalog) == 1
    # 26 points are 30 days old (half is left), 2 are 22 days old.
    assert scores(store, "ann")["engagement"] == round(13 + 2 * 0.5 ** (22 / 30), 2)
    crossed = rows(store, "SELECT properties FROM events WHERE name = 'score_crossed' ORDER BY id")
    assert [stored_json(r[0])["direction"] for r in crossed] == ["up", "down"]
    assert sweep_scores(store.engine, store.clock, store.catalog) == 0  # once a day at most

    store.clock.advance(timedelta(days=60))
    sweep_scores(store.engine, store.clock, store.catalog)
    assert scores(store, "ann")["engagement"] == round(3.25 + 2 * 0.5 ** (82 / 30), 2)
    assert rows(store, "SELECT count(*) FROM messages")[0][0] == 1  # only the one hand-off


def test_fit_points_follow_the_profile_and_never_fade(store: Store) -> None:
    set_scoring(store.engine, store.workspace_id, yaml.safe_load(MODEL))
    identify(store, "bob", company_size=150, industry="retail")
    assert scores(store, "bob")["fit"] == 15
    identify(store, "bob", industry="saas")
    identify(store, "bob", industry="saas")  # still saas: nothing new
    assert scores(store, "bob")["fit"] == 25
    identify(store, "bob", company_size=40)
    assert scores(store, "bob")["fit"] == 10
    assert timeline(store) == [
        "fit +15 by rule big-company: contact.company_size >= 100; now 15",
        'fit +10 by rule saas: contact.industry == "saas"; now 25',
        "fit -15 by rule big-company: no longer contact.company_size >= 100; now 10",
    ]
    store.clock.advance(timedelta(days=400))
    sweep_scores(store.engine, store.clock, store.catalog)
    assert scores(store, "bob")["fit"] == 10


def test_points_that_expire_and_a_segment_on_a_score(store: Store) -> None:
    set_scoring(
        store.engine,
        store.workspace_id,
        {
            "scores": {
                "engagement": {
                    "expire_after": "90d",
                    "rules": [{"id": "visit", "event": "visited", "points": 5}],
                }
            }
        },
    )
    define_segment(
        store.engine,
        store.workspace_id,
        "engaged",
        "Engaged",
        "contact.scores.engagement >= 10",
        store.clock.now(),
    )
    track(store, "cid", "visited")
    track(store, "cid", "visited")
    members = "SELECT count(*) FROM segment_members"
    assert rows(store, members)[0][0] == 1  # on the event that made it 10
    store.clock.advance(timedelta(days=89))
    sweep_scores(store.engine, store.clock, store.catalog)
    assert scores(store, "cid")["engagement"] == 10
    store.clock.advance(timedelta(days=2))
    sweep_scores(store.engine, store.clock, store.catalog)
    assert scores(store, "cid")["engagement"] == 0


def test_a_bad_model_names_each_mistake(store: Store) -> None:
    with pytest.raises(SpecInvalid) as info:
        set_scoring(
            store.engine,
            store.workspace_id,
            {
                "scores": {
                    "engagement": {
                        "half_life": "soon",
                        "rules": [{"id": "x", "event": "a", "points": 1, "where": "event.u =="}],
                    }
                },
                "thresholds": {"mql": {"score": "nope", "at": 5}},
            },
        )
    text = str(info.value)
    assert "scores.engagement.half_life" in text and "'soon' is not a duration" in text
    with pytest.raises(SpecInvalid, match="threshold mql is on an unknown score 'nope'"):
        set_scoring(
            store.engine,
            store.workspace_id,
            {"scores": {"e": {}}, "thresholds": {"mql": {"score": "nope", "at": 5}}},
        )
    with pytest.raises(SpecInvalid, match=r"scores.e.rules\[0\].where: the condition ends"):
        set_scoring(
            store.engine,
            store.workspace_id,
            {
                "scores": {
                    "e": {"rules": [{"id": "x", "event": "a", "points": 1, "where": "event.u =="}]}
                }
            },
        )


def test_two_awards_in_one_event_show_each_step_on_the_timeline(store: Store) -> None:
    model = """
    scores:
      engagement:
        rules:
          - {id: visit, event: page_viewed, points: 1}
          - {id: pricing, event: page_viewed, where: 'event.url contains "/pricing"', points: 10}
    """
    set_scoring(store.engine, store.workspace_id, yaml.safe_load(model))
    track(store, "ann", "page_viewed", url="/pricing")
    assert timeline(store) == [
        "engagement +1 by rule visit: page_viewed; now 1",
        'engagement +10 by rule pricing: page_viewed where event.url contains "/pricing"; now 11',
    ]


def test_a_faded_score_prints_without_float_noise(store: Store) -> None:
    model = """
    scores:
      engagement:
        half_life: 30d
        rules:
          - {id: signup, event: signed_up, points: 30}
          - {id: visit, event: page_viewed, points: 30}
    """
    set_scoring(store.engine, store.workspace_id, yaml.safe_load(model))
    deploy(
        store,
        """
        id: tell
        name: Tell the score
        trigger: {event: asked}
        templates:
          s: {subject: "Your score", text: "You have {{ contact.scores.engagement }} points"}
        steps:
          - {id: s, type: send, template: s, kind: transactional}
        """,
    )
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    store.clock.advance(timedelta(minutes=1))
    track(store, "ann", "page_viewed")  # 30 points a minute old are 29.99952
    assert scores(store, "ann")["engagement"] == 60
    track(store, "ann", "asked")
    [body] = [r[0] for r in rows(store, "SELECT body_text FROM messages")]
    assert body == "You have 60 points"
