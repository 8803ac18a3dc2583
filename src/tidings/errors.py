"""Every error Tidings raises on purpose.

TidingsError
├── SpecInvalid            a workflow file has problems (each with a path and a fix)
├── ConditionSyntaxError   a condition does not parse
├── ConfigError            a TIDINGS_* setting has a bad value
├── NotFound
│   ├── WorkflowNotFound
│   ├── ContactNotFound
│   └── SegmentNotFound
└── StorageUnavailable     the database cannot be reached or migrated
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidings.core.problems import Problem


class TidingsError(Exception):
    """Something went wrong in Tidings."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class SpecInvalid(TidingsError):
    """The workflow specification (or segment, or import) has problems."""

    def __init__(self, source: str, problems: list[Problem], kind: str = "workflow") -> None:
        self.source = source
        self.problems = problems
        self.kind = kind
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class ConditionSyntaxError(TidingsError):
    """A condition could not be parsed."""

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.reason = message
        pointer = " " * position + "^"
        super().__init__(f"{message} at column {position + 1}\n    {text}\n    {pointer}")


class ConfigError(TidingsError):
    """A setting has a value Tidings cannot use."""


class NotFound(TidingsError):
    """The thing asked for does not exist."""


class WorkflowNotFound(NotFound):
    """No workflow with that key exists in this workspace."""


class ContactNotFound(NotFound):
    """No contact with that id exists in this workspace."""


class SegmentNotFound(NotFound):
    """No segment with that key exists in this workspace."""


class StorageUnavailable(TidingsError):
    """The database could not be reached."""
