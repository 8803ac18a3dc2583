"""Fixtures every tier shares: a clean environment and a fixed instant."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest


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
