"""What every step's meaning check receives: the shared checks of `core.validate`.

A step's check reads the raw document (the step may not have passed its model), so it is
given the step as a mapping and reports through `MeaningChecks.add`; the conditions,
fields and templates it finds are checked by the shared machinery, against the schema.
This module imports nothing of `validate`, so the steps' checks and `validate` (which
calls them) import one way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tidings.core.schema import Schema


class MeaningChecks(Protocol):
    """The checks every step may use, and where their problems go."""

    @property
    def data(self) -> Mapping[str, Any]:
        """The whole workflow document, as written."""

    @property
    def schema(self) -> Schema:
        """The workspace's schema (with a form trigger's own fields)."""

    @property
    def trigger_event(self) -> str | None:
        """The event that starts the journey (`event.*` and `trigger.*`), if it is one."""

    @property
    def known_workflows(self) -> frozenset[str] | None:
        """The workspace's workflows, when known, for the steps that name one."""

    def add(self, path: str, message: str, hint: str = "", severity: str = "error") -> None:
        """Record a problem at `path`."""

    def event_name(self, path: str, name: str) -> None:
        """An event the schema knows."""

    def contact_field(self, path: str, name: str, shown: str = "") -> None:
        """A contact field the schema knows."""

    def condition(self, path: str, text: str, event: str | None) -> None:
        """A condition's syntax, fields and rules on the past; `event.*` reads `event`."""

    def moment(self, path: str, text: str) -> None:
        """A wait's `at`: the field it is anchored on."""

    def liquid(self, path: str, source: str, event: str | None) -> None:
        """A Liquid template's syntax, limits and variables."""


#: A step type's meaning checks: the shared checks, the step's path, the step as written.
StepCheck = Callable[[MeaningChecks, str, Mapping[str, Any]], None]


def as_list(value: Any) -> list[Any]:
    """`value` if the document has a list there, else an empty one."""
    return value if isinstance(value, list) else []


def as_map(value: Any) -> Mapping[str, Any]:
    """`value` if the document has a mapping there, else an empty one."""
    return value if isinstance(value, Mapping) else {}
