"""Durations as written in workflow files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.core.duration import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 1h 30m ", timedelta(hours=1, minutes=30)),
    ],
)
def test_reads_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3 days", "3", "h", "-1h", "1.5h", "0m", "", "1y"])
def test_rejects_what_is_not_a_duration_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"like 30m, 1h, 3d or 2w|is zero"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**8))
def test_format_reads_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta
