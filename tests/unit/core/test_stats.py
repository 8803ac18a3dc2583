"""Experiment statistics against textbook and published values."""

from __future__ import annotations

import math
import random

import pytest

from tidings.core.stats import (
    Sample,
    compare_means,
    compare_rates,
    holdout_lift,
    student_t_cdf,
    student_t_quantile,
    verdict,
)


def sample(values: list[float]) -> Sample:
    return Sample(len(values), sum(values), sum(v * v for v in values))


@pytest.mark.parametrize(
    ("t", "df", "expected"),
    [
        (1.0, 1, 0.75),  # the Cauchy distribution
        (2.0, 2, 0.5 + 2 / (2 * math.sqrt(6))),  # closed form for two degrees of freedom
        (2.228139, 10, 0.975),  # t tables
        (-2.042272, 30, 0.025),
        (0.0, 7, 0.5),
    ],
)
def test_the_t_distribution_matches_closed_forms_and_tables(
    t: float, df: float, expected: float
) -> None:
    assert student_t_cdf(t, df) == pytest.approx(expected, abs=1e-6)


def test_t_quantiles_match_the_tables() -> None:
    assert student_t_quantile(0.975, 10) == pytest.approx(2.228139, abs=1e-5)
    assert student_t_quantile(0.975, 30) == pytest.approx(2.042272, abs=1e-5)
    assert student_t_quantile(0.95, 1e6) == pytest.approx(1.644854, abs=1e-4)  # the normal


def test_two_rates_by_the_z_test() -> None:
    # 200 of 1,000 against 250 of 1,000, worked by hand: pooled 0.225, z = 2.6774.
    found = compare_rates(200, 1000, 250, 1000)
    assert found.difference == pytest.approx(0.05)
    assert found.p_value == pytest.approx(0.007419, abs=2e-5)
    assert found.low == pytest.approx(0.013464, abs=1e-5)
    assert found.high == pytest.approx(0.086536, abs=1e-5)
    assert found.significant()
    same = compare_rates(100, 1000, 101, 1000)
    assert not same.significant() and same.low < 0 < same.high
    with pytest.raises(ValueError):
        compare_rates(5, 0, 1, 10)


def test_two_means_by_welch_as_published() -> None:
    # Welch's t-test, Wikipedia's worked example: t = 2.46, df = 25.0, p = 0.021.
    a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    found = compare_means(sample(a), sample(b))
    assert found.difference == pytest.approx(sum(b) / 15 - sum(a) / 15)
    assert found.p_value == pytest.approx(0.021, abs=1e-3)
    assert found.low > 0  # the interval excludes no difference, as p < 0.05 says
    flat = compare_means(sample([1.0, 1.0]), sample([1.0, 1.0]))
    assert flat.p_value == 1.0


def test_no_verdict_before_the_minimum_sample_and_none_without_significance() -> None:
    early = compare_rates(1, 10, 8, 10)
    assert early.significant() and verdict(early, 10, 10) == "too early"
    assert verdict(compare_rates(200, 1000, 250, 1000), 1000, 1000) == "b is better"
    assert verdict(compare_rates(250, 1000, 200, 1000), 1000, 1000) == "a is better"
    assert verdict(compare_rates(200, 1000, 205, 1000), 1000, 1000) == "no difference found"


def test_with_no_effect_winners_are_declared_about_alpha_of_the_time() -> None:
    rng = random.Random(7)

    def converted(n: int, rate: float) -> int:
        return sum(rng.random() < rate for _ in range(n))

    def winners(rate_a: float, rate_b: float, runs: int = 400, n: int = 1000) -> int:
        return sum(
            verdict(compare_rates(converted(n, rate_a), n, converted(n, rate_b), n), n, n)
            in ("a is better", "b is better")
            for _ in range(runs)
        )

    assert 0.02 * 400 <= winners(0.1, 0.1) <= 0.09 * 400  # false alarms near 5%
    assert winners(0.1, 0.15) >= 0.9 * 400  # a planted 5-point lift is found


def test_a_known_holdout_lift_is_recovered_within_its_interval() -> None:
    rng = random.Random(11)
    treated_n, holdout_n = 9000, 1000
    # Truth: treated contacts convert at 12%, the holdout at 8%, and each order is ~50.
    treated = [50.0 + rng.gauss(0, 10) if rng.random() < 0.12 else 0.0 for _ in range(treated_n)]
    holdout = [50.0 + rng.gauss(0, 10) if rng.random() < 0.08 else 0.0 for _ in range(holdout_n)]
    conversions = holdout_lift(
        sample([float(v > 0) for v in holdout]), sample([float(v > 0) for v in treated]), rate=True
    )
    assert conversions.per_contact.low < 0.04 < conversions.per_contact.high
    assert conversions.low < 0.04 * treated_n < conversions.high
    revenue = holdout_lift(sample(holdout), sample(treated), rate=False)
    assert revenue.per_contact.low < 0.04 * 50 < revenue.per_contact.high  # 2.0 per contact
    assert revenue.per_contact.significant()
