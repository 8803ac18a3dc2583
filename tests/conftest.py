"""Fixtures every tier shares: a clean environment and a fixed instant."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import settings

# CI replays the same examples every run, so a red build is reproducible; local runs keep
# exploring new ones (and remember failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _no_tidings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see the developer's TIDINGS_* settings."""
    for key in list(os.environ):
        if key.startswith("TIDINGS_"):
            monkeypatch.delenv(key)
    yield


@pytest.fixture
def now() -> datetime:
    """A fixed Monday noon, UTC."""
    return datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
