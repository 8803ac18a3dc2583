"""SMS through a Twilio-compatible HTTP API."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from tidings.delivery.results import Failed, Result, Sent

#: Provider error codes that mean the number can never receive this message.
_UNREACHABLE_CODES = {21211, 21214, 21217, 21407, 21408, 21610, 21612, 21614}

#: Replies that withdraw or give back SMS consent (the carriers' standard keywords).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})


@dataclass(frozen=True)
class SmsConfig:
    """The provider's API base URL and the account's credentials and sending number."""

    base_url: str
    account_sid: str
    auth_token: str
    from_number: str
    region: str | None = None
    timeout: float = 10.0


@dataclass
class SmsChannel:
    """Posts to `{base}/2010-04-01/Accounts/{sid}/Messages.json` as Twilio's API takes it."""

    config: SmsConfig
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self.client = httpx.Client(
            base_url=c.base_url.rstrip("/"),
            auth=(c.account_sid, c.auth_token),
            timeout=c.timeout,
            follow_redirects=False,
        )

    def send(self, to: str, body: str) -> Result:
        """Send one text; `to` is already E.164."""
        path = f"/2010-04-01/Accounts/{self.config.account_sid}/Messages.json"
        try:
            response = self.client.post(
                path, data={"To": to, "From": self.config.from_number, "Body": body}
            )
        except httpx.TimeoutException:
            return Failed(f"no answer from the SMS provider within {self.config.timeout:g}s")
        except httpx.HTTPError as exc:
            return Failed(f"cannot reach the SMS provider: {exc}")
        if response.status_code in (200, 201):
            sid = _json(response).get("sid")
            return Sent(str(sid) if sid is not None else None)
        found = _json(response)
        detail = (
            f"SMS provider HTTP {response.status_code}: {found.get('message', response.text[:200])}"
        )
        if found.get("code") in _UNREACHABLE_CODES:
            return Failed(detail, permanent=True, bounce=True)
        if response.status_code == 429 or response.status_code >= 500:
            return Failed(detail)
        return Failed(detail, permanent=response.status_code not in (401, 403))

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature of an inbound request: HMAC-SHA1 of the URL followed by each
    parameter's name and value in name order, base64."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
