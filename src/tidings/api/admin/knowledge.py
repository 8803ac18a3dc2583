"""What the validator may know of a workspace when it checks a workflow for it.

Every place that checks a workflow before it is stored (the API's deploy, the builder's live
validation, drafts and publish) checks it against the same knowledge, so a problem the
builder does not show is never the one that refuses the publish: an `enroll` names one of
the workspace's workflows (or the workflow itself), a form trigger one of its forms and that
form's fields, and a behaviour rule's event is among the events received lately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from tidings.core.problems import Problem
from tidings.core.spec import Workflow
from tidings.core.validate import validate_workflow
from tidings.storage.events import recent_event_names
from tidings.storage.forms import form_fields
from tidings.storage.workflows import list_workflows


@dataclass(frozen=True)
class Knowledge:
    """A workspace's workflows, forms with their fields, and recent event names."""

    workflows: frozenset[str]
    forms: Mapping[str, frozenset[str]]
    seen_events: frozenset[str]

    def validate(self, document: Any) -> tuple[Workflow | None, list[Problem]]:
        """The validator's verdict on `document` for this workspace."""
        own = document.get("id") if isinstance(document, Mapping) else None
        # A workflow may enroll into itself (a new order restarts its own journey).
        known = self.workflows | {own} if isinstance(own, str) else self.workflows
        return validate_workflow(
            document, known_workflows=known, known_forms=self.forms, seen_events=self.seen_events
        )


def workspace_knowledge(conn: Connection, workspace_id: int) -> Knowledge:
    """What the validator may know of the workspace, read in three small queries."""
    return Knowledge(
        workflows=frozenset(w.key for w in list_workflows(conn, workspace_id)),
        forms=form_fields(conn, workspace_id),
        seen_events=recent_event_names(conn, workspace_id),
    )
