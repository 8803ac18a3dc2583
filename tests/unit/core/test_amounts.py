"""Amounts (goal revenue) read from event properties: finite numbers or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tidings.core.react import as_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12.0),
        (12.5, 12.5),
        ("80", 80.0),
        (" 19.90 ", 19.9),
        # Text that float() reads as no finite number: a report could not hold the sum.
        ("NaN", None),
        ("nan", None),
        ("Infinity", None),
        ("-inf", None),
        ("1e400", None),
        ("9" * 400, None),
        # An integer too large for a float, as an old row may hold.
        (10**400, None),
        (float("nan"), None),
        # Not amounts at all.
        (True, None),
        ("twelve", None),
        (None, None),
        ([1], None),
    ],
)
def test_only_finite_numbers_are_amounts(value: Any, expected: float | None) -> None:
    assert as_number(value) == expected
