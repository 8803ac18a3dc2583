"""What the dispatcher needs of each channel, so a simulation can stand in for the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tidings.delivery.results import Result, Sent
from tidings.delivery.webhooks import Call


class MailTransport(Protocol):
    """Hands raw messages to a mail server."""

    def send(self, sender: str, recipient: str, raw: bytes) -> Result: ...

    def close(self) -> None: ...


class TextTransport(Protocol):
    """Sends text messages to E.164 numbers."""

    def send(self, to: str, body: str) -> Result: ...

    def close(self) -> None: ...


class HttpTransport(Protocol):
    """Makes webhook calls and Slack-compatible alerts."""

    def webhook(self, call: Call, secret: str, webhook_id: str, now: datetime) -> Result: ...

    def slack(self, url: str, text: str, channel: str | None) -> Result: ...

    def close(self) -> None: ...


class Recorder:
    """Accepts everything and keeps a count: the simulator's channels, which must never
    reach a real person or endpoint."""

    def __init__(self) -> None:
        self.count = 0

    def _took(self) -> Result:
        self.count += 1
        return Sent()

    def send(self, *_args: object) -> Result:
        """Mail or text."""
        return self._took()

    def webhook(self, call: Call, secret: str, webhook_id: str, now: datetime) -> Result:
        """A webhook call, not made."""
        return self._took()

    def slack(self, url: str, text: str, channel: str | None) -> Result:
        """An alert, not posted."""
        return self._took()

    def close(self) -> None:
        """Nothing to close."""
