"""Settings, read once from TIDINGS_* variables (or a .env file) and passed down."""

from __future__ import annotations

import re
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tidings.errors import ConfigError

#: Hits per client address on the link routes (/t, /u, /p, /confirm): a person clicks far
#: fewer, but mail providers' image proxies fetch open pixels for many people from one address.
DEFAULT_LINK_RATE = "120/minute"
#: Hits per client address on the inbound SMS webhook, which a provider calls from few addresses.
DEFAULT_SMS_RATE = "600/minute"
#: Calls a public key (web pages) may make, in all, and from one client address.
DEFAULT_BROWSER_KEY_RATE = "3000/minute"
DEFAULT_BROWSER_ADDRESS_RATE = "120/minute;2000/hour"
#: Form views and submissions per client address (an office shares one address).
DEFAULT_FORM_RATE = "30/minute;500/hour"


class Settings(BaseSettings):
    """Where Tidings keeps its data and which workspace commands act on."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_", env_file=".env", extra="ignore")

    # Secrets are SecretStr: repr, str and logs show ********; get_secret_value() where used.
    database_url: SecretStr = Field(
        SecretStr("sqlite:///tidings.db"),
        description="SQLAlchemy URL of the database (postgres:// and postgresql:// accepted)",
    )
    workspace: str = Field(
        "default",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        description="the workspace commands act on",
    )
    scheduler_batch: int = Field(500, ge=1, le=10_000, description="enrollments per transaction")
    public_url: str = Field(
        "http://localhost:8000",
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="the address people reach this server at: links in messages point here",
    )
    trust_proxy: bool = Field(
        False,
        description="believe X-Forwarded-Proto and the last X-Forwarded-For entry: set only "
        "behind a proxy that sets them",
    )
    smtp_url: SecretStr | None = Field(
        None, description="smtp://user:pass@host:587?starttls=1 or smtps://...; unset: no email"
    )
    dkim_selector: str | None = Field(None, description="DKIM selector, with dkim_key_file")
    dkim_key_file: str | None = Field(None, description="PEM private key that signs mail")
    sms_url: str | None = Field(None, description="Twilio-compatible API base URL; unset: no SMS")
    sms_account: str = Field("", description="the SMS account id (Twilio: Account SID)")
    sms_token: SecretStr = Field(
        SecretStr(""), description="the SMS auth token; also checks inbound signatures"
    )
    secret_key: SecretStr | None = Field(
        None,
        description="keys the suppression list's hashes from outside the database; unset: "
        "the key is each workspace's secret, stored in the database",
    )
    sms_from: str = Field("", description="the number texts come from, in E.164")
    sms_region: str | None = Field(None, description="region for numbers without +, like US")
    webhook_allow: str = Field(
        "", description="comma-separated hosts or networks webhooks may call though private"
    )
    render_seconds: float = Field(
        0.1,
        gt=0,
        le=60,
        description="CPU seconds one template render may take; a render past it holds its "
        "message with the reason",
    )
    ingest_journey_seconds: float = Field(
        0.5,
        ge=0,
        le=60,
        description="seconds the journeys of one ingest batch may run before the rest are "
        "left due for the scheduler (0: the scheduler runs them all)",
    )
    dispatch_batch: int = Field(100, ge=1, le=10_000, description="messages per dispatch round")
    dispatch_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description="messages sent at once; also the most a killed worker can send twice",
    )
    send_lease: int = Field(
        300, ge=5, le=86_400, description="seconds a worker holds a message while sending it"
    )
    link_rate_limit: str = Field(
        DEFAULT_LINK_RATE,
        description="hits per client address on the link routes (/t, /u, /p, /confirm)",
    )
    sms_rate_limit: str = Field(
        DEFAULT_SMS_RATE, description="hits per client address on the inbound SMS webhook"
    )

    browser_key_rate_limit: str = Field(
        DEFAULT_BROWSER_KEY_RATE, description="calls to /v1 per public key (from web pages)"
    )
    browser_address_rate_limit: str = Field(
        DEFAULT_BROWSER_ADDRESS_RATE,
        description="calls to /v1 with a public key per client address",
    )

    form_rate_limit: str = Field(
        DEFAULT_FORM_RATE, description="hosted form views and submissions per client address"
    )

    @field_validator(
        "link_rate_limit",
        "sms_rate_limit",
        "browser_key_rate_limit",
        "browser_address_rate_limit",
        "form_rate_limit",
    )
    @classmethod
    def _is_rate(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("write COUNT/PERIOD, like 120/minute or 10/second;300/hour") from None
        return value

    migrate: Literal["auto", "check"] = Field(
        "auto",
        description="auto: commands bring the schema up to date on start; check: they refuse "
        "an out-of-date schema and `tidings migrate` does it",
    )
    log_format: Literal["logfmt", "json", "text"] = Field(
        "logfmt", description="serve and worker logs: logfmt or text for people, json for tools"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="the least severe log records shown"
    )

    @field_validator("migrate", "log_format", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    def secret_key_value(self) -> str | None:
        """TIDINGS_SECRET_KEY in clear, or None when unset."""
        return self.secret_key.get_secret_value() if self.secret_key is not None else None

    def secret_values(self) -> list[str]:
        """Every configured secret in clear, for the log filter that hides them."""
        found = [self.sms_token.get_secret_value()]
        if self.secret_key is not None:
            found.append(self.secret_key.get_secret_value())
        # Of a URL only its password is secret; the host stays readable in messages.
        for url in (self.smtp_url, self.database_url):
            if url is not None:
                found += url_passwords(url.get_secret_value())
        return [value for value in found if value]


#: The command-line options that set a setting, for messages that name both.
_OPTIONS = {"database_url": "--database", "workspace": "--workspace"}
_SECRETS = {"database_url", "smtp_url", "sms_token", "secret_key"}

#: The password in a URL such as smtp://user:PASSWORD@host (the second group).
URL_PASSWORD = re.compile(r"(://[^/@\s:]*:)([^/@\s]+)(@)")


def url_passwords(text: str) -> list[str]:
    """The passwords written in URLs inside `text`."""
    return [match.group(2) for match in URL_PASSWORD.finditer(text)]


def load_settings(**overrides: object) -> Settings:
    """Build the settings, naming the variable and value when one is wrong."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0])
            option = _OPTIONS.get(name)
            key = f"TIDINGS_{name.upper()}" + (f" ({option})" if option else "")
            shown = "(hidden)" if name in _SECRETS else repr(error.get("input"))
            lines.append(f"{key} has value {shown}: {error['msg']}")
        raise ConfigError("; ".join(lines)) from None
