"""Rules for what web pages may send: allowed origins, privileged traits, first touch.

A public key sits in a page's source, where anyone can read it and call /v1 with it. So
what such a call may change is narrower than what a server may: it adds events and plain
traits, may withdraw consent, but never grants consent (forms do that, with proof), and
never sets scores, tags or suppression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tidings.core.problems import Problem

#: An origin as browsers send it: scheme, host, optional port; nothing after.
_ORIGIN = re.compile(
    r"(?P<scheme>https?)://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HOST = re.compile(r"https?://(?:[^@/?#]*@)?([^:/?#]+)")

#: Traits only a server may set: what a profile is scored, tagged or suppressed by.
PRIVILEGED_TRAITS = ("score", "scores", "tags", "suppressed", "suppression", "suppressions")
#: The one consent change a page may make: withdrawing it (an unsubscribe link or toggle).
BROWSER_CONSENT = ("unsubscribed",)

#: Profile attributes the first visit sets, and never a later one (with `source`, unless the
#: profile has one already).
FIRST_TOUCH_KEYS = (
    "first_utm_source",
    "first_utm_medium",
    "first_utm_campaign",
    "first_utm_term",
    "first_utm_content",
    "first_referrer",
    "first_landing_page",
)
#: The trait that carries them to storage, which applies them only to a profile without any.
FIRST_TOUCH_TRAIT = "$first_touch"
#: Longest value kept for each first-touch attribute (a URL with its query).
MAX_TOUCH_LENGTH = 2000


def normalize_origin(value: str) -> str:
    """`value` as the Origin header a browser sends (`https://shop.example`, lowercased,
    without a default port), or ValueError saying what is wrong."""
    text = value.strip().rstrip("/")
    match = _ORIGIN.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{value!r} is not an origin; write the scheme and host (and port, if any) a "
            "browser shows, like https://shop.example or http://127.0.0.1:3000, with no path"
        )
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port is not None and (int(port) > 65535 or port == _DEFAULT_PORTS[scheme]):
        if int(port) > 65535:
            raise ValueError(f"{value!r} has port {port}; ports go up to 65535")
        port = None
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def browser_trait_problems(traits: Mapping[str, Any], path: str) -> list[Problem]:
    """Why traits sent with a public key cannot be accepted; empty when they can."""
    where = f"{path}.traits" if path else "traits"
    problems = [
        Problem(
            f"{where}.{name}",
            f"{name} cannot be set from a web page (a public key); set it from your server "
            "with a write key, or with a workflow's update step",
        )
        for name in PRIVILEGED_TRAITS
        if name in traits
    ]
    consent = traits.get("consent")
    if isinstance(consent, Mapping):
        for channel, status in consent.items():
            if status not in BROWSER_CONSENT:
                problems.append(
                    Problem(
                        f"{where}.consent.{channel}",
                        f"a web page may only withdraw consent ('unsubscribed'), not set "
                        f"{status!r}; consent is given through a Tidings form, which keeps "
                        "its proof",
                    )
                )
    elif consent is not None:
        problems.append(Problem(f"{where}.consent", "consent must be an object"))
    return problems


def first_touch(context: Any) -> dict[str, str]:
    """The first-touch attributes a call's Segment `context` carries (its page and
    campaign); empty when it came from no page."""
    if not isinstance(context, Mapping):
        return {}
    page = context.get("page")
    campaign = context.get("campaign")
    found: dict[str, Any] = {}
    if isinstance(page, Mapping):
        found["first_landing_page"] = page.get("url")
        found["first_referrer"] = page.get("referrer")
    if isinstance(campaign, Mapping):
        for part in ("source", "medium", "term", "content"):
            found[f"first_utm_{part}"] = campaign.get(part)
        # analytics.js names utm_campaign `name`.
        found["first_utm_campaign"] = campaign.get("name", campaign.get("campaign"))
    touch = {
        key: value[:MAX_TOUCH_LENGTH]
        for key, value in found.items()
        if isinstance(value, str) and value.strip()
    }
    if touch:
        # The contact's acquisition source, which the report's value per source reads: the
        # campaign's, else the referring site's host, else direct.
        referrer = _HOST.match(touch.get("first_referrer", ""))
        touch["source"] = touch.get("first_utm_source") or (
            referrer.group(1).lower() if referrer else "direct"
        )
    return touch
