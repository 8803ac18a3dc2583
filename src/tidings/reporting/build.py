"""Everything a report shows, gathered once from storage and judged by the pure core:
funnels, experiments with their verdicts, holdout lift, attribution, customer value and the
audit. The terminal, HTML and API renderings all read this one structure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from tidings.core import audit as auditing
from tidings.core.attribution import MODELS, Conversion, Credit, attribute
from tidings.core.spec import SendStep, SplitStep, Winner, WinnerChoice, WinnerMetric, Workflow
from tidings.core.stats import (
    Comparison,
    Distribution,
    Sample,
    compare_means,
    compare_rates,
    distribution,
    holdout_lift,
    pick_winner,
    probability_best,
    verdict,
)
from tidings.storage import outcomes
from tidings.storage.experiments import ArmCounts, split_arms, variant_arms
from tidings.storage.reports import Period, WorkflowFigures, earlier, workflow_figures
from tidings.storage.workflows import Catalog, WorkflowRow, list_workflows

ALPHA = 0.05


@dataclass(frozen=True)
class Options:
    """What a report covers and how it judges."""

    period: Period = field(default_factory=Period)
    attribution_window: timedelta = timedelta(days=7)
    half_life: timedelta = timedelta(days=2)
    thresholds: auditing.Thresholds = field(default_factory=auditing.Thresholds)


@dataclass
class Arm:
    """One arm of an experiment, with its rates."""

    name: str
    assigned: int
    opened: int
    clicked: int
    converted: int
    revenue: float
    probability_best: float | None = None
    click_rate: float | None = field(init=False)
    conversion_rate: float | None = field(init=False)
    revenue_per_contact: float | None = field(init=False)

    def __post_init__(self) -> None:
        n = self.assigned
        self.click_rate = self.clicked / n if n else None
        self.conversion_rate = self.converted / n if n else None
        self.revenue_per_contact = self.revenue / n if n else None


@dataclass
class Versus:
    """One arm against the control on one metric, with what may be concluded."""

    arm: str
    metric: str
    comparison: Comparison | None
    verdict: str  #: as `core.stats.verdict` says it, with the control as a and the arm as b
    said: str = field(init=False)  #: the verdict in the arms' own names

    def __post_init__(self) -> None:
        named = {"b is better": f"{self.arm} is better", "a is better": "the control is better"}
        self.said = named.get(self.verdict, self.verdict)


@dataclass
class Experiment:
    """A/B variants of a send, or the paths of a split, compared against the first arm."""

    workflow: str
    step: str
    kind: str  #: "variants" or "split"
    metric: str  #: the metric the winner is chosen by
    arms: list[Arm]
    comparisons: list[Versus] = field(default_factory=list)
    winner: str | None = None
    promotes: bool = False  #: the send promotes its winner by itself
    conclusion: str = ""


@dataclass
class HoldoutLift:
    """What a workflow added over its never-messaged holdout."""

    workflow: str
    step: str
    holdout: int
    treated: int
    conversion: Comparison | None
    revenue: Comparison | None
    incremental_conversions: tuple[float, float, float] | None  #: estimate, low, high
    incremental_revenue: tuple[float, float, float] | None
    attributed_revenue: float
    conclusion: str


@dataclass
class AttributionRow:
    """One workflow's (or message step's) credit under every model."""

    workflow: str
    step: str | None
    credits: dict[str, Credit]


@dataclass
class AttributionReport:
    """The models side by side."""

    models: tuple[str, ...]
    window: timedelta
    half_life: timedelta
    conversions: int
    revenue: float
    untouched: int
    untouched_revenue: float
    workflows: list[AttributionRow]
    steps: list[AttributionRow]


@dataclass
class Spread:
    """A named group's revenue per contact."""

    group: str
    contacts: int
    buyers: int
    value: Distribution


@dataclass
class ValueReport:
    """Customer value to date, and how long journeys take to convert."""

    overall: Spread
    by_source: list[Spread]
    by_segment: list[Spread]
    hours_to_convert: dict[str, Distribution]


@dataclass
class Report:
    """A whole workspace's measurement."""

    workspace_id: int
    generated_at: datetime
    period: Period
    workflows: list[WorkflowFigures]
    experiments: list[Experiment]
    lifts: list[HoldoutLift]
    attribution: AttributionReport
    value: ValueReport
    findings: list[auditing.Finding]


def build_report(
    conn: Connection,
    workspace_id: int,
    catalog: Catalog,
    now: datetime,
    options: Options = Options(),
) -> Report:
    """Read and judge everything a report shows, as of `now`."""
    period = options.period
    figures = workflow_figures(conn, workspace_id, catalog, period, daily=True)
    rows = {row.id: row for row in list_workflows(conn, workspace_id)}
    specs = {i: catalog.version(conn, i, row.current_version) for i, row in rows.items()}
    keys = {i: row.key for i, row in rows.items()}
    has_goal = {keys[i]: s.goal is not None for i, s in specs.items()}
    # Every conversion up to the period's end, read once: customer value needs them all,
    # attribution those inside the period.
    goals = _goal_events(specs.values())
    to_date = outcomes.conversions(conn, workspace_id, goals, Period(None, period.until))
    experiments: list[Experiment] = []
    lifts: list[HoldoutLift] = []
    for (wf_id, step_id), arms in _grouped(variant_arms(conn, workspace_id, period)).items():
        key = keys[wf_id]
        send = specs[wf_id].step(step_id)
        if isinstance(send, SendStep):
            arms = _in_order(arms, [v.name for v in send.variants])
        test = send.winner if isinstance(send, SendStep) else None
        if test is not None:
            metric = "click rate" if test.metric is WinnerMetric.CLICKS else "conversion rate"
        else:
            metric = "conversion rate" if has_goal[key] else "click rate"
        experiments.append(_experiment(key, step_id, "variants", arms, metric, test))
    for (wf_id, step_id), arms in _grouped(split_arms(conn, workspace_id, period)).items():
        key = keys[wf_id]
        step = specs[wf_id].step(step_id)
        if isinstance(step, SplitStep):
            arms = _in_order(arms, [p.name for p in step.paths])
        held = {p.name for p in step.paths if p.holdout} if isinstance(step, SplitStep) else set()
        holdouts = [a for a in arms if a.arm in held]
        treated = [a for a in arms if a.arm not in held]
        if holdouts:
            lifts.append(_lift(key, step_id, holdouts, treated))
        if len(treated) >= 2:
            experiments.append(_experiment(key, step_id, "split", treated, "conversion rate"))
    return Report(
        workspace_id=workspace_id,
        generated_at=now,
        period=period,
        workflows=figures,
        experiments=experiments,
        lifts=lifts,
        attribution=_attribution(conn, workspace_id, to_date, now, options),
        value=_value(conn, workspace_id, to_date, options, keys),
        findings=_audit(conn, workspace_id, figures, rows, now, options),
    )


def _goal_events(specs: Iterable[Workflow]) -> dict[str, str | None]:
    """The events that count as conversions somewhere (each workflow's goal), with the
    property holding their revenue."""
    found: dict[str, str | None] = {}
    for spec in specs:
        if spec.goal is not None and found.get(spec.goal.event) is None:
            found[spec.goal.event] = spec.goal.revenue
    return found


def _grouped(arms: Sequence[ArmCounts]) -> dict[tuple[int, str], list[ArmCounts]]:
    found: dict[tuple[int, str], list[ArmCounts]] = defaultdict(list)
    for arm in arms:
        found[(arm.workflow_id, arm.step_id)].append(arm)
    return found


def _in_order(arms: Sequence[ArmCounts], names: Sequence[str]) -> list[ArmCounts]:
    """Arms in the order the step lists them (the first is the control); arms the current
    version no longer has come last."""
    rank = {name: i for i, name in enumerate(names)}
    return sorted(arms, key=lambda a: (rank.get(a.arm, len(rank)), a.arm))


def _sample(arm: ArmCounts) -> Sample:
    return Sample(arm.assigned, arm.revenue, arm.revenue_squares)


def _pooled(arms: Sequence[ArmCounts]) -> ArmCounts:
    first = arms[0]
    return ArmCounts(
        workflow_id=first.workflow_id,
        step_id=first.step_id,
        arm="+".join(a.arm for a in arms),
        assigned=sum(a.assigned for a in arms),
        opened=sum(a.opened for a in arms),
        clicked=sum(a.clicked for a in arms),
        converted=sum(a.converted for a in arms),
        revenue=sum(a.revenue for a in arms),
        revenue_squares=sum(a.revenue_squares for a in arms),
    )


def _hits(arm: ArmCounts, metric: str) -> int:
    return arm.clicked if metric == "click rate" else arm.converted


def _experiment(
    workflow: str,
    step: str,
    kind: str,
    counts: Sequence[ArmCounts],
    metric: str,
    test: Winner | None = None,
) -> Experiment:
    """Each arm against the first (the control), on clicks (sends), conversions and revenue
    per contact; the winner is chosen on `metric` exactly as a send that promotes its own
    winner would choose it. With more than two arms, the significance level is split
    between the comparisons (Bonferroni), so that trying many arms does not manufacture a
    winner."""
    arms = [Arm(a.arm, a.assigned, a.opened, a.clicked, a.converted, a.revenue) for a in counts]
    for arm, chance in zip(
        arms, probability_best([(_hits(a, metric), a.assigned) for a in counts]), strict=True
    ):
        arm.probability_best = chance
    experiment = Experiment(workflow, step, kind, metric, arms)
    alpha = ALPHA / max(len(arms) - 1, 1)
    control = counts[0]
    metrics = ["conversion rate", "revenue per contact"]
    if kind == "variants":
        metrics.insert(0, "click rate")
    for other in counts[1:]:
        for name in metrics:
            found: Comparison | None
            try:
                if name == "revenue per contact":
                    found = compare_means(_sample(control), _sample(other))
                else:
                    found = compare_rates(
                        _hits(control, name), control.assigned, _hits(other, name), other.assigned
                    )
            except ValueError:
                found = None
            said = (
                verdict(found, control.assigned, other.assigned, alpha=alpha)
                if found is not None
                else "too early"
            )
            experiment.comparisons.append(Versus(other.arm, name, found, said))
    tallies = [(_hits(a, metric), a.assigned) for a in counts]
    if test is not None and test.choose is WinnerChoice.PROMOTE:
        # The send decides with the sequential test as results come in; say what it did.
        won = pick_winner(tallies, alpha=ALPHA, min_sample=test.min_sample, sequential=True)
        experiment.promotes = True
    else:
        won = pick_winner(tallies, alpha=ALPHA)
    experiment.winner = counts[won].arm if won is not None else None
    experiment.conclusion = _conclusion(experiment, control, alpha)
    return experiment


def _conclusion(experiment: Experiment, control: ArmCounts, alpha: float) -> str:
    smallest = min(a.assigned for a in experiment.arms)
    leads = [
        v
        for v in experiment.comparisons
        if v.metric == experiment.metric and v.verdict.endswith("is better") and v.comparison
    ]
    if experiment.winner is None and experiment.promotes and leads:
        v = leads[0]
        assert v.comparison is not None
        ahead = v.arm if v.verdict == "b is better" else control.arm
        return (
            f"{ahead} leads on {experiment.metric} (p = {v.comparison.p_value:.3f} at this "
            "look), not yet promoted: the send waits for the sequential test, which stays "
            "valid however often it is checked"
        )
    if experiment.winner is not None and experiment.promotes:
        return (
            f"{experiment.winner} won on {experiment.metric} by the sequential test (valid "
            "however often it is checked); the send now goes only to it"
        )
    if experiment.winner is not None:
        return (
            f"{experiment.winner} wins on {experiment.metric} (significant at "
            f"{alpha:.3g}); promote it"
        )
    if smallest < 100:
        return f"too early: the smallest arm has {smallest} contacts, a verdict needs 100 each"
    return (
        f"no difference found on {experiment.metric} yet; keep the test running or accept "
        "that the arms perform alike"
    )


def _lift(
    workflow: str, step: str, holdouts: Sequence[ArmCounts], treated: Sequence[ArmCounts]
) -> HoldoutLift:
    held, given = _pooled(holdouts), _pooled(treated)
    result = HoldoutLift(
        workflow=workflow,
        step=step,
        holdout=held.assigned,
        treated=given.assigned,
        conversion=None,
        revenue=None,
        incremental_conversions=None,
        incremental_revenue=None,
        attributed_revenue=given.revenue,
        conclusion="",
    )
    if held.assigned < 2 or given.assigned < 2:
        result.conclusion = "too early: the holdout has no one to compare yet"
        return result
    converted = holdout_lift(
        Sample(held.assigned, held.converted, held.converted),
        Sample(given.assigned, given.converted, given.converted),
        rate=True,
    )
    earned = holdout_lift(_sample(held), _sample(given), rate=False)
    result.conversion, result.revenue = converted.per_contact, earned.per_contact
    result.incremental_conversions = (converted.incremental, converted.low, converted.high)
    result.incremental_revenue = (earned.incremental, earned.low, earned.high)
    said = verdict(converted.per_contact, held.assigned, given.assigned)
    if said == "too early":
        result.conclusion = (
            f"too early: {held.assigned} in the holdout, a verdict needs 100; "
            "the interval below is wide"
        )
    elif said == "b is better":
        c = converted.per_contact
        money = (
            f"{earned.incremental:,.2f} incremental revenue ({earned.low:,.2f} to "
            f"{earned.high:,.2f}) of {given.revenue:,.2f} attributed"
        )
        if not earned.per_contact.significant():
            money += ", the revenue lift not yet significant"
        result.conclusion = (
            f"the workflow works: {c.difference * 100:+.1f} pts conversion "
            f"({c.low * 100:+.1f} to {c.high * 100:+.1f}), about {converted.incremental:,.0f} "
            f"incremental conversions; {money}"
        )
    elif said == "a is better":
        result.conclusion = "the holdout converts better: the workflow costs conversions"
    else:
        result.conclusion = "no lift found: contacts convert about as often without the messages"
    return result


def _attribution(
    conn: Connection,
    workspace_id: int,
    to_date: Sequence[Conversion],
    now: datetime,
    options: Options,
) -> AttributionReport:
    start = options.period.since
    found_conversions = [c for c in to_date if start is None or c.at >= start]
    window = options.attribution_window
    touched = {c.contact_id for c in found_conversions}
    first = found_conversions[0].at if found_conversions else now
    since = earlier(options.period.since or first, window)
    until = options.period.until or now
    touches = outcomes.touches(conn, workspace_id, touched, since, until)
    credit = attribute(
        found_conversions, touches, window=window, half_life=options.half_life, models=MODELS
    )
    workflows_seen = sorted({w for model in credit.by_workflow.values() for w in model})
    steps_seen = sorted({s for model in credit.by_step.values() for s in model})
    return AttributionReport(
        models=MODELS,
        window=window,
        half_life=options.half_life,
        conversions=credit.conversions,
        revenue=credit.revenue,
        untouched=credit.untouched,
        untouched_revenue=credit.untouched_revenue,
        workflows=[
            AttributionRow(w, None, {m: credit.by_workflow[m].get(w, Credit()) for m in MODELS})
            for w in workflows_seen
        ],
        steps=[
            AttributionRow(w, s, {m: credit.by_step[m].get((w, s), Credit()) for m in MODELS})
            for w, s in steps_seen
        ],
    )


def _spread(group: str, values: Sequence[outcomes.ContactValue]) -> Spread:
    return Spread(
        group=group,
        contacts=len(values),
        buyers=sum(1 for v in values if v.orders),
        value=distribution([v.revenue for v in values]),
    )


def _value(
    conn: Connection,
    workspace_id: int,
    to_date: Sequence[Conversion],
    options: Options,
    keys: dict[int, str],
) -> ValueReport:
    values = outcomes.contact_values(conn, workspace_id, to_date, options.period.until)
    by_source: dict[str, list[outcomes.ContactValue]] = defaultdict(list)
    for v in values:
        by_source[v.source].append(v)
    by_id = {v.contact_id: v for v in values}
    segments = outcomes.segment_membership(conn, workspace_id)
    hours = {
        keys[wf_id]: distribution([d.total_seconds() / 3600 for d in took])
        for wf_id, took in outcomes.times_to_convert(conn, workspace_id, options.period).items()
        if wf_id in keys
    }
    return ValueReport(
        overall=_spread("all contacts", values),
        by_source=sorted(
            (_spread(name, group) for name, group in by_source.items()),
            key=lambda s: -s.value.mean,
        ),
        by_segment=sorted(
            (
                _spread(key, [by_id[c] for c in members if c in by_id])
                for key, members in segments.items()
            ),
            key=lambda s: -s.value.mean,
        ),
        hours_to_convert=dict(sorted(hours.items())),
    )


def _audit(
    conn: Connection,
    workspace_id: int,
    figures: Sequence[WorkflowFigures],
    rows: Mapping[int, WorkflowRow],
    now: datetime,
    options: Options,
) -> list[auditing.Finding]:
    thresholds = options.thresholds
    id_of = {row.key: wf_id for wf_id, row in rows.items()}
    quarters = outcomes.quarter_cohorts(conn, workspace_id, now, auditing.QUARTER)
    records = []
    steps = []
    for f in figures:
        wf_id = id_of[f.key]
        previous, last = quarters.get(wf_id, ((0, 0), (0, 0)))
        records.append(
            auditing.WorkflowRecord(
                key=f.key,
                active=f.status == "active",
                has_goal=f.has_goal,
                updated_at=rows[wf_id].updated_at,
                entered=f.entered,
                converted=f.converted,
                sent=f.sent,
                clicked=f.clicked,
                previous_quarter=previous,
                last_quarter=last,
            )
        )
        steps += [
            auditing.StepRecord(f.key, s.step_id, s.kind, s.entered, s.waiting, s.left)
            for s in f.steps
        ]
    weeks: dict[datetime, int] = defaultdict(int)
    for day, count in outcomes.alerts_by_day(conn, workspace_id, options.period).items():
        on = datetime.fromisoformat(day).replace(tzinfo=now.tzinfo)
        weeks[on - timedelta(days=on.weekday())] += count
    return auditing.audit(
        records,
        steps,
        outcomes.parallel_journeys(conn, workspace_id),
        sorted(weeks.items()),
        now,
        thresholds,
    )
