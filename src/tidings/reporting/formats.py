"""How report figures read, the same in the terminal and on the page."""

from __future__ import annotations


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal; a dash when there is none."""
    return "-" if value is None else f"{value:.1%}"


def money(value: float | None) -> str:
    """An amount with thousands separators and cents; a dash when there is none."""
    return "-" if value is None else f"{value:,.2f}"
