"""Attribution models on journeys built by hand, where the right split can be worked out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidings.core.attribution import MODELS, Conversion, Touch, attribute, credits

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def journey(*steps: tuple[float, str, str]) -> list[Touch]:
    """Touches at `days` after T0, from (workflow, step)."""
    return [Touch(T0 + days * DAY, workflow, step) for days, workflow, step in steps]


# A welcome email, a cart reminder, a cart discount, then an order of 100 on day 4.
FOUR_TOUCHES = journey(
    (0, "welcome", "hello"),
    (1, "cart", "reminder"),
    (2, "cart", "discount"),
    (3, "reengage", "we_miss_you"),
)
ORDER = Conversion(contact_id=1, at=T0 + 4 * DAY, revenue=100.0)


def by_workflow(model: str, half_life: timedelta = DAY) -> dict[str, tuple[float, float]]:
    found = attribute([ORDER], {1: FOUR_TOUCHES}, window=30 * DAY, half_life=half_life)
    return {
        k: (round(c.conversions, 6), round(c.revenue, 4))
        for k, c in found.by_workflow[model].items()
    }


def test_first_and_last_touch_give_everything_to_one_end() -> None:
    assert by_workflow("first_touch") == {
        "welcome": (1.0, 100.0),
        "cart": (0.0, 0.0),
        "reengage": (0.0, 0.0),
    }
    assert by_workflow("last_touch")["reengage"] == (1.0, 100.0)
    assert by_workflow("last_touch")["welcome"] == (0.0, 0.0)


def test_linear_shares_equally_and_sums_per_workflow() -> None:
    assert by_workflow("linear") == {
        "welcome": (0.25, 25.0),
        "cart": (0.5, 50.0),
        "reengage": (0.25, 25.0),
    }


def test_position_based_is_40_20_40() -> None:
    # First 40, last 40, the two in the middle share 20: 10 each, both from the cart flow.
    assert by_workflow("position") == {
        "welcome": (0.4, 40.0),
        "cart": (0.2, 20.0),
        "reengage": (0.4, 40.0),
    }
    assert credits("position", FOUR_TOUCHES[:2], ORDER.at, DAY) == [0.5, 0.5]
    assert credits("position", FOUR_TOUCHES[:1], ORDER.at, DAY) == [1.0]


def test_time_decay_halves_per_half_life() -> None:
    # Ages 4, 3, 2, 1 days with a one-day half-life: weights 1/16, 1/8, 1/4, 1/2 of 15/16.
    shares = credits("time_decay", FOUR_TOUCHES, ORDER.at, DAY)
    assert shares == pytest.approx([1 / 15, 2 / 15, 4 / 15, 8 / 15])
    # A half-life far longer than the journey tends to linear.
    assert credits("time_decay", FOUR_TOUCHES, ORDER.at, 10_000 * DAY) == pytest.approx(
        [0.25] * 4, abs=1e-3
    )
    assert by_workflow("time_decay")["cart"] == pytest.approx((6 / 15, 40.0))


def test_every_model_credits_each_conversion_exactly_once() -> None:
    touches = {
        1: FOUR_TOUCHES,
        2: journey((2.5, "cart", "reminder")),
        3: journey((1, "welcome", "hello"), (3.9, "cart", "reminder")),
    }
    orders = [ORDER, Conversion(2, T0 + 3 * DAY, 40.0), Conversion(3, T0 + 4 * DAY, 60.0)]
    found = attribute(orders, touches, window=30 * DAY, half_life=DAY)
    for model in MODELS:
        assert sum(c.conversions for c in found.by_workflow[model].values()) == pytest.approx(3)
        assert sum(c.revenue for c in found.by_step[model].values()) == pytest.approx(200.0)
    assert found.conversions == 3 and found.revenue == 200.0 and found.untouched == 0


def test_the_window_and_the_order_of_time_decide_which_touches_count() -> None:
    touches = {
        1: journey(
            (-20, "old", "long_ago"),  # outside a 7-day window
            (4, "cart", "at_the_moment"),  # same instant as the order: counts
            (5, "late", "after"),  # after the order: cannot have caused it
            (2, "cart", "reminder"),  # out of order in the input
        )
    }
    found = attribute([ORDER], touches, window=7 * DAY, half_life=DAY)
    steps = found.by_step["first_touch"]
    assert set(steps) == {("cart", "reminder"), ("cart", "at_the_moment")}
    assert steps[("cart", "reminder")].conversions == 1.0
    assert "old" not in found.by_workflow["linear"] and "late" not in found.by_workflow["linear"]


def test_a_conversion_no_message_touched_is_counted_apart() -> None:
    found = attribute(
        [ORDER, Conversion(9, T0, 30.0)], {1: FOUR_TOUCHES}, window=30 * DAY, half_life=DAY
    )
    assert (found.untouched, found.untouched_revenue) == (1, 30.0)
    assert found.revenue == 130.0


def test_unknown_model_is_named() -> None:
    with pytest.raises(ValueError, match="unknown attribution model 'u_shaped'"):
        credits("u_shaped", FOUR_TOUCHES, ORDER.at, DAY)
