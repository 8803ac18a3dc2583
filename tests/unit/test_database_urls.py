"""Database URLs as users write them: postgres:// and postgresql://, with or without psycopg."""

from __future__ import annotations

import sys

import pytest

from tidings.errors import ConfigError
from tidings.storage.engine import create_engine, mask_url, normalise_url


@pytest.mark.parametrize(
    ("written", "used"),
    [
        # Heroku's and libpq's spelling
        ("postgres://u:p@db:5432/x", "postgresql+psycopg://u:p@db:5432/x"),
        # SQLAlchemy's driverless spelling, which would pick psycopg2
        ("postgresql://u@db/x", "postgresql+psycopg://u@db/x"),
        # a driver named already is left alone
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:///tidings.db", "sqlite:///tidings.db"),
    ],
)
def test_postgres_urls_map_to_psycopg(written: str, used: str) -> None:
    assert normalise_url(written) == used


def test_an_engine_for_a_postgres_url_uses_psycopg() -> None:
    engine = create_engine("postgres://u:p@127.0.0.1:1/x")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_masked_urls_keep_everything_but_the_password() -> None:
    assert mask_url("postgres://u:s3cret@db/x") == "postgres://u:***@db/x"


def test_a_postgres_url_without_the_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes `import psycopg` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"pip install 'tidings\[postgres\]'") as caught:
        create_engine("postgresql://u:s3cret@db/x")
    assert "s3cret" not in str(caught.value)


def test_a_url_that_is_no_url_is_a_setting_error() -> None:
    with pytest.raises(ConfigError, match="TIDINGS_DATABASE_URL"):
        create_engine("tidings.db")


@pytest.mark.parametrize(
    "url", ["mysql://u:s3cret@db/x", "postgresql+psycopg2://u:s3cret@db/x", "oracle://db/x"]
)
def test_a_database_tidings_cannot_use_is_a_setting_error_naming_the_two_it_can(
    url: str,
) -> None:
    # Not a missing module or a failing statement later on.
    with pytest.raises(ConfigError, match="not a database Tidings can use") as caught:
        create_engine(url)
    assert "sqlite:///FILE or postgresql://" in str(caught.value)
    assert "s3cret" not in str(caught.value)
