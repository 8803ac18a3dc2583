"""Reading bounce and complaint reports that come back by email.

Delivery status notifications (RFC 3464: `multipart/report; report-type=delivery-status`)
say per recipient whether delivery failed for good (status 5.x.x: a hard bounce) or only
for now (4.x.x: soft). Abuse reports (ARF, RFC 5965: `report-type=feedback-report`) say a
person marked the message as spam. Both usually carry the original message's headers,
whose Message-ID names the message Tidings sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, message_from_string, policy
from email.message import Message
from email.utils import parseaddr

from tidings.delivery.results import Bounce


class NotAReport(ValueError):
    """The message is not a delivery status or feedback report."""


@dataclass(frozen=True)
class BounceNotice:
    """One recipient's outcome from a report."""

    kind: Bounce
    recipient: str
    reason: str
    message_id: str | None  # the original message's Message-ID, when the report quotes it


def _address(value: str | None) -> str:
    """`rfc822; someone@example.com` -> `someone@example.com`."""
    if not value:
        return ""
    return value.split(";", 1)[-1].strip().strip("<>")


def _inner(part: Message) -> list[Message]:
    """The messages (or header blocks) a message/* part holds."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [item for item in payload if isinstance(item, Message)]


def _original_message_id(report: Message) -> str | None:
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global", "message/global-headers"):
            for inner in _inner(part)[:1]:
                found = inner.get("Message-ID")
                if found:
                    return str(found).strip()
        if content_type == "text/rfc822-headers":
            body = part.get_payload(decode=True)
            headers = message_from_bytes(body if isinstance(body, bytes) else b"")
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return None


def parse_report(raw: bytes) -> list[BounceNotice]:
    """Every recipient outcome a bounce or complaint message reports."""
    message = message_from_bytes(raw, policy=policy.compat32)
    if message.get_content_type() != "multipart/report":
        raise NotAReport(f"expected a multipart/report message, got {message.get_content_type()}")
    report_type = str(message.get_param("report-type") or "").lower()
    original = _original_message_id(message)
    if report_type == "delivery-status":
        return _delivery_status(message, original)
    if report_type == "feedback-report":
        return _feedback(message, original)
    raise NotAReport(
        f"report-type {report_type or '(none)'} is neither delivery-status nor feedback-report"
    )


def _delivery_status(message: Message, original: str | None) -> list[BounceNotice]:
    found: list[BounceNotice] = []
    for part in message.walk():
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        for block in _status_blocks(part)[1:]:  # the first block is about the whole message
            action = (block.get("Action") or "").strip().lower()
            status = (block.get("Status") or "").strip()
            recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
            if not recipient or action not in ("failed", "delayed"):
                continue
            hard = action == "failed" and status.startswith("5")
            # "smtp; 550 5.1.1 no such user": the part after the type says what happened.
            diagnostic = " ".join((block.get("Diagnostic-Code") or "").split(";", 1)[-1].split())
            reason = f"{status} {diagnostic}".strip() or action
            found.append(
                BounceNotice(Bounce.HARD if hard else Bounce.SOFT, recipient, reason, original)
            )
    if not found:
        raise NotAReport("the delivery status report names no failed recipient")
    return found


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a delivery-status part: one about the message, one per recipient.

    The email package splits message/delivery-status into its blocks itself, but reads
    message/global-delivery-status (RFC 6533, for internationalised addresses) as one
    message whose body holds the recipients, so that one is split here, as UTF-8.
    """
    if part.get_content_type() == "message/delivery-status":
        return _inner(part)
    text = b"".join(inner.as_bytes() for inner in _inner(part)).decode("utf-8", "replace")
    blocks = re.split(r"\r?\n[ \t]*\r?\n", text)
    return [message_from_string(block.strip("\r\n")) for block in blocks if block.strip()]


def _feedback(message: Message, original: str | None) -> list[BounceNotice]:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = next(iter(_inner(part)), part)
        feedback = (fields.get("Feedback-Type") or "abuse").strip().lower()
        recipient = _address(fields.get("Original-Rcpt-To"))
        if not recipient:
            recipient = _original_recipient(message)
        if not recipient:
            raise NotAReport("the feedback report names no recipient (Original-Rcpt-To)")
        return [BounceNotice(Bounce.COMPLAINT, recipient, f"feedback: {feedback}", original)]
    raise NotAReport("the feedback report has no message/feedback-report part")


def _original_recipient(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            for inner in _inner(part)[:1]:
                if inner.get("To"):
                    # A To header may carry a name: `Ann <ann@example.com>`.
                    return parseaddr(str(inner["To"]))[1]
    return ""
