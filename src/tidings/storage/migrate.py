"""Bring a database's schema up to date with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

_HERE = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """The Alembic configuration for Tidings' migrations, with no ini file needed."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (idempotent)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
