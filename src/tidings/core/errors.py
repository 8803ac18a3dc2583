"""The errors the core raises, and the root of every error Tidings raises on purpose.

They live here, not in `tidings.errors`, so that the core imports nothing from the shell;
`tidings.errors` re-exports them beside the shell's own errors (its docstring draws the tree).
"""

from __future__ import annotations


class TidingsError(Exception):
    """Something went wrong in Tidings."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConditionSyntaxError(TidingsError):
    """A condition could not be parsed."""

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.reason = message
        pointer = " " * position + "^"
        super().__init__(f"{message} at column {position + 1}\n    {text}\n    {pointer}")
