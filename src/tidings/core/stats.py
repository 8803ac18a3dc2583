"""The statistics behind experiment and holdout verdicts: differences with confidence
intervals and two-sided p-values, for rates (conversions, clicks) and for means (revenue per
recipient). Pure functions of counts and sums; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Comparison:
    """B against A: both estimates, their difference (B - A), its interval and the p-value."""

    a: float
    b: float
    difference: float
    low: float
    high: float
    p_value: float

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the difference is unlikely to be chance at level `alpha`."""
        return self.p_value < alpha


def compare_rates(
    hits_a: int, n_a: int, hits_b: int, n_b: int, confidence: float = 0.95
) -> Comparison:
    """Two proportions: a pooled two-proportion z-test for the p-value, and the unpooled
    (Wald) interval for the difference.

    Raises:
        ValueError: when a group is empty or has more hits than members.
    """
    for hits, n in ((hits_a, n_a), (hits_b, n_b)):
        if n <= 0 or not 0 <= hits <= n:
            raise ValueError(f"{hits} hits out of {n} is not a rate")
    rate_a, rate_b = hits_a / n_a, hits_b / n_b
    difference = rate_b - rate_a
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    # No spread at all (everyone or no one converted in both): nothing to tell apart.
    p_value = 1.0 if se_pooled == 0 else 2 * (1 - _NORMAL.cdf(abs(difference) / se_pooled))
    se = math.sqrt(rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b)
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    return Comparison(rate_a, rate_b, difference, difference - z * se, difference + z * se, p_value)


@dataclass(frozen=True)
class Sample:
    """A group's values summed up: enough for a mean and its variance without the values."""

    n: int
    total: float
    total_squares: float

    @property
    def mean(self) -> float:
        """The average value."""
        return self.total / self.n

    @property
    def variance(self) -> float:
        """The unbiased sample variance (0 for fewer than two values)."""
        if self.n < 2:
            return 0.0
        return max((self.total_squares - self.total**2 / self.n) / (self.n - 1), 0.0)


def compare_means(a: Sample, b: Sample, confidence: float = 0.95) -> Comparison:
    """Two means (revenue per recipient): Welch's t-test, which does not assume equal
    variances, with the Welch-Satterthwaite degrees of freedom.

    Raises:
        ValueError: when a group has fewer than two values.
    """
    if a.n < 2 or b.n < 2:
        raise ValueError("each group needs at least two values")
    va, vb = a.variance / a.n, b.variance / b.n
    difference = b.mean - a.mean
    se = math.sqrt(va + vb)
    if se == 0:
        return Comparison(a.mean, b.mean, difference, difference, difference, 1.0)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    t = abs(difference) / se
    p_value = 2 * (1 - student_t_cdf(t, df))
    margin = student_t_quantile(0.5 + confidence / 2, df) * se
    return Comparison(a.mean, b.mean, difference, difference - margin, difference + margin, p_value)


#: Degrees of freedom from which the t distribution is taken as its normal expansion.
_LARGE_DF = 1e7


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if df >= _LARGE_DF:
        # The incomplete beta's front factor spends digits on shapes this large (2e-9 off
        # at a billion, as Welch's test gives for groups of that size), while the normal
        # with its first correction is off by about 1/df^2.
        return _NORMAL.cdf(t) - _NORMAL.pdf(t) * (t**3 + t) / (4 * df)
    # Both df/(df+t^2) and its complement are formed directly: taking one from 1 would
    # lose the digits that matter when df is large and t small.
    x, y = df / (df + t * t), t * t / (df + t * t)
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, x, y)
    return 1 - tail if t >= 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the distribution function."""
    if not 0 < p < 1:
        raise ValueError("p must be strictly between 0 and 1")
    # Widen the bracket until it holds the answer: with one or two degrees of freedom the
    # tails are so heavy that a 99.99% quantile lies in the thousands.
    high = 1.0
    while student_t_cdf(high, df) < p or student_t_cdf(-high, df) > p:
        high *= 2
    low = -high
    for _ in range(200):
        middle = (low + high) / 2
        if student_t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _incomplete_beta(a: float, b: float, x: float, y: float | None = None) -> float:
    """The regularized incomplete beta function I_x(a, b), by Lentz's continued fraction;
    `y` is 1 - x when the caller knows it more exactly than the subtraction would give."""
    y = 1 - x if y is None else y
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only on this side
        return 1 - _incomplete_beta(b, a, y, x)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    # The fraction needs about sqrt(max(a, b)) terms: large groups need more than small.
    for m in range(1, 500 + int(10 * math.sqrt(max(a, b)))):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(_log_beta_front(a, b, x, y)) * result / a


#: Shapes from this size on take Stirling's series for their log-gamma.
_STIRLING_FROM = 10.0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _log_beta_front(a: float, b: float, x: float, y: float) -> float:
    """log(x^a y^b / B(a, b)), with y = 1 - x. Written as lgamma(a+b) - lgamma(a) -
    lgamma(b) + ..., large shapes cancel terms of size a*log(a) and keep only a few digits
    (a hundred thousand members lose half of them), so large shapes are grouped so that
    what cancels is never computed."""
    if a < b:
        a, b, x, y = b, a, y, x
    if a < _STIRLING_FROM:
        powers = a * _log_of(x, y) + b * _log_of(y, x)
        return math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + powers
    if b < _STIRLING_FROM:
        # lgamma(a + b) - lgamma(a) for large a, by Stirling's formula for both.
        gamma_ratio = (
            (a - 0.5) * math.log1p(b / a)
            + b * math.log(a + b)
            - b
            + _stirling_error(a + b)
            - _stirling_error(a)
        )
        return gamma_ratio - math.lgamma(b) + a * _log_of(x, y) + b * _log_of(y, x)
    # x(a+b)/a and y(a+b)/b are both 1 + (a small gap) near the mean, hence log1p there;
    # far from it the plain logs lose nothing.
    gap = x * b - y * a
    return (
        _log_near_one(a, gap / a, x, y, b)
        + _log_near_one(b, -gap / b, y, x, a)
        + 0.5 * math.log(a * b / (a + b))
        - _HALF_LOG_2PI
        + _stirling_error(a + b)
        - _stirling_error(a)
        - _stirling_error(b)
    )


def _log_near_one(a: float, excess: float, x: float, y: float, b: float) -> float:
    """a * log(x (a + b) / a), where that ratio is 1 + excess."""
    if abs(excess) < 0.5:
        return a * math.log1p(excess)
    return a * (_log_of(x, y) + math.log1p(b / a))


def _log_of(x: float, y: float) -> float:
    """log(x) where y = 1 - x: near 1, log1p(-y) keeps the digits that x has rounded off."""
    return math.log1p(-y) if x > 0.5 else math.log(x)


def _stirling_error(z: float) -> float:
    """lgamma(z) - ((z - 1/2) log z - z + log sqrt(2 pi)), by its asymptotic series, which
    is exact to double precision from z = 10 on."""
    z2 = z * z
    return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / (1680 * z2)) / z2) / z2) / z


#: Fewer members than this in either group and no verdict is given, whatever the p-value:
#: early peeks at small groups are how A/B tests declare winners that are not.
MIN_SAMPLE = 100


def verdict(
    found: Comparison, n_a: int, n_b: int, *, alpha: float = 0.05, min_sample: int = MIN_SAMPLE
) -> str:
    """What a person may conclude: "too early", "b is better", "a is better", or
    "no difference found" (which is not proof of no difference)."""
    if min(n_a, n_b) < min_sample:
        return "too early"
    if not found.significant(alpha):
        return "no difference found"
    return "b is better" if found.difference > 0 else "a is better"


#: The mixing spread of the sequential test: the size of difference in rates (5 points) it
#: is most ready to find. Smaller differences are still found, with more data.
SEQUENTIAL_TAU = 0.05


def always_valid_p(
    hits_a: int, n_a: int, hits_b: int, n_b: int, tau: float = SEQUENTIAL_TAU
) -> float:
    """A p-value for two rates that stays valid however often it is looked at: the mixture
    sequential probability ratio test (mSPRT) of Johari, Pekelis and Walsh (2017), with a
    normal mixture of spread `tau` over the difference and the pooled variance.

    A test that checks the ordinary p-value after every send and stops at the first p < 0.05
    declares a false winner far more often than 5% of the time; stopping when this one
    drops below alpha keeps that chance under alpha.
    """
    if min(n_a, n_b) <= 0:
        return 1.0
    pooled = (hits_a + hits_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance == 0:
        return 1.0
    spread = tau * tau
    difference = hits_b / n_b - hits_a / n_a
    log_ratio = 0.5 * math.log(variance / (variance + spread)) + spread * difference**2 / (
        2 * variance * (variance + spread)
    )
    return min(1.0, math.exp(-log_ratio))


def pick_winner(
    arms: Sequence[tuple[int, int]],
    *,
    alpha: float = 0.05,
    min_sample: int = MIN_SAMPLE,
    sequential: bool = False,
) -> int | None:
    """The arm to promote among (hits, n), the first being the control: the best arm that
    beats the control at significance, or the control when every other arm loses to it;
    None while any arm is below `min_sample` or nothing is significant. The level is split
    among the comparisons (Bonferroni), so trying more arms does not make a false winner
    likelier. `sequential` judges by `always_valid_p`, for a test that is looked at after
    every send and acts on what it sees."""
    if len(arms) < 2 or min(n for _, n in arms) < min_sample:
        return None
    level = alpha / (len(arms) - 1)
    hits_a, n_a = arms[0]
    better: list[tuple[float, int]] = []
    worse = 0
    for index, (hits, n) in enumerate(arms[1:], start=1):
        found = compare_rates(hits_a, n_a, hits, n)
        p_value = always_valid_p(hits_a, n_a, hits, n) if sequential else found.p_value
        if p_value < level:
            if found.difference > 0:
                better.append((found.difference, index))
            else:
                worse += 1
    if better:
        return max(better)[1]
    return 0 if worse == len(arms) - 1 else None


@dataclass(frozen=True)
class Lift:
    """What a workflow added over its holdout: per contact, and in total over the treated."""

    per_contact: Comparison  #: holdout (a) against treated (b)
    incremental: float  #: per_contact.difference times the treated contacts
    low: float
    high: float


def holdout_lift(holdout: Sample, treated: Sample, *, rate: bool, confidence: float = 0.95) -> Lift:
    """The true lift of a workflow: treated against the holdout that entered but was never
    messaged. With `rate`, samples hold 0/1 outcomes (conversions) and the rate test is
    used; otherwise values (revenue) and Welch's test. The incremental total scales the
    per-contact difference and its interval by the treated group's size."""
    if rate:
        found = compare_rates(
            round(holdout.total), holdout.n, round(treated.total), treated.n, confidence
        )
    else:
        found = compare_means(holdout, treated, confidence)
    n = treated.n
    return Lift(found, found.difference * n, found.low * n, found.high * n)


def beta_cdf(x: float, a: float, b: float) -> float:
    """P(X <= x) for X ~ Beta(a, b)."""
    return _incomplete_beta(a, b, x)


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x with P(X <= x) = p for X ~ Beta(a, b), by bisection."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if _incomplete_beta(a, b, middle) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _beta_log_pdf(x: float, a: float, b: float) -> float:
    return (
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + (a - 1) * math.log(x)
        + (b - 1) * math.log1p(-x)
    )


def probability_best(arms: Sequence[tuple[int, int]], points: int = 2000) -> list[float]:
    """For arms of (hits, n), the posterior probability that each has the highest rate,
    with a uniform prior: P(i best) = integral of f_i(x) * prod_j F_j(x) dx, integrated on
    a grid spread over where the posteriors have their mass (no random draws, so the same
    counts always give the same answer)."""
    if not arms:
        return []
    shapes = [(1 + hits, 1 + n - hits) for hits, n in arms]
    spans = [_posterior_span(a, b) for a, b in shapes]
    # Each arm gets `points` cells across its own span: one grid over all of them would
    # step right over the narrow posterior of a large arm beside a small one.
    edges = sorted(
        {low + (high - low) * k / points for low, high in spans for k in range(points + 1)}
    )
    cells = [
        ((edges[k] + edges[k + 1]) / 2, edges[k + 1] - edges[k]) for k in range(len(edges) - 1)
    ]
    cdfs = [_posterior_cdfs(a, b, span, cells) for (a, b), span in zip(shapes, spans, strict=True)]
    found = []
    for i, ((a, b), (low, high)) in enumerate(zip(shapes, spans, strict=True)):
        total = 0.0
        for k, (x, width) in enumerate(cells):
            if not low <= x <= high:
                continue  # the density is nil to double precision there
            others = math.prod(cdfs[j][k] for j in range(len(shapes)) if j != i)
            if others > 0:
                total += math.exp(_beta_log_pdf(x, a, b)) * others * width
        found.append(total)
    norm = sum(found)
    return [p / norm for p in found] if norm > 0 else [1 / len(arms)] * len(arms)


def _posterior_span(a: float, b: float) -> tuple[float, float]:
    """Where Beta(a, b) has its mass: between the quantiles that leave 1e-15 outside on
    either side. (So many standard deviations from the mean would cut the long tail of a
    skewed posterior, an arm with no hits yet.)"""
    return beta_quantile(_TAIL, a, b), 1 - beta_quantile(_TAIL, b, a)


#: The posterior mass left out on either side when integrating: below double precision.
_TAIL = 1e-15


def _posterior_cdfs(
    a: float, b: float, span: tuple[float, float], cells: Sequence[tuple[float, float]]
) -> list[float]:
    """Beta(a, b)'s distribution function at each cell's middle: 0 before its span and 1
    after it, where it is so to double precision, so only cells inside are computed."""
    low, high = span
    return [0.0 if x < low else 1.0 if x > high else _incomplete_beta(a, b, x) for x, _ in cells]


def thompson_pick(arms: Sequence[tuple[int, int]], draws: Sequence[float]) -> int:
    """Thompson sampling: draw each arm's rate from its Beta posterior (uniform prior) by
    inverting its distribution at the given uniform `draws`, and pick the highest. The
    caller supplies the uniforms, so a retry of the same send picks the same arm."""
    if len(draws) != len(arms) or not arms:
        raise ValueError("one uniform draw per arm is needed")
    sampled = [
        beta_quantile(min(max(u, 1e-9), 1 - 1e-9), 1 + hits, 1 + n - hits)
        for (hits, n), u in zip(arms, draws, strict=True)
    ]
    return max(range(len(arms)), key=lambda i: sampled[i])


@dataclass(frozen=True)
class Distribution:
    """How values spread: count, total, mean and quantiles."""

    count: int
    total: float
    mean: float
    p25: float
    median: float
    p75: float
    p90: float
    max: float


def distribution(values: Sequence[float]) -> Distribution:
    """The spread of `values` (all zeros for none), quantiles by linear interpolation."""
    if not values:
        return Distribution(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ordered = sorted(values)

    def quantile(q: float) -> float:
        position = q * (len(ordered) - 1)
        below = math.floor(position)
        above = min(below + 1, len(ordered) - 1)
        return ordered[below] + (ordered[above] - ordered[below]) * (position - below)

    total = math.fsum(ordered)
    return Distribution(
        count=len(ordered),
        total=total,
        mean=total / len(ordered),
        p25=quantile(0.25),
        median=quantile(0.5),
        p75=quantile(0.75),
        p90=quantile(0.9),
        max=ordered[-1],
    )
