"""One preparer per channel: from a message the policies allowed, the call that sends it.

A preparer builds everything the send needs (the email with its tracked links and DKIM
signature, the E.164 number, the signed webhook call) and returns it as a `Prepared`: the
dispatcher leases the message, then calls `send` outside any transaction. A preparer returns
a string instead when the message cannot be sent at all (why, for the step log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tidings.cleaning import to_e164
from tidings.core.channels import TO_EMAIL_ADDRESSES, MessageChannel
from tidings.core.message_ids import make_message_id
from tidings.delivery import compose
from tidings.delivery.approval_links import approval_link
from tidings.delivery.results import Result
from tidings.delivery.settings import DeliverySettings, address_problem
from tidings.delivery.tokens import Purpose, make_token
from tidings.delivery.transports import Transports
from tidings.delivery.webhooks import Call, webhook_secret


@dataclass(frozen=True)
class Workspace:
    """The workspace a message is sent for: its id, its signing secret, its settings."""

    id: int
    secret: str
    settings: DeliverySettings


@dataclass(frozen=True)
class Outbound:
    """What a preparer reads of an outbox message."""

    id: int
    contact_id: int
    channel: str
    kind: str
    recipient: str
    subject: str | None
    body_html: str | None
    body_text: str | None
    #: The id a previous attempt was sent with (kept on a resend).
    provider_id: str | None
    #: Written back with the lease (an email's tracked links are added here).
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: Any) -> Outbound:
        """From an outbox row."""
        return cls(
            id=row.id,
            contact_id=row.contact_id,
            channel=row.channel,
            kind=row.kind,
            recipient=row.recipient,
            subject=row.subject,
            body_html=row.body_html,
            body_text=row.body_text,
            provider_id=row.provider_id,
            payload=dict(row.payload or {}),
        )


@dataclass(frozen=True)
class Prepared:
    """A message ready to go: the call that sends it, and the id it goes out with."""

    send: Callable[[], Result]
    #: The Message-ID or webhook id, kept on the message so a resend reuses it.
    external_id: str | None


Preparer = Callable[[Transports, Workspace, Outbound, datetime], Prepared | str]


def message_id(ws: Workspace, message: Outbound) -> str:
    """The Message-ID header of `message`'s email."""
    return make_message_id(message.id, ws.id, ws.settings.sender.domain)


def prepare_email(
    transports: Transports, ws: Workspace, message: Outbound, now: datetime
) -> Prepared:
    """An email to a contact: tracked links, unsubscribe headers, optionally DKIM-signed."""
    assert transports.smtp is not None
    smtp, sender, base = transports.smtp, ws.settings.sender, transports.public_url

    def token(purpose: Purpose, *parts: Any) -> str:
        return make_token(ws.id, ws.secret, purpose, *parts)

    links = compose.Links(
        open=f"{base}/t/o/{token(Purpose.OPEN, message.id)}",
        click=lambda i: f"{base}/t/c/{token(Purpose.CLICK, message.id, i)}",
        unsubscribe=f"{base}/u/{token(Purpose.UNSUBSCRIBE, message.id)}",
        preferences=f"{base}/p/{token(Purpose.PREFERENCES, message.contact_id)}",
    )
    # A resend keeps the Message-ID it had, so the receiver can tell it is a copy.
    header_id = message.provider_id or message_id(ws, message)
    out = compose.EmailParts(
        message_id=header_id,
        to=message.recipient,
        subject=message.subject or "",
        html=message.body_html,
        text=message.body_text,
        marketing=message.kind == "marketing",
        postal_address=sender.postal_address,
        track=not message.payload.get("untracked"),
    )
    raw, tracked = compose.build_email(out, sender, links, now)
    if transports.dkim is not None:
        selector, key = transports.dkim
        raw = compose.dkim_sign(raw, selector, sender.domain, key)
    message.payload["links"] = tracked
    return Prepared(lambda: smtp.send(sender.from_email, message.recipient, raw), header_id)


def prepare_alert_email(
    transports: Transports, ws: Workspace, message: Outbound, now: datetime
) -> Prepared:
    """An internal alert by email: a plain message whose subject is its first line."""
    assert transports.smtp is not None
    smtp, sender = transports.smtp, ws.settings.sender
    header_id = message_id(ws, message)
    first_line = next(iter((message.body_text or "").splitlines()), "")
    subject = f"Tidings alert: {first_line[:80]}"
    text = _alert_text(transports, ws, message)
    raw = compose.build_alert_email(message.recipient, subject, text, sender, header_id, now)
    return Prepared(lambda: smtp.send(sender.from_email, message.recipient, raw), header_id)


def _alert_text(transports: Transports, ws: Workspace, message: Outbound) -> str:
    """An alert's text; an approval notice gets its signed link to the inbox, made now so
    the outbox never stores a usable link."""
    text = message.body_text or ""
    link = approval_link(transports.public_url, ws.id, ws.secret, message.payload)
    return text if link is None else f"{text}\n\nDecide in the approvals inbox: {link}"


def prepare_sms(
    transports: Transports, ws: Workspace, message: Outbound, now: datetime
) -> Prepared | str:
    """A text message to an E.164 number."""
    assert transports.sms is not None
    sms = transports.sms
    number = to_e164(message.recipient, transports.sms_region)
    if number is None:
        return f"{message.recipient!r} is not a valid phone number"
    text = message.body_text or ""
    return Prepared(lambda: sms.send(number, text), None)


def prepare_webhook(
    transports: Transports, ws: Workspace, message: Outbound, now: datetime
) -> Prepared:
    """An HTTP call, signed per Standard Webhooks with the workspace's secret."""
    http, payload = transports.http, message.payload
    call = Call(
        str(payload.get("url") or message.recipient),
        str(payload.get("method") or "POST"),
        (message.body_text or "").encode(),
        {str(k): str(v) for k, v in (payload.get("headers") or {}).items()},
    )
    secret = webhook_secret(ws.secret)
    webhook_id = f"msg_{ws.id}_{message.id}"
    return Prepared(lambda: http.webhook(call, secret, webhook_id, now), webhook_id)


def prepare_alert_slack(
    transports: Transports, ws: Workspace, message: Outbound, now: datetime
) -> Prepared | str:
    """An internal alert to a Slack-compatible webhook: the recipient is the webhook's URL,
    or a Slack channel on the workspace's own webhook."""
    http, to = transports.http, message.recipient
    is_url = to.startswith(("https://", "http://"))
    url = to if is_url else ws.settings.alerts.slack_webhook_url
    if url is None:
        return "no Slack webhook URL: set alerts.slack_webhook_url in the workspace settings"
    slack_channel = None if is_url else to
    text = _alert_text(transports, ws, message)
    return Prepared(lambda: http.slack(url, text, slack_channel), None)


PREPARERS: dict[str, Preparer] = {
    MessageChannel.EMAIL: prepare_email,
    MessageChannel.ALERT_EMAIL: prepare_alert_email,
    MessageChannel.SMS: prepare_sms,
    MessageChannel.WEBHOOK: prepare_webhook,
    MessageChannel.ALERT_SLACK: prepare_alert_slack,
}


def prepare(
    transports: Transports, ws: Workspace, message: Outbound, now: datetime
) -> Prepared | str:
    """The send for an allowed message, or why it cannot be sent."""
    if message.channel in TO_EMAIL_ADDRESSES:
        problem = address_problem(message.recipient)
        if problem is not None:
            # Goes into the To header and the SMTP envelope: nothing else may ride along.
            return f"{message.recipient!r} is not a valid email address: it {problem}"
    preparer = PREPARERS.get(message.channel)
    if preparer is None:
        return f"the channel {message.channel!r} is not known"
    return preparer(transports, ws, message, now)
