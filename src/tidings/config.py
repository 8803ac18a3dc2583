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
