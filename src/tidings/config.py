"""Settings, read once from TIDINGS_* variables (or a .env file) and passed down."""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tidings.errors import ConfigError


class Settings(BaseSettings):
    """Where Tidings keeps its data and which workspace commands act on."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///tidings.db", description="SQLAlchemy URL of the database")
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
        description="believe X-Forwarded-Proto/-For: set only behind a proxy that sets them",
    )
    smtp_url: str | None = Field(
        None, description="smtp://user:pass@host:587?starttls=1 or smtps://...; unset: no email"
    )
    dkim_selector: str | None = Field(None, description="DKIM selector, with dkim_key_file")
    dkim_key_file: str | None = Field(None, description="PEM private key that signs mail")
    sms_url: str | None = Field(None, description="Twilio-compatible API base URL; unset: no SMS")
    sms_account: str = Field("", description="the SMS account id (Twilio: Account SID)")
    sms_token: str = Field("", description="the SMS auth token; also checks inbound signatures")
    sms_from: str = Field("", description="the number texts come from, in E.164")
    sms_region: str | None = Field(None, description="region for numbers without +, like US")
    webhook_allow: str = Field(
        "", description="comma-separated hosts or networks webhooks may call though private"
    )
    dispatch_batch: int = Field(100, ge=1, le=10_000, description="messages per dispatch round")
    send_lease: int = Field(
        300, ge=5, le=86_400, description="seconds a worker holds a message while sending it"
    )


#: The command-line options that set a setting, for messages that name both.
_OPTIONS = {"database_url": "--database", "workspace": "--workspace"}


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
            lines.append(f"{key} has value {error.get('input')!r}: {error['msg']}")
        raise ConfigError("; ".join(lines)) from None
