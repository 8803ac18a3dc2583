"""The transports the dispatcher sends through, and what it needs of each, so that a
simulation can stand in for the wire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tidings.config import Settings
from tidings.core.channels import MessageChannel
from tidings.delivery.netguard import NetGuard
from tidings.delivery.results import Result, Sent
from tidings.delivery.sms import SmsChannel, SmsConfig
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.delivery.webhooks import Call, HttpChannel


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


@dataclass
class Transports:
    """The transports (mail server, SMS provider, HTTP client) this install sends through;
    a channel whose transport is left unconfigured keeps its messages queued until it is."""

    public_url: str
    http: HttpTransport
    smtp: MailTransport | None = None
    sms: TextTransport | None = None
    sms_region: str | None = None
    dkim: tuple[str, bytes] | None = None  # (selector, private key PEM)

    @classmethod
    def from_settings(cls, settings: Settings) -> Transports:
        """The transports TIDINGS_* variables configure."""
        smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        smtp = SmtpChannel(SmtpConfig.from_url(smtp_url)) if smtp_url else None
        sms = None
        if settings.sms_url:
            sms = SmsChannel(
                SmsConfig(
                    settings.sms_url,
                    settings.sms_account,
                    settings.sms_token.get_secret_value(),
                    settings.sms_from,
                    settings.sms_region,
                )
            )
        dkim = None
        if settings.dkim_selector and settings.dkim_key_file:
            dkim = (settings.dkim_selector, Path(settings.dkim_key_file).read_bytes())
        guard = NetGuard.from_list(settings.webhook_allow.split(","))
        return cls(settings.public_url, HttpChannel(guard), smtp, sms, settings.sms_region, dkim)

    def names(self) -> list[str]:
        """The message channels to claim."""
        found: list[str] = [MessageChannel.WEBHOOK, MessageChannel.ALERT_SLACK]
        if self.smtp is not None:
            found += [MessageChannel.EMAIL, MessageChannel.ALERT_EMAIL]
        if self.sms is not None:
            found.append(MessageChannel.SMS)
        return found

    def close(self) -> None:
        """Close every connection."""
        self.http.close()
        if self.smtp is not None:
            self.smtp.close()
        if self.sms is not None:
            self.sms.close()
