"""Branch (first condition that holds) and split (random proportions)."""

from __future__ import annotations

from tidings.core.calendar import stable_fraction
from tidings.core.conditions import evaluate, fields_of, parse_condition
from tidings.core.conditions.evaluate import resolve
from tidings.core.spec import BranchStep, SplitStep
from tidings.core.steps.base import Outcome, StepContext, go_to


def run_branch(step: BranchStep, ctx: StepContext) -> Outcome:
    """Take the first arm whose condition holds; the log records the values that decided it."""
    facts = ctx.facts()
    for number, rule in enumerate(step.branches, start=1):
        cond = parse_condition(rule.when)
        if evaluate(cond, facts):
            seen = {str(f): resolve(f, facts) for f in fields_of(cond)}
            detail = f"arm {number} ({rule.when}) -> {rule.next}"
            decision = ctx.decision("branched", detail, arm=number, values=seen)
            return Outcome(go_to(ctx.state, rule.next), decisions=(decision,))
    target = step.else_ if step.else_ is not None else ctx.workflow.next_of(step)
    seen = {
        str(f): resolve(f, facts)
        for rule in step.branches
        for f in fields_of(parse_condition(rule.when))
    }
    detail = f"no arm held -> {target or 'end'}"
    decision = ctx.decision("branched", detail, arm="else", values=seen)
    return Outcome(go_to(ctx.state, target), decisions=(decision,))


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
