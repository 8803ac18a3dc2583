"""Small builders shared by tests: workflows from YAML text, contacts, events."""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any

import yaml

from tidings.core import ContactView, EventView, Workflow, validate_workflow
from tidings.core.schema import OPEN_SCHEMA, Schema


def workflow(text: str, schema: Schema = OPEN_SCHEMA) -> Workflow:
    """A workflow from YAML, which must validate without errors."""
    spec, problems = validate_workflow(yaml.safe_load(textwrap.dedent(text)), schema)
    errors = [p for p in problems if p.severity == "error"]
    assert spec is not None and not errors, [str(p) for p in errors]
    return spec


def problems_of(
    text: str, schema: Schema = OPEN_SCHEMA, known: frozenset[str] | None = None
) -> list[str]:
    """Every problem validation finds, as printed."""
    _, problems = validate_workflow(yaml.safe_load(textwrap.dedent(text)), schema, known)
    return [str(p) for p in problems]


def contact(cid: int = 1, **fields: Any) -> ContactView:
    """A subscribed contact with an email address unless told otherwise."""
    defaults: dict[str, Any] = {
        "email": f"c{cid}@example.com",
        "consent": {"email": "subscribed"},
        "timezone": "UTC",
    }
    defaults.update(fields)
    return ContactView(id=cid, **defaults)


def event(name: str, at: datetime, eid: int = 1, **properties: Any) -> EventView:
    """An event with properties."""
    return EventView(name=name, properties=properties, occurred_at=at, id=eid)
