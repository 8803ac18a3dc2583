"""TIDINGS_DISPATCH_CONCURRENCY: how many sends a worker has in flight, hence how many it
can repeat if killed; read from the environment and given to the dispatcher `serve` builds."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Store
from tidings.cli.server import make_dispatcher
from tidings.config import load_settings
from tidings.errors import ConfigError


def test_the_setting_reaches_the_dispatcher(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_DISPATCH_CONCURRENCY", "3")
    dispatcher = make_dispatcher(load_settings(), store.engine, store.clock, store.catalog)
    try:
        assert dispatcher.concurrency == 3
    finally:
        dispatcher.close()


def test_unset_it_is_eight(store: Store) -> None:
    dispatcher = make_dispatcher(load_settings(), store.engine, store.clock, store.catalog)
    try:
        assert dispatcher.concurrency == 8
    finally:
        dispatcher.close()


@pytest.mark.parametrize("value", ["0", "65", "-1", "many", "2.5"])
def test_a_bad_value_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_DISPATCH_CONCURRENCY", value)
    with pytest.raises(ConfigError, match=rf"TIDINGS_DISPATCH_CONCURRENCY has value '{value}'"):
        load_settings()
