"""The experiment statistics against scipy, an independent implementation, over random inputs.

scipy is a test-only oracle: the core stays on the standard library. Each tolerance says
what limits the agreement; none is looser than what a report could show a person.
"""

from __future__ import annotations

import math
import statistics
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats  # type: ignore[import-untyped]

from tidings.core.stats import (
    Sample,
    always_valid_p,
    beta_cdf,
    beta_quantile,
    compare_means,
    compare_rates,
    probability_best,
    student_t_cdf,
    student_t_quantile,
)
from tidings.core.stats import _incomplete_beta as incomplete_beta


def log_uniform(low_exponent: float, high_exponent: float) -> st.SearchStrategy[float]:
    """Positive numbers spread evenly over orders of magnitude, as group sizes are."""
    return st.floats(low_exponent, high_exponent).map(lambda e: 10.0**e)


#: Normal doubles only: on subnormal x (below 2.2e-308) scipy's betainc loses digits (at
#: x = 5e-324 it is 7e-4 off the closed form x^a / (a B(a, b)) that holds there, which ours
#: matches), so there the oracle is the one that is wrong.
unit_interval = st.floats(sys.float_info.min, 1.0, exclude_max=True)
probabilities = st.floats(1e-6, 1 - 1e-6)
#: Degrees of freedom as Welch's test produces them: from 1 (two values a group) upwards.
degrees = log_uniform(0, 9)
#: A rate test's groups: hits out of n, up to ten million members.
rate_groups = st.integers(1, 10_000_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
#: Money in cents, as revenue per recipient arrives.
amounts = st.integers(0, 1_000_000).map(lambda cents: cents / 100)
money_samples = st.lists(amounts, min_size=2, max_size=60)
confidences = st.floats(0.5, 0.999)


def sample(values: list[float]) -> Sample:
    return Sample(len(values), math.fsum(values), math.fsum(v * v for v in values))


def beta_floor(a: float, b: float) -> float:
    """How close our incomplete beta comes to scipy's. Up to a million, 1e-9 (measured
    1.3e-11 at worst over 60,000 draws). Beyond, near the mean, the continued fraction's
    second numerator comes within 1e-8 of -1 and each `1 + numerator * d` cancels about
    eight digits (measured 3e-9 at a = 2, b = 9.1e7 against 40-digit arithmetic, where
    scipy was exact): 1e-8, still far below any digit a report prints."""
    return 1e-9 if max(a, b) < 1e6 else 1e-8


# The continued fraction stops at a relative change of 1e-15, and the front factor
# x^a (1-x)^b / B(a, b) is formed from logs grouped so that what cancels is never computed.
@given(a=log_uniform(-2, 8), b=log_uniform(-2, 8), x=unit_interval)
@settings(max_examples=100, deadline=None)
def test_incomplete_beta_agrees_with_scipy(a: float, b: float, x: float) -> None:
    expected = special.betainc(a, b, x)
    assert incomplete_beta(a, b, x) == pytest.approx(expected, abs=beta_floor(a, b))


@given(a=log_uniform(-2, 8), b=log_uniform(-2, 8), z=st.floats(-4, 4))
@settings(max_examples=100, deadline=None)
def test_incomplete_beta_agrees_with_scipy_where_the_mass_is(a: float, b: float, z: float) -> None:
    # Uniform x almost never lands inside a large posterior's narrow peak; this does.
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    x = mean + z * sd
    assume(0 < x < 1)
    expected = special.betainc(a, b, x)
    assert incomplete_beta(a, b, x) == pytest.approx(expected, abs=beta_floor(a, b))


def t_cdf_oracle(t: float, df: float) -> float:
    """scipy's t distribution function, except within 1e-4 of zero: there it is off by
    1e-9 at one degree of freedom (0.5000000047 at t = 1.1e-8, where the Cauchy's exact
    0.5 + atan(t)/pi is 0.5000000035), so the oracle is 0.5 plus t times the density at
    zero, which is exact up to t^3 (below 1e-12)."""
    if abs(t) < 1e-4:
        return 0.5 + t * float(stats.t.pdf(0.0, df))
    return float(stats.t.cdf(t, df))


def test_the_t_oracle_near_zero_is_the_cauchy_at_one_degree_of_freedom() -> None:
    assert t_cdf_oracle(1.1e-8, 1) == pytest.approx(0.5 + math.atan(1.1e-8) / math.pi, abs=1e-15)
    assert student_t_cdf(1.1e-8, 1) == pytest.approx(0.5 + math.atan(1.1e-8) / math.pi, abs=1e-15)


# Same floor as the incomplete beta it rests on (a = df / 2).
@given(t=st.floats(-1000, 1000), df=st.floats(0.5, 1e9))
@settings(max_examples=100, deadline=None)
def test_student_t_cdf_agrees_with_scipy(t: float, df: float) -> None:
    assert student_t_cdf(t, df) == pytest.approx(t_cdf_oracle(t, df), abs=beta_floor(df / 2, 0.5))


@given(t=st.floats(-6, 6), df=degrees)
@settings(max_examples=100, deadline=None)
def test_student_t_cdf_agrees_with_scipy_over_every_order_of_df(t: float, df: float) -> None:
    assert student_t_cdf(t, df) == pytest.approx(t_cdf_oracle(t, df), abs=beta_floor(df / 2, 0.5))


# Relative: with one degree of freedom a tail quantile lies in the hundreds of thousands.
# The bisection runs to the last bit; what is left is the distribution function's 1e-16
# near p = 1 divided by the density there.
@given(p=probabilities, df=log_uniform(0, 7))
@settings(max_examples=100, deadline=None)
def test_student_t_quantile_agrees_with_scipy(p: float, df: float) -> None:
    assert student_t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("df", [1e7, 1e9, 1e12])
def test_student_t_cdf_keeps_its_digits_at_a_billion_degrees_of_freedom(df: float) -> None:
    # Welch's test over groups of a billion: the incomplete beta was 2e-9 off here.
    assert student_t_cdf(1.8125, df) == pytest.approx(stats.t.cdf(1.8125, df), abs=1e-12)


def test_heavy_tailed_quantiles_are_not_cut_off_at_a_thousand() -> None:
    # Welch's test with two values a group has about one degree of freedom: its 99.99%
    # quantile is 3183, and a cap on the search returned 1000, an interval 3 times too narrow.
    assert student_t_quantile(0.9999, 1) == pytest.approx(stats.t.ppf(0.9999, 1), rel=1e-9)
    assert student_t_quantile(1e-5, 1) == pytest.approx(stats.t.ppf(1e-5, 1), rel=1e-9)


# Posteriors of a uniform prior after `hits` of `n`, as the bandit and the report use.
# Absolute in x: the bisection halves [0, 1] 60 times (1e-18); the rest is the
# distribution function's error over the density, tiny where the density is high.
@given(group=rate_groups, p=st.floats(1e-9, 1 - 1e-9))
@settings(max_examples=100, deadline=None)
def test_beta_posterior_quantile_and_cdf_agree_with_scipy(group: tuple[int, int], p: float) -> None:
    hits, n = group
    a, b = 1 + hits, 1 + n - hits
    x = beta_quantile(p, a, b)
    assert x == pytest.approx(stats.beta.ppf(p, a, b), abs=beta_floor(a, b))
    assert beta_cdf(x, a, b) == pytest.approx(stats.beta.cdf(x, a, b), abs=beta_floor(a, b))


# The pooled two-proportion z-test is the chi-square test of the 2x2 table without
# continuity correction (z^2 = chi^2), which scipy computes its own way. Both are closed
# forms in double precision, but summed differently: with counts in the millions their
# rounding differs by up to ~1e-11 (seen: 5.5e-12 at p = 0.58), so 1e-9; a wrong formula
# is off by far more.
@given(a=rate_groups, b=rate_groups)
@settings(max_examples=100, deadline=None)
def test_two_rate_p_value_is_the_chi_square_test_of_the_table(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    (hits_a, n_a), (hits_b, n_b) = a, b
    hits, members = hits_a + hits_b, n_a + n_b
    assume(0 < hits < members)  # a table with an empty column has no chi-square
    table = [[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert compare_rates(hits_a, n_a, hits_b, n_b).p_value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("hits_a", "hits_b"),
    [
        (0, 0),  # no one converted in either group
        (500, 500),  # everyone did
    ],
)
def test_two_rates_without_spread_tell_nothing(hits_a: int, hits_b: int) -> None:
    assert compare_rates(hits_a, 500, hits_b, 500).p_value == 1.0


# The unpooled Wald interval: the difference plus or minus scipy's normal quantile times
# the textbook standard error. Closed form; 1e-12 is rounding.
@given(a=rate_groups, b=rate_groups, confidence=confidences)
@settings(max_examples=100, deadline=None)
def test_two_rate_interval_is_the_wald_interval(
    a: tuple[int, int], b: tuple[int, int], confidence: float
) -> None:
    (hits_a, n_a), (hits_b, n_b) = a, b
    rate_a, rate_b = hits_a / n_a, hits_b / n_b
    z = stats.norm.ppf(0.5 + confidence / 2)
    se = math.sqrt(rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b)
    found = compare_rates(hits_a, n_a, hits_b, n_b, confidence)
    assert found.difference == pytest.approx(rate_b - rate_a, abs=1e-12)
    assert found.low == pytest.approx(rate_b - rate_a - z * se, abs=1e-12)
    assert found.high == pytest.approx(rate_b - rate_a + z * se, abs=1e-12)


# Welch's test from scipy on the raw values, against ours from the sums a database query
# returns. Sums of squares lose digits when the spread is tiny beside the mean (a group of
# nearly equal large amounts), so the oracle runs where the spread is at least a thousandth
# of the mean; there the variance keeps 10 digits, and p, df and the interval agree to 1e-8.
@given(a=money_samples, b=money_samples, confidence=confidences)
@settings(max_examples=100, deadline=None)
def test_welch_test_agrees_with_scipy(a: list[float], b: list[float], confidence: float) -> None:
    spread = statistics.pvariance(a) + statistics.pvariance(b)
    assume(spread > 0)
    assume(all(statistics.pstdev(g) >= 1e-3 * abs(statistics.fmean(g)) for g in (a, b)))
    found = compare_means(sample(a), sample(b), confidence)
    expected = stats.ttest_ind(b, a, equal_var=False)
    interval = expected.confidence_interval(confidence)
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    assert found.p_value == pytest.approx(expected.pvalue, abs=1e-8)
    assert found.low == pytest.approx(interval.low, abs=1e-8 * se)
    assert found.high == pytest.approx(interval.high, abs=1e-8 * se)


@given(a=money_samples, b=money_samples)
@settings(max_examples=100, deadline=None)
def test_welch_degrees_of_freedom_agree_with_scipy(a: list[float], b: list[float]) -> None:
    # Ours are not exposed; the interval's half-width is the t quantile at them times the
    # standard error, so the quantile recovered from it pins the degrees of freedom.
    assume(all(statistics.pstdev(g) >= 1e-3 * abs(statistics.fmean(g)) for g in (a, b)))
    assume(statistics.pvariance(a) > 0 and statistics.pvariance(b) > 0)
    found = compare_means(sample(a), sample(b), 0.95)
    expected = stats.ttest_ind(b, a, equal_var=False)
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    quantile = (found.high - found.difference) / se
    assert quantile == pytest.approx(stats.t.ppf(0.975, expected.df), rel=1e-8)


def _mixture_p_value(hits_a: int, n_a: int, hits_b: int, n_b: int, tau: float) -> float:
    """mSPRT by numerical integration of the likelihood ratio over the normal mixture."""
    pooled = (hits_a + hits_b) / (n_a + n_b)
    sd = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    difference = hits_b / n_b - hits_a / n_a

    def ratio(theta: float) -> float:
        # The likelihood of the observed difference under theta over that under 0,
        # weighted by the mixing density of theta.
        log_ratio = (2 * difference * theta - theta * theta) / (2 * sd * sd)
        mixing = math.exp(-theta * theta / (2 * tau * tau)) / (tau * math.sqrt(2 * math.pi))
        return math.exp(log_ratio) * mixing

    mixed, _ = integrate.quad(ratio, -12 * tau, 12 * tau, points=[difference], limit=200)
    return min(1.0, 1 / float(mixed))


# The closed form against the integral it stands for; quad's own precision (about 1e-10
# relative here) sets the tolerance.
@given(
    a=st.tuples(st.integers(0, 400), st.just(400)), b=st.tuples(st.integers(0, 400), st.just(400))
)
@settings(max_examples=60, deadline=None)
def test_always_valid_p_is_the_mixture_likelihood_ratio(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    (hits_a, n_a), (hits_b, n_b) = a, b
    assume(0 < hits_a + hits_b < n_a + n_b)
    expected = _mixture_p_value(hits_a, n_a, hits_b, n_b, tau=0.05)
    assume(expected > 1e-12)  # beyond that the integral is all in one narrow spike
    assert always_valid_p(hits_a, n_a, hits_b, n_b) == pytest.approx(expected, rel=1e-6)


def _probability_best_by_quad(arms: list[tuple[int, int]]) -> list[float]:
    shapes = [(1 + hits, 1 + n - hits) for hits, n in arms]
    found = []
    for i, (a, b) in enumerate(shapes):
        others = [shape for j, shape in enumerate(shapes) if j != i]

        def integrand(
            x: float, a: float = a, b: float = b, others: list[tuple[int, int]] = others
        ) -> float:
            product = math.prod(float(special.betainc(c, d, x)) for c, d in others)
            return float(stats.beta.pdf(x, a, b)) * product

        # Integrate over where this arm's density is, breaking it where each other arm's
        # distribution function climbs: its mean alone left a narrow climb (Beta(1, 10951)
        # beside Beta(1, 2)) between two of quad's nodes, and the answers summed to 1.00006.
        low, high = stats.beta.ppf(1e-15, a, b), stats.beta.isf(1e-15, a, b)
        levels = (1e-9, 1e-6, 1e-3, 0.05, 0.25, 0.5, 0.75, 0.95, 1 - 1e-3, 1 - 1e-6)
        climbs = {float(stats.beta.ppf(q, c, d)) for c, d in others for q in levels}
        inside = sorted(x for x in climbs if low < x < high)
        value, _ = integrate.quad(integrand, low, high, points=inside or None, limit=400)
        found.append(float(value))
    return found


# Our grid (2,000 cells over each arm's mass, midpoint rule) against adaptive quadrature on
# scipy's densities. The grid's step is a small fraction of each posterior's spread, which
# bounds the error near 1e-7; a report shows this probability to the percent.
@given(
    arms=st.lists(
        st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
        min_size=2,
        max_size=3,
    )
)
@settings(max_examples=15, deadline=None)
def test_probability_best_agrees_with_quadrature(arms: list[tuple[int, int]]) -> None:
    expected = _probability_best_by_quad(arms)
    assert math.fsum(expected) == pytest.approx(1, abs=1e-6), "the oracle itself is off"
    assert probability_best(arms) == pytest.approx(expected, abs=1e-6)


def test_probability_best_sees_a_large_arm_beside_a_small_one() -> None:
    # Ten members at 50% beside ten million at 50%: by symmetry each is best half the time.
    # One grid for both spans stepped over the large arm's narrow posterior and said the
    # small arm was best with 99.997% certainty.
    found = probability_best([(5, 10), (5_000_000, 10_000_000)])
    assert found == pytest.approx([0.5, 0.5], abs=1e-6)


def test_probability_best_keeps_the_long_tail_of_an_arm_with_no_hits() -> None:
    # Beta(1, 101) reaches far past nine standard deviations; cutting it there moved each
    # answer by 3e-5.
    arms = [(0, 100), (0, 100), (3, 100)]
    assert probability_best(arms) == pytest.approx(_probability_best_by_quad(arms), abs=1e-7)
