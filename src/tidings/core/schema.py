"""What a workspace's contacts and events carry, so validation can catch misspelt fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tidings.core.problems import Problem
from tidings.core.state import STANDARD_CONTACT_FIELDS


@dataclass(frozen=True)
class Schema:
    """The contact attributes, events and their properties, and consent a workspace knows.

    An empty `events` mapping means events are not described, and event names and
    properties go unchecked; likewise `contact` for custom attributes when `strict` is off.
    """

    contact: frozenset[str] = frozenset()
    events: Mapping[str, frozenset[str]] = field(default_factory=dict)
    consent: frozenset[str] = frozenset({"email", "sms"})
    topics: frozenset[str] = frozenset()
    strict: bool = True

    @property
    def contact_fields(self) -> frozenset[str]:
        """Every name `contact.*` may use."""
        return STANDARD_CONTACT_FIELDS | self.contact


#: The schema used when a workspace describes nothing: only standard fields are certain.
OPEN_SCHEMA = Schema(strict=False)


def schema_from_mapping(data: Any, source: str = "schema") -> tuple[Schema, list[Problem]]:
    """Read a schema document: `contact:`, `events:`, `consent:` and `topics:`."""
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        return OPEN_SCHEMA, [Problem(source, "a schema is a mapping with contact: and events:")]
    unknown = set(data) - {"contact", "events", "consent", "topics"}
    for key in sorted(unknown):
        problems.append(
            Problem(f"{source}.{key}", "unknown section", "use contact, events, consent or topics")
        )

    def names(value: Any, path: str) -> frozenset[str]:
        if value is None:
            return frozenset()
        if isinstance(value, Mapping):
            return frozenset(str(k) for k in value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return frozenset(value)
        problems.append(Problem(path, "expected a list of names or a mapping of name: type"))
        return frozenset()

    events_raw = data.get("events") or {}
    events: dict[str, frozenset[str]] = {}
    if isinstance(events_raw, Mapping):
        for name, props in events_raw.items():
            events[str(name)] = names(props, f"{source}.events.{name}")
    else:
        problems.append(
            Problem(f"{source}.events", "expected a mapping of event name to properties")
        )
    schema = Schema(
        contact=names(data.get("contact"), f"{source}.contact"),
        events=events,
        consent=names(data.get("consent"), f"{source}.consent") or frozenset({"email", "sms"}),
        topics=names(data.get("topics"), f"{source}.topics"),
    )
    return schema, problems
