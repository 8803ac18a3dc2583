"""The update step: change the contact, and let later steps see the change at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tidings.core.effects import UpdateContact
from tidings.core.spec import UpdateStep
from tidings.core.state import ContactView
from tidings.core.steps.base import Outcome, StepContext, go_to
from tidings.core.steps.checks import MeaningChecks, as_list, as_map


def apply_update(contact: ContactView, update: UpdateContact) -> ContactView:
    """The contact as it is after `update`."""
    attributes = {k: v for k, v in contact.attributes.items() if k not in update.unset}
    attributes.update(update.set)
    tags = (contact.tags | set(update.add_tags)) - set(update.remove_tags)
    # Kept to the hundredth, like named scores: 0.1 + 0.2 is shown as 0.3, not 0.30000000000000004.
    score = round(contact.score + (update.score_delta or 0), 2)
    consent = {**contact.consent, **update.consent}
    return replace(
        contact, attributes=attributes, tags=frozenset(tags), score=score, consent=consent
    )


def run_update(step: UpdateStep, ctx: StepContext) -> Outcome:
    """Queue the contact change and carry on with the changed contact."""
    update = UpdateContact(
        contact_id=ctx.contact.id,
        set=dict(step.set),
        unset=step.unset,
        add_tags=step.add_tags,
        remove_tags=step.remove_tags,
        score_delta=step.score,
        consent={str(k): str(v) for k, v in step.consent.items()},
    )
    parts = [f"set {', '.join(step.set)}" if step.set else ""]
    parts += [f"unset {', '.join(step.unset)}" if step.unset else ""]
    parts += [f"tag +{', +'.join(step.add_tags)}" if step.add_tags else ""]
    parts += [f"tag -{', -'.join(step.remove_tags)}" if step.remove_tags else ""]
    parts += [f"score {step.score:+g}" if step.score else ""]
    parts += [f"consent {k}={v}" for k, v in update.consent.items()]
    decision = ctx.decision("updated", "; ".join(p for p in parts if p))
    return Outcome(
        go_to(ctx.state, ctx.workflow.next_of(step)),
        effects=(update,),
        decisions=(decision,),
        contact=apply_update(ctx.contact, update),
    )


def check_update(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """The contact fields it sets or unsets are in the schema."""
    for name in list(as_map(step.get("set"))) + [
        u for u in as_list(step.get("unset")) if isinstance(u, str)
    ]:
        checks.contact_field(f"{path}.set", name)
