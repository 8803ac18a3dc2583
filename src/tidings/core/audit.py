"""The audit: what is wrong with a workspace's workflows, with the numbers and what to do.

Pure: the shell counts, this module judges. Every finding carries the figures it rests on,
so a reader can disagree with the threshold rather than take the verdict on trust.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tidings.core.stats import compare_rates

#: Too few contacts to rank or compare a workflow by its rates.
MIN_ENTERED = 30
#: A step needs this many arrivals before its stall rate means anything.
MIN_AT_STEP = 20
QUARTER = timedelta(days=91)


@dataclass(frozen=True)
class Thresholds:
    """Where the audit draws its lines; each is a setting a workspace may change."""

    bottom_share: float = 0.2  #: the worst fifth of active workflows
    stall_share: float = 0.5  #: most of a step's arrivals stopped there
    parallel: int = 3  #: enrolled in this many workflows at once is too many
    alert_budget: int = 300  #: internal alerts a week
    untouched: timedelta = QUARTER
    alpha: float = 0.05


@dataclass(frozen=True)
class WorkflowRecord:
    """What the audit needs about one workflow."""

    key: str
    active: bool
    has_goal: bool
    updated_at: datetime
    entered: int
    converted: int
    sent: int
    clicked: int
    #: (entered, converted) in the quarter before the last one, and in the last one.
    previous_quarter: tuple[int, int] = (0, 0)
    last_quarter: tuple[int, int] = (0, 0)

    def rate(self) -> tuple[str, int, int] | None:
        """The rate the workflow is judged by: conversions when it has a goal, else clicks
        per message sent; None when too few contacts to say."""
        if self.has_goal and self.entered >= MIN_ENTERED:
            return "conversion rate", self.converted, self.entered
        if not self.has_goal and self.sent >= MIN_ENTERED:
            return "click rate", self.clicked, self.sent
        return None


@dataclass(frozen=True)
class StepRecord:
    """Arrivals at one step and those who stopped there without converting."""

    workflow: str
    step: str
    kind: str
    entered: int
    waiting: int
    left: int  #: exited there without converting


@dataclass(frozen=True)
class Finding:
    """One problem: what, where, the figures behind it and what to do about it."""

    kind: str
    subject: str
    summary: str
    advice: str
    numbers: dict[str, float | int | str] = field(default_factory=dict)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def bottom_performers(
    records: Sequence[WorkflowRecord], thresholds: Thresholds = Thresholds()
) -> list[Finding]:
    """The worst `bottom_share` of active workflows with enough contacts to judge, by the
    rate each is judged by; nothing to rank with fewer than two, and a workflow at the
    median is not flagged however the ranks fall (equal workflows have no bottom)."""
    rated = [(r, found) for r in records if r.active and (found := r.rate()) is not None]
    if len(rated) < 2:
        return []
    rated.sort(key=lambda item: item[1][1] / item[1][2])
    median = statistics.median(hits / n for _, (_, hits, n) in rated)
    count = max(1, math.ceil(thresholds.bottom_share * len(rated)))
    findings = []
    for rank, (record, (metric, hits, n)) in enumerate(rated[:count], start=1):
        if hits / n >= median:
            continue
        findings.append(
            Finding(
                kind="bottom",
                subject=record.key,
                summary=(
                    f"{metric} {_pct(hits, n)} ({hits:,} of {n:,}), rank {len(rated) - rank + 1}"
                    f" of {len(rated)}; the median workflow has {median:.1%}"
                ),
                advice=(
                    "test another message or offer against the current one (variants), "
                    "check who it targets, or pause it if a holdout shows no lift"
                ),
                numbers={"metric": metric, "hits": hits, "of": n, "median": round(median, 4)},
            )
        )
    return findings


def decayed(
    records: Sequence[WorkflowRecord], thresholds: Thresholds = Thresholds()
) -> list[Finding]:
    """Workflows converting significantly less in the last quarter than in the one before."""
    findings = []
    for record in records:
        (n_a, hits_a), (n_b, hits_b) = record.previous_quarter, record.last_quarter
        if not record.has_goal or min(n_a, n_b) < MIN_ENTERED:
            continue
        found = compare_rates(hits_a, n_a, hits_b, n_b)
        if found.difference < 0 and found.significant(thresholds.alpha):
            findings.append(
                Finding(
                    kind="decayed",
                    subject=record.key,
                    summary=(
                        f"conversion rate fell from {found.a:.1%} ({hits_a:,} of {n_a:,}) to "
                        f"{found.b:.1%} ({hits_b:,} of {n_b:,}) quarter on quarter "
                        f"(p = {found.p_value:.3f})"
                    ),
                    advice=(
                        "refresh the content or offer; check whether the audience or a "
                        "competing workflow changed"
                    ),
                    numbers={
                        "previous_rate": round(found.a, 4),
                        "last_rate": round(found.b, 4),
                        "p_value": round(found.p_value, 4),
                    },
                )
            )
    return findings


def stalls(steps: Sequence[StepRecord], thresholds: Thresholds = Thresholds()) -> list[Finding]:
    """Steps where most arrivals stopped: still waiting there, or left there unconverted."""
    findings = []
    for step in steps:
        stopped = step.waiting + step.left
        if step.kind == "exit" or step.entered < MIN_AT_STEP:
            continue
        if stopped / step.entered < thresholds.stall_share:
            continue
        findings.append(
            Finding(
                kind="stall",
                subject=f"{step.workflow} > {step.step}",
                summary=(
                    f"{stopped:,} of {step.entered:,} contacts ({_pct(stopped, step.entered)}) "
                    f"stopped at this {step.kind} step: {step.waiting:,} still waiting, "
                    f"{step.left:,} left unconverted"
                ),
                advice=(
                    "shorten the wait or its timeout, or add a path for those who do not "
                    "answer; check the exit rules that end journeys here"
                ),
                numbers={"entered": step.entered, "waiting": step.waiting, "left": step.left},
            )
        )
    return findings


def overloaded(parallel: Sequence[int], thresholds: Thresholds = Thresholds()) -> list[Finding]:
    """Contacts in too many workflows at once; `parallel` holds, per contact in at least two,
    how many workflows they are in."""
    over = [n for n in parallel if n >= thresholds.parallel]
    if not over:
        return []
    return [
        Finding(
            kind="overload",
            subject="contacts",
            summary=(
                f"{len(over):,} contacts are in {thresholds.parallel} or more workflows at "
                f"once (the most: {max(over)})"
            ),
            advice=(
                "give workflows priorities and a frequency cap, or exclude contacts already "
                "in a journey through entry conditions"
            ),
            numbers={"contacts": len(over), "most": max(over)},
        )
    ]


def alert_overload(
    weeks: Sequence[tuple[datetime, int]], thresholds: Thresholds = Thresholds()
) -> list[Finding]:
    """Weeks (start, alerts sent) in which internal alerts went beyond the weekly budget."""
    return [
        Finding(
            kind="alerts",
            subject=f"week of {start:%Y-%m-%d}",
            summary=f"{count:,} internal alerts, over the budget of {thresholds.alert_budget:,}",
            advice=(
                "raise the bar for an alert (a higher score threshold), batch them into a "
                "digest, or set the workspace's alert budget so the excess waits"
            ),
            numbers={"alerts": count, "budget": thresholds.alert_budget},
        )
        for start, count in weeks
        if count > thresholds.alert_budget
    ]


def untouched(
    records: Sequence[WorkflowRecord], now: datetime, thresholds: Thresholds = Thresholds()
) -> list[Finding]:
    """Active workflows nobody has changed for a quarter."""
    findings = []
    for record in records:
        age = now - record.updated_at
        if record.active and age >= thresholds.untouched:
            findings.append(
                Finding(
                    kind="untouched",
                    subject=record.key,
                    summary=f"running unchanged for {age.days} days",
                    advice=(
                        "review its content, offer and audience; run a variant or a holdout "
                        "to learn whether it still earns its place"
                    ),
                    numbers={"days": age.days},
                )
            )
    return findings


def audit(
    records: Sequence[WorkflowRecord],
    steps: Sequence[StepRecord],
    parallel: Sequence[int],
    alert_weeks: Sequence[tuple[datetime, int]],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
) -> list[Finding]:
    """Every finding, grouped by kind in the order a reader should act on them."""
    return [
        *bottom_performers(records, thresholds),
        *decayed(records, thresholds),
        *stalls(steps, thresholds),
        *overloaded(parallel, thresholds),
        *alert_overload(alert_weeks, thresholds),
        *untouched(records, now, thresholds),
    ]
