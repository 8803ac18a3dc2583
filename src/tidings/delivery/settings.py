"""A workspace's delivery settings: who its mail is from, its policies, topics and alerts.

Kept as JSON on the workspace and edited through `PUT /api/settings`; validated here so a
bad setting is refused with its path rather than breaking the dispatcher later.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tidings.core.policies import Policies

_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$|^[^@\s<>\"]+@localhost$")


def is_address(value: str) -> bool:
    """A single plain email address: no spaces, brackets, quotes or second address."""
    return bool(_ADDRESS.match(value)) and "," not in value and len(value) <= 320


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(_Model):
    """Who the workspace's email is from, and the postal address the law asks for."""

    from_email: str = Field("hello@example.com", max_length=320)
    from_name: str = Field("", max_length=200)
    reply_to: str | None = Field(None, max_length=320)
    #: Shown in every marketing email's footer (CAN-SPAM, and good manners).
    postal_address: str = Field("", max_length=500)
    #: Signs outgoing mail as this domain; defaults to the domain of `from_email`.
    dkim_domain: str | None = Field(
        None,
        max_length=253,
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*$",
    )

    @field_validator("from_email", "reply_to")
    @classmethod
    def _is_address(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError(f"{value!r} is not an email address like news@shop.example")
        return value

    @field_validator("from_name")
    @classmethod
    def _one_header_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must not contain line breaks: it goes in the From header")
        return value

    @property
    def domain(self) -> str:
        """The sender's domain (for Message-IDs and DKIM)."""
        return self.dkim_domain or self.from_email.rsplit("@", 1)[1]


class Topic(_Model):
    """A subscription group contacts can leave on its own (news, offers, product updates)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    name: str
    description: str = ""


class Alerts(_Model):
    """Where internal alerts to people go."""

    #: A Slack-compatible incoming-webhook URL for `notify` steps on the slack channel.
    slack_webhook_url: str | None = Field(None, pattern=r"^https?://")


class DeliverySettings(_Model):
    """Everything a workspace decides about how its messages go out."""

    sender: Sender = Sender()
    policies: Policies = Policies()
    topics: tuple[Topic, ...] = ()
    alerts: Alerts = Alerts()
