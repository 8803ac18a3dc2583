"""The suppress step: a state, not a tag every flow must remember. The contact's consent
on the channel becomes `suppressed`, which every marketing send and policy reads as "no
consent"; transactional messages still go; subscribing again lifts it."""

from __future__ import annotations

from tidings.core.effects import UpdateContact
from tidings.core.spec import ConsentStatus, SuppressStep
from tidings.core.steps.base import Outcome, StepContext, go_to
from tidings.core.steps.update import apply_update


def run_suppress(step: SuppressStep, ctx: StepContext) -> Outcome:
    """Suppress the contact on the step's channel, unless a withdrawal is already on file
    (unsubscribed, bounced, complained say more, and must stay)."""
    status = ctx.contact.consent.get(step.channel)
    nxt = go_to(ctx.state, ctx.workflow.next_of(step))
    if status not in (None, ConsentStatus.SUBSCRIBED, "pending"):
        detail = f"{step.channel} marketing already stopped ({status}); reason {step.reason}"
        return Outcome(nxt, decisions=(ctx.decision("suppressed", detail, reason=step.reason),))
    update = UpdateContact(
        contact_id=ctx.contact.id, consent={step.channel: ConsentStatus.SUPPRESSED.value}
    )
    detail = f"suppressed from {step.channel} marketing: {step.reason}"
    return Outcome(
        nxt,
        effects=(update,),
        decisions=(ctx.decision("suppressed", detail, reason=step.reason),),
        contact=apply_update(ctx.contact, update),
    )
