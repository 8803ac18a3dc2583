"""Tell the people who may decide that an approval waits: an alert by email to each, and
one to the workspace's Slack webhook when it has one, each through the outbox like any
alert (retried, recorded). The dispatcher adds the signed link to the inbox when it sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from tidings.core.approvers import Approvers
from tidings.core.channels import MessageChannel
from tidings.core.effects import RequestApproval
from tidings.delivery.approval_links import notice_payload
from tidings.storage.messages import MessageStatus
from tidings.storage.people import list_members
from tidings.storage.workspaces import load_workspace


def notice_text(effect: RequestApproval) -> str:
    """What the notice says; its first line is the email's subject."""
    deadline = effect.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Approval needed: {effect.message}\n\n"
        f"Step {effect.step_id} of a journey waits for your decision until {deadline}."
    )


def approval_notices(
    conn: Connection, workspace_id: int, effect: RequestApproval
) -> list[dict[str, Any]]:
    """The outbox fields of each notice: channel, recipient, text, payload and its key."""
    approvers = Approvers.of(effect.approvers)
    # People invited but not yet joined cannot log in to decide: only named ones are told.
    members = [(m.email, m.role.value) for m in list_members(conn, workspace_id) if not m.invited]
    text = notice_text(effect)
    payload = notice_payload(
        effect.enrollment_id, effect.step_id, effect.attempt, effect.expires_at
    )
    visit = f"approval:{effect.enrollment_id}:{effect.step_id}:{effect.attempt}"
    found = [
        {
            "channel": MessageChannel.ALERT_EMAIL,
            "recipient": email,
            "body_text": text,
            "payload": payload,
            "idempotency_key": f"{visit}:{email}",
        }
        for email in approvers.recipients(members)
    ]
    workspace = load_workspace(conn, workspace_id)
    alerts = (workspace.settings.get("alerts") or {}) if workspace is not None else {}
    if isinstance(alerts, dict) and alerts.get("slack_webhook_url"):
        # An empty recipient: the workspace's webhook, to its default channel.
        found.append(
            {
                "channel": MessageChannel.ALERT_SLACK,
                "recipient": "",
                "body_text": text,
                "payload": payload,
                "idempotency_key": f"{visit}:slack",
            }
        )
    return found


def queued_notices(
    conn: Connection, workspace_id: int, workflow_id: int, effect: RequestApproval, now: datetime
) -> list[dict[str, Any]]:
    """The notices as whole outbox rows, queued now: for a request made outside a step's
    run (a journey moved onto an approval step). Each person's key names the step and
    the visit, so one already told of this visit is not told twice."""
    return [
        {
            "workspace_id": workspace_id,
            "contact_id": effect.contact_id,
            "enrollment_id": effect.enrollment_id,
            "workflow_id": workflow_id,
            "step_id": effect.step_id,
            "kind": "internal",
            "subject": None,
            "body_html": None,
            "status": MessageStatus.QUEUED,
            "created_at": now,
            "send_after": now,
            "priority": 0,
            "expires_at": None,
            **notice,
        }
        for notice in approval_notices(conn, workspace_id, effect)
    ]
