"""Channels: the ways a message leaves Tidings.

`Channel` is what a contact is reached through and consents to (what a workflow's `send`
step and the consent map name). `MessageChannel` is every value an outbox message's `channel`
holds: the contact channels, plus webhooks and internal alerts. Both are `StrEnum`s, so
their members compare equal to, and are stored and serialised as, the same strings.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """A channel that reaches a contact."""

    EMAIL = "email"  #: email over SMTP
    SMS = "sms"  #: text message through an HTTP provider


class MessageChannel(StrEnum):
    """The channel of a message in the outbox."""

    EMAIL = "email"  #: email to a contact, over SMTP
    SMS = "sms"  #: text message to a contact, through an HTTP provider
    WEBHOOK = "webhook"  #: an HTTP call to a CRM or an app
    ALERT_EMAIL = "alert:email"  #: an internal alert to a person, by email
    ALERT_SLACK = "alert:slack"  #: an internal alert to a Slack-compatible webhook

    @property
    def is_alert(self) -> bool:
        """Internal alerts to people in the business (counted by the alert budget)."""
        return self in ALERTS

    @property
    def is_email(self) -> bool:
        """Sent to an email address (a contact's or a person's in the business)."""
        return self in TO_EMAIL_ADDRESSES


#: Internal alerts, which the alert budget counts.
ALERTS = frozenset({MessageChannel.ALERT_EMAIL, MessageChannel.ALERT_SLACK})
#: Channels whose recipient is an email address.
TO_EMAIL_ADDRESSES = frozenset({MessageChannel.EMAIL, MessageChannel.ALERT_EMAIL})


def alert_channel(via: str) -> MessageChannel:
    """The outbox channel of an internal alert sent `via` email or slack."""
    return MessageChannel(f"alert:{via}")
