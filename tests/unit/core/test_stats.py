"""Experiment statistics against textbook and published values."""

from __future__ import annotations

import math
import random

import pytest

from tidings.core.stats import (
    Sample,
    always_valid_p,
    beta_cdf,
    beta_quantile,
    compare_means,
    compare_rates,
    distribution,
    holdout_lift,
    pick_winner,
    probability_best,
    student_t_cdf,
    student_t_quantile,
    thompson_pick,
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


def test_the_beta_distribution_matches_closed_forms() -> None:
    # Beta(1, 1) is uniform; Beta(2, 1) has F(x) = x^2; Beta(1, 3) has F(x) = 1 - (1 - x)^3.
    assert beta_cdf(0.3, 1, 1) == pytest.approx(0.3)
    assert beta_cdf(0.5, 2, 1) == pytest.approx(0.25)
    assert beta_cdf(0.2, 1, 3) == pytest.approx(1 - 0.8**3)
    assert beta_quantile(0.25, 2, 1) == pytest.approx(0.5, abs=1e-9)
    assert beta_quantile(0.5, 30, 30) == pytest.approx(0.5, abs=1e-9)


def test_probability_to_be_best_matches_the_normal_approximation() -> None:
    # 90/1000 against 120/1000: the posteriors are close to normal, and P(b > a) is
    # Phi(0.03 / sqrt(0.09 * 0.91 / 1000 + 0.12 * 0.88 / 1000)) = Phi(2.191) = 0.9858.
    low, high = probability_best([(90, 1000), (120, 1000)])
    assert high == pytest.approx(0.9858, abs=0.003)
    assert low + high == pytest.approx(1.0)
    assert probability_best([(10, 100)] * 3) == pytest.approx([1 / 3] * 3, abs=1e-6)
    # Beta(2, 1) against Beta(1, 1): P(X > U) = integral of 2x * x dx = 2/3.
    assert probability_best([(0, 0), (1, 1)]) == pytest.approx([1 / 3, 2 / 3], abs=1e-3)


def test_thompson_draws_invert_each_posterior() -> None:
    # With the same uniform for both arms, the arm whose posterior lies higher wins.
    assert thompson_pick([(10, 100), (30, 100)], [0.5, 0.5]) == 1
    # A low draw for the better arm and a high one for the worse can still pick the worse:
    # that is how Thompson sampling keeps exploring.
    assert thompson_pick([(10, 100), (14, 100)], [0.99, 0.01]) == 0
    with pytest.raises(ValueError):
        thompson_pick([(1, 2)], [])


def test_a_winner_needs_the_minimum_sample_and_significance() -> None:
    assert pick_winner([(8, 99), (30, 99)]) is None  # below 100 an arm
    assert pick_winner([(80, 1000), (120, 1000)]) == 1
    assert pick_winner([(120, 1000), (80, 1000)]) == 0  # the control wins
    assert pick_winner([(100, 1000), (110, 1000)]) is None
    # With three arms the level is halved: pooled 0.22, z = 0.04 / 0.018526 = 2.159,
    # p = 0.031 wins alone at 0.05, not among three at 0.025.
    two = [(200, 1000), (240, 1000)]
    assert compare_rates(*two[0], *two[1]).p_value == pytest.approx(0.0308, abs=0.0005)
    assert pick_winner(two) == 1
    assert pick_winner([*two, (205, 1000)]) is None


def test_distribution_quantiles_interpolate() -> None:
    found = distribution([0.0, 0.0, 10.0, 20.0, 70.0])
    assert (found.count, found.total, found.mean) == (5, 100.0, 20.0)
    assert (found.median, found.p75, found.max) == (10.0, 20.0, 70.0)
    assert found.p90 == pytest.approx(50.0)  # 90% of the way from 20 to 70
    assert distribution([]).count == 0


def test_peeking_after_every_batch_inflates_the_z_test_but_not_the_sequential_one() -> None:
    # 300 A/A tests (both arms click 10%), looked at every 50 sends an arm up to 2,000:
    # stopping at the first p < 0.05 finds a "winner" in far more than 5% of them; the
    # always-valid p-value, which the self-promoting send uses, keeps it under 5%.
    rng = random.Random(3)
    naive = sequential = 0
    for _ in range(300):
        hits = [0, 0]
        n = 0
        naive_hit = sequential_hit = False
        while n < 2000:
            for arm in (0, 1):
                hits[arm] += sum(rng.random() < 0.1 for _ in range(50))
            n += 50
            naive_hit = naive_hit or compare_rates(hits[0], n, hits[1], n).p_value < 0.05
            sequential_hit = sequential_hit or always_valid_p(hits[0], n, hits[1], n) < 0.05
        naive += naive_hit
        sequential += sequential_hit
    assert naive / 300 > 0.15
    assert sequential / 300 <= 0.05
