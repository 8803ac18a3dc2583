"""A workspace's delivery settings: who its mail is from, its policies, topics and alerts.

Kept as JSON on the workspace and edited through `PUT /api/settings`; validated here so a
bad setting is refused with its path rather than breaking the dispatcher later.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, field_validator

from tidings.cleaning import Unclean, clean_timezone
from tidings.core.capture import normalize_origin
from tidings.core.model import StrictModel
from tidings.core.policies import Policies
from tidings.core.problems import Problem

#: Longest address SMTP can carry (RFC 5321's path limit, less the angle brackets).
MAX_ADDRESS = 254


@lru_cache(maxsize=8192)
def address_problem(value: str) -> str | None:
    """Why `value` cannot be used as one email address in a header and the SMTP envelope,
    or None when it can. Checked for form only (email-validator without DNS); the answer
    depends on the text alone, and the dispatcher asks it of every email it composes."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        return "contains a line break or another control character"
    if not value or value != value.strip() or any(c.isspace() for c in value):
        return "contains spaces"
    if len(value) > MAX_ADDRESS:
        return f"is longer than {MAX_ADDRESS} characters"
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return "is not an email address like news@shop.example"
    if not local.isascii():
        # Such a mailbox is only reachable through servers that speak SMTPUTF8, which
        # Tidings does not ask for: refused here rather than mangled in the headers.
        return "has non-ASCII characters before the @, which Tidings cannot send to"
    try:
        # The local part's form, on a neutral domain: the domain is checked as a host name
        # below, so a development or internal one (localhost, shop.test) is accepted.
        validate_email(f"{local}@example.com", check_deliverability=False)
    except EmailNotValidError as exc:
        return f"is not an email address like news@shop.example: {exc}"
    if _HOST.fullmatch(_ascii_domain(domain)) is None:
        return "has a domain that is not a host name, like shop.example"
    return None


#: A host name in ASCII: dot-separated labels of letters, digits and inner hyphens.
_HOST = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


def _ascii_domain(domain: str) -> str:
    """An internationalised domain in its IDNA (xn--) form; '' when it has none."""
    if domain.isascii():
        return domain
    try:
        # email-validator applies IDNA 2008, as mail servers do.
        checked = validate_email(f"a@{domain}", check_deliverability=False)
        return checked.ascii_domain
    except EmailNotValidError:
        try:
            return domain.encode("idna").decode("ascii")
        except UnicodeError:
            return ""


def is_address(value: str) -> bool:
    """A single plain email address that can go in a header and the SMTP envelope."""
    return address_problem(value) is None


def ascii_address(value: str) -> str:
    """The address as SMTP and headers carry it: an internationalised domain in its
    ASCII (IDNA) form. Only for addresses `is_address` accepts."""
    local, _, domain = value.rpartition("@")
    return value if domain.isascii() else f"{local}@{_ascii_domain(domain) or domain}"


class Sender(StrictModel):
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
        problem = address_problem(value) if value is not None else None
        if problem is not None:
            raise ValueError(f"{value!r} {problem}")
        return value

    @field_validator("from_name")
    @classmethod
    def _one_header_line(cls, value: str) -> str:
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError(
                "must not contain line breaks or control characters: it goes in the From header"
            )
        return value

    @property
    def domain(self) -> str:
        """The sender's domain (for Message-IDs and DKIM)."""
        return self.dkim_domain or self.from_email.rsplit("@", 1)[1]


class Topic(StrictModel):
    """A subscription group contacts can leave on its own (news, offers, product updates)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    name: str
    description: str = ""


class Alerts(StrictModel):
    """Where internal alerts to people go."""

    #: A Slack-compatible incoming-webhook URL for `notify` steps on the slack channel.
    slack_webhook_url: str | None = Field(None, pattern=r"^https?://")


class DeliverySettings(StrictModel):
    """Everything a workspace decides about how its messages go out."""

    sender: Sender = Sender()
    policies: Policies = Policies()
    topics: tuple[Topic, ...] = ()
    alerts: Alerts = Alerts()
    #: Email consent ticked in the preference center stays pending until the person
    #: follows the confirmation link sent to the address (double opt-in).
    double_opt_in: bool = False
    #: Web pages that may send events with a public key, and where forms may redirect to,
    #: as origins (`https://shop.example`); a browser call from any other is refused.
    allowed_origins: tuple[str, ...] = Field((), max_length=100)

    @field_validator("allowed_origins")
    @classmethod
    def _are_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normalize_origin(origin) for origin in value))


#: Settings that are credentials (whoever has the URL can post to the channel): reading
#: them (`tidings settings show`, `GET /api/settings`) shows only their scheme and host.
CREDENTIALS = (("alerts", "slack_webhook_url"),)
HIDDEN = "********"


def _masked(value: str) -> str:
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}/{HIDDEN}"


def mask_credentials(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings with each credential shown as its scheme and host only."""
    shown = {k: dict(v) if isinstance(v, dict) else v for k, v in settings.items()}
    for section, name in CREDENTIALS:
        part = shown.get(section)
        if isinstance(part, dict) and isinstance(part.get(name), str):
            part[name] = _masked(part[name])
    return shown


def keep_masked(new: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """A credential still masked as it was shown keeps its stored value, so what was
    read can be edited and written back."""
    for section, name in CREDENTIALS:
        part, old = new.get(section), stored.get(section)
        if not (isinstance(part, dict) and isinstance(old, dict)):
            continue
        value, kept = part.get(name), old.get(name)
        if isinstance(value, str) and isinstance(kept, str) and value == _masked(kept):
            part[name] = kept
    return new


def with_known_timezone(settings: DeliverySettings) -> tuple[DeliverySettings, list[Problem]]:
    """`settings` with the workspace timezone in its proper IANA case, or the problem with
    it. Checked here, when settings are written, and not by the model: whether a name is a
    zone depends on the tz database this machine has (I/O the core does not do), and the
    core falls back to UTC for a name it cannot load, so an unknown one would silently make
    the alert budget's day and the default local time UTC's."""
    name = settings.policies.timezone
    try:
        proper = clean_timezone(name)
    except Unclean:
        why = f"{name!r} is not an IANA timezone" if name.strip() else "the timezone is empty"
        return settings, [Problem("policies.timezone", why, 'use a name like "Europe/Paris"')]
    policies = settings.policies.model_copy(update={"timezone": proper})
    return settings.model_copy(update={"policies": policies}), []
