"""Steps that reach outside the journey: webhook, notify, enroll, approval, exit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tidings.core.approvers import approver_problem
from tidings.core.effects import CallWebhook, Enroll, Notify, RequestApproval
from tidings.core.problems import suggest
from tidings.core.render import RenderError, render
from tidings.core.spec import ApprovalStep, EnrollStep, ExitStep, NotifyStep, WebhookStep
from tidings.core.state import EnrollmentStatus, WaitKind
from tidings.core.steps.base import Outcome, StepContext, end, go_to, wait_until
from tidings.core.steps.checks import MeaningChecks, as_list


def run_webhook(step: WebhookStep, ctx: StepContext) -> Outcome:
    """Queue an HTTP call with the body rendered for this contact."""
    following = go_to(ctx.state, ctx.workflow.next_of(step))
    try:
        body = (
            render(step.body, ctx.template_context(), time_limit=ctx.time_limit)
            if step.body is not None
            else None
        )
    except RenderError as exc:
        return Outcome(following, decisions=(ctx.decision("held", f"template error: {exc}"),))
    call = CallWebhook(
        enrollment_id=ctx.state.id,
        contact_id=ctx.contact.id,
        step_id=step.id,
        attempt=ctx.state.attempt(step.id),
        url=step.url,
        method=step.method,
        headers=dict(step.headers),
        body=body,
    )
    decision = ctx.decision("queued", f"webhook {step.method} {step.url}")
    return Outcome(following, effects=(call,), decisions=(decision,))


def run_notify(step: NotifyStep, ctx: StepContext) -> Outcome:
    """Queue an alert to a person in the business."""
    following = go_to(ctx.state, ctx.workflow.next_of(step))
    try:
        text = render(step.message, ctx.template_context(), time_limit=ctx.time_limit)
    except RenderError as exc:
        return Outcome(following, decisions=(ctx.decision("held", f"template error: {exc}"),))
    alert = Notify(
        enrollment_id=ctx.state.id,
        contact_id=ctx.contact.id,
        step_id=step.id,
        attempt=ctx.state.attempt(step.id),
        channel=step.channel,
        to=step.to,
        text=text,
    )
    decision = ctx.decision("queued", f"alert by {step.channel} to {step.to}")
    return Outcome(following, effects=(alert,), decisions=(decision,))


def run_enroll(step: EnrollStep, ctx: StepContext) -> Outcome:
    """Ask the shell to enroll the contact in another workflow (its entry rules still apply)."""
    effect = Enroll(
        contact_id=ctx.contact.id, workflow_key=step.workflow, source_enrollment_id=ctx.state.id
    )
    decision = ctx.decision("enrolling", f"into {step.workflow}")
    return Outcome(
        go_to(ctx.state, ctx.workflow.next_of(step)), effects=(effect,), decisions=(decision,)
    )


def approval_request(step: ApprovalStep, ctx: StepContext, expires_at: datetime) -> RequestApproval:
    """The request this visit of `step` makes: its message rendered for the contact, its
    approvers, its deadline. A journey moved onto an approval step asks again with it."""
    try:
        message = render(step.message, ctx.template_context(), time_limit=ctx.time_limit)
    except RenderError as exc:
        message = f"{step.message} (template error: {exc})"
    return RequestApproval(
        enrollment_id=ctx.state.id,
        contact_id=ctx.contact.id,
        step_id=step.id,
        attempt=ctx.state.attempt(step.id),
        message=message,
        approvers=step.approvers,
        expires_at=expires_at,
    )


def start_approval(step: ApprovalStep, ctx: StepContext) -> Outcome:
    """Ask for a decision and wait for it until the timeout."""
    expires_at = ctx.now + step.timeout
    request = approval_request(step, ctx, expires_at)
    state = wait_until(ctx.state, expires_at, WaitKind.APPROVAL)
    decision = ctx.decision("awaiting_approval", request.message, expires_at=expires_at.isoformat())
    return Outcome(state, effects=(request,), decisions=(decision,))


def resume_approval(step: ApprovalStep, ctx: StepContext) -> Outcome:
    """Nobody decided in time: take the timeout path, or leave."""
    if ctx.state.wake_at is not None and ctx.now < ctx.state.wake_at:
        return Outcome(ctx.state)
    decision = ctx.decision("timed_out", "no decision before the timeout")
    if step.on_timeout is None:
        state = end(ctx.state, EnrollmentStatus.EXITED, "approval timed out", ctx.now)
        return Outcome(state, decisions=(decision,))
    return Outcome(go_to(ctx.state, step.on_timeout), decisions=(decision,))


def decide_approval(step: ApprovalStep, ctx: StepContext, approved: bool, by: str) -> Outcome:
    """A person approved or rejected: go down that path (a rejection with no path leaves)."""
    action = "approved" if approved else "rejected"
    decision = ctx.decision(action, f"by {by}")
    target = step.on_approve if approved else step.on_reject
    if approved and target is None:
        target = ctx.workflow.next_of(step)
    if target is None:
        state = end(ctx.state, EnrollmentStatus.EXITED, "rejected", ctx.now)
        return Outcome(state, decisions=(decision,))
    return Outcome(go_to(ctx.state, target), decisions=(decision,))


def run_exit(step: ExitStep, ctx: StepContext) -> Outcome:
    """End the journey here."""
    reason = step.reason or f"exit step {step.id}"
    decision = ctx.decision("exited", reason)
    return Outcome(end(ctx.state, EnrollmentStatus.EXITED, reason, ctx.now), decisions=(decision,))


def check_templated(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """A webhook's body, or a notify's or approval's message: Liquid templates."""
    field = "body" if step.get("type") == "webhook" else "message"
    source = step.get(field)
    if isinstance(source, str):
        checks.liquid(f"{path}.{field}", source, checks.trigger_event)


def check_approval(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """The approval's message like any template; each approver a person or a role."""
    check_templated(checks, path, step)
    for i, name in enumerate(as_list(step.get("approvers"))):
        if isinstance(name, str) and (why := approver_problem(name)) is not None:
            checks.add(
                f"{path}.approvers[{i}]",
                why,
                "name a person by email (lead@shop.example) or a role: approver or owner",
            )


def check_enroll(checks: MeaningChecks, path: str, step: Mapping[str, Any]) -> None:
    """The workflow it enrolls into exists, when the workspace's workflows are known."""
    target = step.get("workflow")
    known = checks.known_workflows
    if isinstance(target, str) and known is not None and target not in known:
        hint = suggest(target, known) or "deploy that workflow first"
        checks.add(f"{path}.workflow", f"unknown workflow {target!r}", hint)
