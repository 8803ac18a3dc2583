"""Simulated stores with a known truth, read back through the reports.

With a planted effect (one variant truly clicked more, a workflow whose messages really move
people), the reports must find it; with none (equal variants, and a "treated" path that sends
nothing, so treated and holdout are alike), they must declare no winner and no lift.

Each run has a fixed seed, so it is reproducible. At a 5% level, about one seed in twenty
would show a false winner by chance; how often that happens is checked in the statistics'
own tests (tests/unit/core/test_stats.py), here the whole path from behaviour to verdict.
Seeds 1 to 4 gave the same verdicts as the seed used here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tidings.core import validate_workflow
from tidings.reporting.build import Report, build_report
from tidings.simulation.scenario import DEMO_SETTINGS, run_scenario
from tidings.storage.engine import create_engine

CART = """
id: cart
name: Cart reminder
trigger: {type: event, event: cart_abandoned}
entry: {reentry: per_key, key: event.cart_id, when: 'consent.email == "subscribed"'}
goal: {event: order_completed, within: 3d, revenue: revenue}
templates:
  plain: {subject: "Your cart", html: '<p><a href="https://shop.example/cart">Back to cart</a></p>'}
  bold: {subject: "Your cart is waiting", html: '<p><a href="https://shop.example/cart">Take me there</a></p>'}
steps:
  - id: split
    type: split
    paths:
      - {name: treated, percent: 50, next: remind}
      - {name: holdout, percent: 50, next: hold, holdout: true}
  - id: remind
    type: send
    variants: [{name: plain, template: plain}, {name: bold, template: bold}]
    winner: {metric: clicks, choose: promote, min_sample: 100}
  - {id: wait, type: wait, for: 3d, next: done}
  - {id: done, type: exit, reason: finished}
  - {id: hold, type: wait, for: 3d, next: hold_done}
  - {id: hold_done, type: exit, reason: held out}
"""

#: Treated and held out alike: neither is ever messaged, so there is no lift to find.
A_A = """
id: cart
name: Cart, nothing sent
trigger: {type: event, event: cart_abandoned}
entry: {reentry: per_key, key: event.cart_id, when: 'consent.email == "subscribed"'}
goal: {event: order_completed, within: 3d, revenue: revenue}
steps:
  - id: split
    type: split
    paths:
      - {name: treated, percent: 50, next: idle}
      - {name: holdout, percent: 50, next: hold, holdout: true}
  - {id: idle, type: wait, for: 3d, next: done}
  - {id: hold, type: wait, for: 3d, next: done}
  - {id: done, type: exit, reason: finished}
"""


def simulate(tmp_path: Path, source: str, appeal: dict[str, float]) -> Report:
    spec, problems = validate_workflow(yaml.safe_load(source))
    assert spec is not None, [str(p) for p in problems]
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        result = run_scenario(
            engine,
            [(spec, source)],
            contacts=4000,
            days=21,
            seed=11,
            settings=DEMO_SETTINGS,
            appeal=appeal,
        )
        with engine.connect() as conn:
            return build_report(conn, result.workspace_id, result.catalog, result.ended_at)
    finally:
        engine.dispose()


def test_a_truly_better_variant_wins_and_a_working_flow_shows_its_lift(tmp_path: Path) -> None:
    # Opened, the bold reminder is clicked six times as often as people's habit says (up to
    # certainty), the plain one as usual; a click often ends in the order, so the flow
    # lifts conversions by several points.
    report = simulate(tmp_path, CART, {"bold": 6.0})
    (test,) = report.experiments
    assert test.metric == "click rate"
    assert test.winner == "bold"
    arms = {a.name: a for a in test.arms}
    assert arms["bold"].click_rate is not None and arms["plain"].click_rate is not None
    assert arms["bold"].click_rate > 1.5 * arms["plain"].click_rate
    # Once bold won, the send promoted it: from then on every message was bold.
    assert arms["bold"].assigned > 1.3 * arms["plain"].assigned
    (lift,) = report.lifts
    assert lift.conversion is not None and lift.conversion.low > 0
    assert lift.incremental_revenue is not None and lift.incremental_revenue[0] > 0
    assert lift.conclusion.startswith("the workflow works")


def test_with_no_effect_no_winner_and_no_lift_is_declared(tmp_path: Path) -> None:
    # Equal variants; then a "treated" path that sends nothing (an A/A test of the lift).
    equal = simulate(tmp_path, CART, {})
    (test,) = equal.experiments
    assert test.winner is None
    assert not any(
        v.verdict.endswith("is better") for v in test.comparisons if v.metric == "click rate"
    )
    arms = {a.name: a.assigned for a in test.arms}
    assert 0.8 < arms["bold"] / arms["plain"] < 1.25  # never promoted: still an even split

    (tmp_path / "store.db").unlink()
    alike = simulate(tmp_path, A_A, {})
    (lift,) = alike.lifts
    assert lift.conversion is not None
    assert lift.conversion.low < 0 < lift.conversion.high
    assert not lift.conclusion.startswith("the workflow works")
