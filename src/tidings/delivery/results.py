"""What a channel says about one message it was given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Bounce(StrEnum):
    """What a failed delivery report says about the address."""

    HARD = "hard"  #: the address does not exist: suppressed
    SOFT = "soft"  #: a full mailbox, a server down: recorded, nothing else
    COMPLAINT = "complaint"  #: marked as spam: suppressed and unsubscribed


@dataclass(frozen=True)
class Sent:
    """The channel accepted the message."""

    provider_id: str | None = None


@dataclass(frozen=True)
class Failed:
    """The channel did not take the message.

    `permanent` failures are not retried. `bounce` marks a recipient that does not exist
    (the address goes on the suppression list); `gone` marks an endpoint that answered
    410 (it is disabled).
    """

    error: str
    permanent: bool = False
    bounce: bool = False
    gone: bool = False


Result = Sent | Failed
