"""Branch (first condition that holds) and split (random proportions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidings.core.calendar import stable_fraction
from tidings.core.conditions import Condition, Facts, evaluate, fields_of, parse_condition
from tidings.core.conditions.ast import behaviours_of, to_text
from tidings.core.conditions.evaluate import measure, resolve
from tidings.core.spec import BranchStep, SplitStep
from tidings.core.steps.base import Outcome, StepContext, go_to
from tidings.core.steps.checks import MeaningChecks, as_list, as_map


def run_branch(step: BranchStep, ctx: StepContext) -> Outcome:
    """Take the first arm whose condition holds; the log records the values that decided it."""
    facts = ctx.facts()
    for number, rule in enumerate(step.branches, start=1):
        cond = parse_condition(rule.when)
        if evaluate(cond, facts):
            seen = _values(cond, facts)
            detail = f"arm {number} ({rule.when}) -> {rule.next}"
            decision = ctx.decision("branched", detail, arm=number, values=seen)
            return Outcome(go_to(ctx.state, rule.next), decisions=(decision,))
    target = step.else_ if step.else_ is not None else ctx.workflow.next_of(step)
    seen = {
        k: v
        for rule in step.branches
        for k, v in _values(parse_condition(rule.when), facts).items()
    }
    detail = f"no arm held -> {target or 'end'}"
    decision = ctx.decision("branched", detail, arm="else", values=seen)
    return Outcome(go_to(ctx.state, target), decisions=(decision,))


def _values(cond: Condition, facts: Facts) -> dict[str, Any]:
    """The values a condition read: its fields, and what each rule on the past counted
    (`performed product_viewed within 3d: 2`), for the timeline's why."""
    seen: dict[str, Any] = {str(f): resolve(f, facts) for f in fields_of(cond)}
    for rule in behaviours_of(cond):
        seen[to_text(rule)] = measure(rule, facts)
    return seen


def run_split(step: SplitStep, ctx: StepContext) -> Outcome:
    """Pick a path at random in the step's proportions, the same path if the step runs again.

    A split with a holdout draws per contact, not per journey: a person held out of one cart
    journey is held out of the next too, so no treated journey leaks into the holdout's
    behaviour and the lift measures the workflow, not a mix.
    """
    if any(path.holdout for path in step.paths):
        point = stable_fraction(ctx.state.contact_id, ctx.workflow.id, step.id, "holdout") * 100
    else:
        point = stable_fraction(ctx.state.id, step.id, ctx.state.attempt(step.id)) * 100
    chosen = step.paths[-1]
    for path in step.paths:
        point -= path.percent
        if point < 0:
            chosen = path
            break
    decision = ctx.decision("split", f"path {chosen.name} -> {chosen.next}", path=chosen.name)
    return Outcome(go_to(ctx.state, chosen.next), decisions=(decision,))


def check_branch(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """Each arm's condition, read against the journey's trigger."""
    for j, arm in enumerate(as_list(step.get("branches"))):
        when = as_map(arm).get("when")
        if isinstance(when, str):
            checks.condition(f"{path}.branches[{j}].when", when, event=checks.trigger_event)
