"""The send step: render the template for this contact and queue the message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tidings.core.calendar import stable_fraction
from tidings.core.channels import Channel
from tidings.core.duration import format_duration
from tidings.core.effects import SendMessage
from tidings.core.problems import suggest
from tidings.core.render import RenderError, render, text_source_from_html
from tidings.core.spec import (
    ConsentStatus,
    OnDeferral,
    SendKind,
    SendStep,
    Variant,
    WinnerChoice,
)
from tidings.core.state import WaitKind
from tidings.core.stats import pick_winner, thompson_pick
from tidings.core.steps.base import Outcome, StepContext, go_to, wait_until
from tidings.core.steps.checks import MeaningChecks, as_list, as_map

#: The `rule` in the data of a "held" line that waits for the channel's marketing consent.
HELD_FOR_CONSENT = "consent"

#: The longest a send with `on_deferral: hold` keeps its journey (unless `valid_for` is
#: shorter): a message that has not gone by then no longer holds anyone back.
HOLD_LIMIT = timedelta(days=30)


def pick_variant(variants: tuple[Variant, ...], *seed: object) -> Variant:
    """The A/B variant for this enrollment, in proportion to the weights, stable across retries."""
    total = sum(v.weight for v in variants)
    point = stable_fraction(*seed) * total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]


def choose_variant(step: SendStep, ctx: StepContext) -> tuple[Variant, str]:
    """The variant this send uses, and why when a test chose it by its results so far."""
    seed = (ctx.state.id, step.id)
    winner = step.winner
    if winner is None:
        return pick_variant(step.variants, *seed), ""
    tallies = ctx.arms.get(step.id, {})
    counts = [tallies.get(v.name, (0, 0)) for v in step.variants]
    if winner.choose is WinnerChoice.PROMOTE:
        won = pick_winner(counts, min_sample=winner.min_sample, sequential=True)
        if won is None:
            return pick_variant(step.variants, *seed), ""
        hits, sent = counts[won]
        why = f"promoted: won on {winner.metric.value} ({hits} of {sent})"
        return step.variants[won], why
    draws = [stable_fraction(*seed, "thompson", v.name) for v in step.variants]
    chosen = step.variants[thompson_pick(counts, draws)]
    return chosen, f"Thompson sampling on {winner.metric.value}"


def run_send(step: SendStep, ctx: StepContext) -> Outcome:
    """Queue the message, or hold it with the reason when it must not go out."""
    state, contact = ctx.state, ctx.contact
    following = go_to(state, ctx.workflow.next_of(step))
    variant, chosen_by = choose_variant(step, ctx) if step.variants else (None, "")
    template_name = variant.template if variant else step.template
    assert template_name is not None  # the model requires a template or variants

    address = contact.email if step.channel == Channel.EMAIL else contact.phone
    if not address:
        why = f"the contact has no {'email address' if step.channel == 'email' else 'phone number'}"
        return Outcome(following, decisions=(ctx.decision("held", why),))
    if step.kind is SendKind.MARKETING:
        consent = contact.consent.get(step.channel)
        if consent != ConsentStatus.SUBSCRIBED:
            why = f"no {step.channel} marketing consent (status: {consent or 'unknown'})"
            # The rule and channel as data: a later confirmation finds these lines by them,
            # whatever the wording of the reason.
            held = ctx.decision("held", why, rule=HELD_FOR_CONSENT, channel=step.channel.value)
            return Outcome(following, decisions=(held,))
        if step.topic and contact.consent.get(f"topic:{step.topic}") == "unsubscribed":
            why = f"unsubscribed from the topic {step.topic!r}"
            return Outcome(following, decisions=(ctx.decision("held", why),))

    template = ctx.workflow.templates.get(template_name)
    if template is None:
        why = f"the template {template_name!r} does not exist in this version"
        return Outcome(following, decisions=(ctx.decision("held", why),))
    data = ctx.template_context()

    def part(source: str | None, *, html: bool = False) -> str | None:
        return (
            None if source is None else render(source, data, html=html, time_limit=ctx.time_limit)
        )

    try:
        subject, html, text = (
            part(template.subject),
            part(template.html, html=True),
            part(template.text),
        )
        if text is None and template.html is not None:
            text = part(text_source_from_html(template.html))
    except RenderError as exc:
        return Outcome(following, decisions=(ctx.decision("held", f"template error: {exc}"),))

    message = SendMessage(
        enrollment_id=state.id,
        contact_id=contact.id,
        step_id=step.id,
        attempt=state.attempt(step.id),
        channel=step.channel.value,
        to=address,
        kind=step.kind.value,
        template=template_name,
        subject=subject,
        html=html,
        text=text,
        variant=variant.name if variant else None,
        topic=step.topic,
        priority=ctx.workflow.priority,
        expires_at=ctx.now + step.valid_for if step.valid_for is not None else None,
        holds=step.on_deferral is OnDeferral.HOLD,
    )
    detail = f"{step.channel.value} {template_name!r} to {address}"
    if variant:
        detail += f" (variant {variant.name}{'; ' + chosen_by if chosen_by else ''})"
    if message.holds:
        # The journey stays here until the dispatcher sends or drops the message.
        limit = min(HOLD_LIMIT, step.valid_for or HOLD_LIMIT)
        following = wait_until(state, ctx.now + limit, WaitKind.MESSAGE)
        detail += "; the journey waits here until it goes (on_deferral: hold)"
    decision = ctx.decision("queued", detail, template=template_name, variant=message.variant)
    return Outcome(following, effects=(message,), decisions=(decision,))


def resume_send(step: SendStep, ctx: StepContext) -> Outcome:
    """A send that held its journey (`on_deferral: hold`) lets it go on: the dispatcher
    sent or dropped the message (and turned the wait into a due timer), or the limit
    passed first."""
    state = ctx.state
    if state.wake_at is not None and ctx.now < state.wake_at:
        return Outcome(state)  # the message has not gone yet
    following = go_to(state, ctx.workflow.next_of(step))
    if state.wait_kind is not WaitKind.MESSAGE:
        # Released by the dispatcher: its "sent" or "dropped" line already tells the story.
        return Outcome(following)
    limit = min(HOLD_LIMIT, step.valid_for or HOLD_LIMIT)
    why = f"the message had not gone after {format_duration(limit)}; going on without it"
    return Outcome(following, decisions=(ctx.decision("went_on", why),))


def check_send(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """Its templates exist and suit the channel; a marketing send has consent to check."""
    templates = as_map(checks.data.get("templates"))
    names = [(f"{path}.template", step.get("template"))]
    names += [
        (f"{path}.variants[{j}].template", as_map(v).get("template"))
        for j, v in enumerate(as_list(step.get("variants")))
    ]
    channel = step.get("channel", Channel.EMAIL)
    for where, name in names:
        if not isinstance(name, str):
            continue
        if name not in templates:
            hint = suggest(name, templates) or "define it under templates:"
            checks.add(where, f"unknown template {name!r}", hint)
        elif channel == Channel.EMAIL and not as_map(templates[name]).get("subject"):
            checks.add(f"templates.{name}", "an email template needs a subject")
        elif channel == Channel.SMS and not as_map(templates[name]).get("text"):
            checks.add(f"templates.{name}", "an SMS template needs text")
    if step.get("kind", "marketing") == "marketing":
        _check_marketing_send(checks, path, step, channel)


def _check_marketing_send(
    checks: MeaningChecks, path: str, step: Mapping[str, Any], channel: Any
) -> None:
    if isinstance(channel, str) and channel not in checks.schema.consent:
        checks.add(
            path,
            f"a marketing send on {channel} has no consent to check",
            f"record {channel} consent in the schema, or mark the send kind: transactional",
        )
    topic = step.get("topic")
    if isinstance(topic, str) and checks.schema.topics and topic not in checks.schema.topics:
        checks.add(
            f"{path}.topic",
            f"unknown topic {topic!r}",
            suggest(topic, checks.schema.topics) or "add it to the schema's topics",
        )
