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

TidingsError and ConditionSyntaxError live in tidings.core.errors and are re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# The core owns the root and its own error, so that it imports nothing from the shell.
from tidings.core.errors import ConditionSyntaxError, TidingsError

if TYPE_CHECKING:
    from tidings.core.problems import Problem


class SpecInvalid(TidingsError):
    """The workflow specification (or segment, or import) has problems."""

    def __init__(self, source: str, problems: list[Problem], kind: str = "workflow") -> None:
        self.source = source
        self.problems = problems
        self.kind = kind
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


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


__all__ = [
    "ConditionSyntaxError",
    "ConfigError",
    "ContactNotFound",
    "NotFound",
    "SegmentNotFound",
    "SpecInvalid",
    "StorageUnavailable",
    "TidingsError",
    "WorkflowNotFound",
]
