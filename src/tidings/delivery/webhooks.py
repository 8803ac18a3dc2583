"""Outgoing HTTP calls: webhooks to CRMs and shops, and Slack-compatible alerts.

Webhooks are signed per the Standard Webhooks convention: `webhook-id` (the same on every
retry of one message, so a receiver can drop repeats), `webhook-timestamp`, and
`webhook-signature`: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed by the
workspace's secret. Redirects are never followed: a receiver cannot bounce the call to
an address the guard refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from tidings.delivery.netguard import NetGuard, UrlRefused
from tidings.delivery.results import Failed, Result, Sent

USER_AGENT = "Tidings-Webhooks/1"


def webhook_secret(workspace_secret: str) -> str:
    """The workspace's signing secret in Standard Webhooks form (`whsec_` + base64 key)."""
    key = hmac.new(workspace_secret.encode(), b"tidings webhooks", hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(key).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for a call."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Call:
    """One HTTP call to make."""

    url: str
    method: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpChannel:
    """Makes guarded calls with a timeout and sorts the answers into sent, retry or give up."""

    guard: NetGuard
    timeout: float = 10.0
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
        )

    def webhook(self, call: Call, secret: str, webhook_id: str, now: datetime) -> Result:
        """A signed webhook call."""
        timestamp = int(now.timestamp())
        headers = {
            "content-type": "application/json",
            **_lowercase(call.headers),
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, call.body),
        }
        return self.call(Call(call.url, call.method, call.body, headers))

    def slack(self, url: str, text: str, channel: str | None) -> Result:
        """An alert through a Slack-compatible incoming webhook."""
        payload: dict[str, str] = {"text": text}
        if channel:
            payload["channel"] = channel
        body = json.dumps(payload).encode()
        return self.call(Call(url, "POST", body, {"content-type": "application/json"}))

    def call(self, call: Call) -> Result:
        """Check the address, make the call, and classify the answer."""
        try:
            target = self.guard.check(call.url)
        except UrlRefused as exc:
            return Failed(f"refused to call {call.url}: {exc}", permanent=True)
        headers = {**_lowercase(call.headers), "host": _host_header(call.url)}
        extensions = {"sni_hostname": target.host} if call.url.startswith("https:") else {}
        try:
            response = self.client.request(
                call.method, target.url, content=call.body, headers=headers, extensions=extensions
            )
        except httpx.TimeoutException:
            return Failed(f"no answer from {call.url} within {self.timeout:g}s")
        except httpx.HTTPError as exc:
            return Failed(f"cannot reach {call.url}: {exc}")
        return classify(response)

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()


def classify(response: httpx.Response) -> Result:
    """2xx sent; 410 gone; 408, 429 and 5xx retried; redirects and other 4xx given up."""
    status = response.status_code
    if 200 <= status < 300:
        return Sent(response.headers.get("x-request-id"))
    brief = f"HTTP {status}: {response.text[:200]}".strip()
    if status == 410:
        return Failed(brief, permanent=True, gone=True)
    if 300 <= status < 400:
        where = response.headers.get("location", "?")
        return Failed(f"HTTP {status} redirect to {where}: redirects are not followed", True)
    if status in (408, 425, 429) or status >= 500:
        return Failed(brief)
    return Failed(brief, permanent=True)


def _lowercase(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names in lowercase, so that a step's `Content-Type` replaces our default
    `content-type` instead of going out beside it (names are case-insensitive on the wire,
    dict keys are not)."""
    return {name.lower(): value for name, value in headers.items()}


def _host_header(url: str) -> str:
    return httpx.URL(url).netloc.decode()
